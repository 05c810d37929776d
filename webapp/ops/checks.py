"""Readiness checks: database reachable, schema at the migration head, Redis reachable."""
import logging
import time
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def migration_heads() -> tuple[str, ...]:
    """The head revision(s) this code expects, read once from migrations/versions."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def _failure(check: str, exc: Exception) -> dict:
    """Say which check failed without echoing hosts or credentials to an unauthenticated caller."""
    cause = getattr(exc, "orig", None) or exc
    log.warning("readiness check %s failed: %s", check, exc)
    return {"ok": False, "error": f"unreachable ({type(cause).__name__})"}


def schema_revisions(connection) -> tuple[str, ...]:
    """The revision(s) recorded in the database; empty before the first migration."""
    if not inspect(connection).has_table("alembic_version"):
        return ()
    return tuple(sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars()))


def check_database(engine) -> tuple[dict, dict]:
    """One connection answers both: is the database up, and is its schema at our head?"""
    start = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            database = {"ok": True, "ms": _elapsed_ms(start)}
            current = schema_revisions(connection)
    except Exception as exc:  # any failure to talk to the database means "not ready", never a 500
        return _failure("database", exc), {"ok": False, "error": "not checked: the database is unreachable"}
    heads = migration_heads()
    migrations = {"ok": current == heads, "current": list(current), "head": list(heads)}
    if current != heads:
        migrations["error"] = (
            "the database has no schema yet" if not current
            else "the schema is not at this code's migration head (run `flask db upgrade`)"
        )
    return database, migrations


def check_redis(url: str) -> dict:
    from redis import Redis

    start = time.perf_counter()
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # a refused, timed-out or rejected connection all mean "not ready"
        return _failure("redis", exc)
    finally:
        client.close()
    return {"ok": True, "ms": _elapsed_ms(start)}


def readiness(engine, redis_url: str | None) -> dict:
    """Every check's result, and the names of those that failed."""
    checks = {}
    checks["database"], checks["migrations"] = check_database(engine)
    if redis_url:
        checks["redis"] = check_redis(redis_url)
    failing = [name for name, result in checks.items() if not result["ok"]]
    return {"status": "unavailable" if failing else "ready", "failing": failing, "checks": checks}
