"""Fixtures in the style of flaskr: app, client, runner, login helper, factories."""
import logging
import os
import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from flask_wtf.csrf import generate_csrf
from sqlalchemy.orm import scoped_session, sessionmaker

from webapp import create_app
from webapp.extensions import db

from . import factories
from .fake_dns import FakeDns

TEST_SECRET = "test-secret-" + secrets.token_hex(8)
LOOPBACK_NETWORK = "127.0.0.0/8"  # where the tests' webhook receivers listen


def _server_url(url: str, dbname: str) -> sa.URL:
    return sa.make_url(url).set(drivername="postgresql+psycopg", database=dbname)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database of this run's own: a fresh PostgreSQL database, or a SQLite file."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    name = f"ticketing_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(_server_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _server_url(server, name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def own_database(database_url: str, suffix: str, tmp_dir: Path):
    """A further database for a module whose commits must be real: `<name>_<suffix>` on the
    same PostgreSQL server (dropped afterwards), or a SQLite file in `tmp_dir`."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield url.set(database=str(tmp_dir / f"{suffix}.db")).render_as_string(hide_password=False)
        return
    url = url.set(database=f"{url.database}_{suffix}")
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def committing_app(database_url: str, suffix: str, tmp_dir: Path, *, postgres_only: str | None = None,
                   **overrides):
    """An app on a migrated database of its own, for tests whose commits must be real (the suite's
    app runs each test inside one rolled-back transaction). `postgres_only`: skip on SQLite, saying why."""
    if postgres_only and sa.make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip(postgres_only)
    with own_database(database_url, suffix, tmp_dir) as url:
        app = make_app(url, **overrides)
        try:
            with app.app_context():
                upgrade()
            yield app
        finally:
            with app.app_context():
                db.engine.dispose()


def make_app(database_url: str, **overrides):
    instance = Path(tempfile.mkdtemp(prefix="ticketing-instance-"))
    settings = {
        "TESTING": True,
        "ENV_VARS": {"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET, "INSTANCE_PATH": str(instance)},
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "REDIS_URL": None,
        "PREFERRED_URL_SCHEME": "http",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
        # Every test signs in from 127.0.0.1 into one app: tests/security/test_login_throttle.py
        # sets real limits.
        "LOGIN_LIMIT_PER_ACCOUNT": "10000 per minute",
        "LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
        # Likewise every wrong API key (tests/api/test_api_ratelimit.py sets a real limit).
        "API_BAD_KEY_LIMIT_PER_ADDRESS": "10000 per minute",
        # Jobs run inline after each commit here: a dispatch run lingering for more would only
        # sleep. tests/test_outbox_linger.py turns it on where it is the subject.
        "OUTBOX_LINGER_SECONDS": 0,
        # A request's ask for a dispatch run goes to Redis at once, so tests can count what it
        # queued; tests/test_outbox_linger.py covers the per-process coalescing of asks.
        "OUTBOX_MARK_DELAY_SECONDS": 0,
        # No test asks real DNS for a webhook's host; loopback stays refused, as in production,
        # unless a test allows it (WEBHOOK_ALLOWED_NETWORKS) to reach its receiver on 127.0.0.1.
        "WEBHOOK_RESOLVER": FakeDns(),
        # Retries exactly on the documented schedule; tests/test_delivery_schedule.py sets the
        # production jitter and draws its random numbers itself.
        "WEBHOOK_BACKOFF_JITTER": 0,
        # A bulk job's worker threads would share the one connection a test's transaction runs on;
        # tests/test_bulk_jobs_workers.py runs them on a database of their own.
        "BULK_WORKERS": 1,
        # A live page's poll reads the global change stamp every time here, not once a second
        # (tests/web/test_live.py covers the reuse), so a change shows to the next poll.
        "LIVE_GLOBAL_SECONDS": 0,
    }
    settings.update(overrides)
    return create_app(settings)


@pytest.fixture(scope="session")
def _app(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app


@pytest.fixture
def app(_app):
    """Each test runs inside a transaction that is rolled back afterwards."""
    _app.extensions.pop("presence", None)  # who had a ticket open: ids are reused after a rollback
    with _app.app_context():
        # Deferred on SQLite: the test's own transaction takes the write lock only once it writes,
        # so probes that open a second connection (readiness, drift check) are not locked out.
        connection = db.engine.connect().execution_options(sqlite_begin="DEFERRED")
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield _app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


def _fresh_request_globals() -> None:
    """Requests share the test's app context, so empty `g` as a new request would find it.

    Otherwise the signed-in user and CSRF token cached there leak from one client to another.
    """
    from flask import g, has_app_context

    if not has_app_context():
        return
    for name in list(vars(g)):
        delattr(g, name)


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token on every unsafe request unless told not to."""

    def open(self, *args, csrf=True, **kwargs):
        _fresh_request_globals()
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method not in {"GET", "HEAD", "OPTIONS"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """A token bound to this client's session, as a page would have rendered it."""
        _fresh_request_globals()
        with self.application.test_request_context():
            from flask import session

            with self.session_transaction() as stored:
                session.update(stored)
                token = generate_csrf()
                stored.update(session)
        return token


@pytest.fixture
def loopback_allowed(app, monkeypatch):
    """Let webhooks reach 127.0.0.1, where the test receiver listens (refused by default)."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORK)


@pytest.fixture
def client(app):
    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def written_elsewhere(statement) -> None:
    """Run `statement` as another process's committed write would look to this one: a write this
    process's ORM never saw, whose triggers raised cache_version (on PostgreSQL they wait for the
    commit, which the test's rolled-back transaction never reaches, so they fire now)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
    db.session.execute(statement)
    db.session.expunge_all()  # the next request's session starts empty, as in production


@pytest.fixture
def redis_keyspace():
    """(TEST_REDIS_URL, a key prefix of this test's own); keys under the prefix are deleted after."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to test against Redis")
    from redis import Redis

    prefix = f"ticketing-test-{secrets.token_hex(4)}"
    yield url, prefix
    redis = Redis.from_url(url)
    for key in redis.scan_iter(match=f"*{prefix}*"):
        redis.delete(key)


def redis_keys(url: str, prefix: str) -> list:
    from redis import Redis

    return list(Redis.from_url(url).scan_iter(match=f"*{prefix}*"))


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username="agent", password=factories.PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def transaction_commands(monkeypatch):
    """The transaction commands psycopg sends (BEGIN, COMMIT, ROLLBACK, DEALLOCATE), in order."""
    import psycopg

    sent = []
    real = psycopg.Connection._exec_command

    def spy(self, command, *args, **kwargs):
        sent.append(command if isinstance(command, bytes) else str(command).encode())
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "_exec_command", spy)
    return sent


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make(app):
    """Factories bound to this test's database: make.user(), make.cti(), make.ticket()."""
    return factories.Factories()


@pytest.fixture
def logs(caplog, monkeypatch):
    """caplog with every record of every logger, at any level (the migrations' logging config
    disables the loggers that existed before it ran, the app's among them)."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.DEBUG)
    return caplog
