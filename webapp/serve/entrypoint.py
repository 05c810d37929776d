"""Container entrypoint: `python -m webapp.serve.entrypoint web|worker|cron [ARGS...]`, or any command.

- web: wait for the database, apply migrations (one replica at a time), then exec gunicorn.
- worker: wait until the database is at the migration head and Redis answers, then exec worker.py.
- cron: wait for Redis, then exec webapp.jobs.cron (RQ's cron scheduler, JSON logs) with the schedule
  module (RQ_CRON_CONFIG).
- anything else (`flask seed`, `sh`) is exec'd as given.
Waiting gives up after WAIT_TIMEOUT seconds (default 120) with exit status 1.
"""
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATION_LOCK_KEY = 7_469_636_107  # pg_advisory_lock key: one replica migrates, the others wait
log = logging.getLogger("webapp.serve.entrypoint")


class NotReady(Exception):
    """A dependency did not come up before the deadline."""


def wait_for(probe, what: str, deadline: float, interval: float = 1.0) -> None:
    """Call `probe()` until its result has ok=True; log progress; raise NotReady at the deadline."""
    attempt = 0
    while True:
        result = probe()
        if result["ok"]:
            if attempt:
                log.info("%s is ready", what)
            return
        attempt += 1
        if time.monotonic() >= deadline:
            raise NotReady(f"{what}: {result.get('error', 'not ready')}")
        if attempt == 1 or attempt % 10 == 0:
            log.info("waiting for %s: %s", what, result.get("error", "not ready"))
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.05)))


def migrate(engine) -> None:
    """`flask db upgrade`, serialised across replicas by a PostgreSQL advisory lock."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    if engine.dialect.name != "postgresql":
        upgrade()
    else:
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                upgrade()
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                lock.commit()
    _restore_logging()


def _restore_logging() -> None:
    """Alembic's env.py re-configures logging from alembic.ini; put ours back."""
    from webapp.ops.logs import configure_from_env

    configure_from_env()
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False


def _app():
    from webapp import create_app

    return create_app()


def _redis_url(app) -> str:
    url = app.config.get("REDIS_URL")
    if not url:
        raise NotReady("REDIS_URL is not set: the worker and cron processes need Redis")
    return url


def run_web(args: list[str], deadline: float) -> list[str]:
    from webapp.extensions import db
    from webapp.ops.checks import check_database

    app = _app()
    with app.app_context():
        wait_for(lambda: check_database(db.engine)[0], "the database", deadline)
        migrate(db.engine)
        log.info("migrations applied; starting gunicorn")
        db.engine.dispose()
    return [sys.executable, "-m", "gunicorn", "-c", "python:webapp.serve.gunicorn_conf", *args, "wsgi:app"]


def run_worker(args: list[str], deadline: float) -> list[str]:
    from webapp.extensions import db
    from webapp.ops.checks import check_database, check_redis

    app = _app()
    url = _redis_url(app)
    with app.app_context():
        wait_for(lambda: check_database(db.engine)[1], "the database schema", deadline)
        db.engine.dispose()
    wait_for(lambda: check_redis(url), "Redis", deadline)
    return [sys.executable, str(ROOT / "worker.py"), *args]


def run_cron(args: list[str], deadline: float) -> list[str]:
    from webapp.ops.checks import check_redis

    url = _redis_url(_app())
    wait_for(lambda: check_redis(url), "Redis", deadline)
    return [sys.executable, "-m", "webapp.jobs.cron", *args]  # it reads RQ_CRON_CONFIG when none is given


ROLES = {"web": run_web, "worker": run_worker, "cron": run_cron}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv) or ["web"]
    role, args = argv[0], argv[1:]
    if role not in ROLES:
        os.execvp(role, argv)
    _restore_logging()
    deadline = time.monotonic() + float(os.environ.get("WAIT_TIMEOUT") or 120)
    try:
        command = ROLES[role](args, deadline)
    except NotReady as exc:
        log.error("%s: giving up: %s", role, exc)
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
