"""Pooled connections are pinged before use only when the server spoke to them or they sat idle; a dead one is replaced."""
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from webapp.db import pool as db_pool
from webapp.extensions import db

from .conftest import make_app

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(database_url):
    if sa.make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the pool check is for PostgreSQL")
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def pings(pg_app, monkeypatch):
    """The pool's pings, counted."""
    with pg_app.app_context():
        dialect = db.engine.dialect
    calls, real_ping = [], dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: calls.append(connection) or real_ping(connection))
    return calls


def backend_pid(app) -> int:
    """One unit of work, as a request does it: check a connection out, use it, give it back."""
    with app.app_context():
        return db.session.scalar(sa.text("SELECT pg_backend_pid()"))


def later(monkeypatch, seconds: float) -> None:
    """From now on the pool's clock reads `seconds` later than the real one."""
    monkeypatch.setattr(db_pool, "time", SimpleNamespace(monotonic=lambda: time.monotonic() + seconds))


def terminate(database_url: str, pid: int) -> None:
    engine = sa.create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})  # and wait
    engine.dispose()


def test_a_connection_used_moments_ago_is_not_pinged(pg_app, pings):
    pids = {backend_pid(pg_app) for _ in range(5)}
    assert len(pids) == 1  # the same pooled connection each time
    assert pings == []


def test_a_connection_idle_for_a_while_is_pinged_first(pg_app, pings, monkeypatch):
    first = backend_pid(pg_app)
    later(monkeypatch, db_pool.PING_AFTER_IDLE_SECONDS + 1)
    assert backend_pid(pg_app) == first  # it answered, so it was used
    assert len(pings) == 1


def test_a_connection_whose_backend_was_terminated_is_replaced_before_use(pg_app, pings, database_url):
    dead = backend_pid(pg_app)
    terminate(database_url, dead)  # as a database restart does: the server says so on the socket
    assert backend_pid(pg_app) != dead  # the request still got its answer, on a new connection
    assert len(pings) == 1  # the notice that arrived on the idle socket asked for the ping


def test_an_idle_connection_that_no_longer_answers_is_replaced(pg_app, pings, monkeypatch, database_url):
    dead = backend_pid(pg_app)
    terminate(database_url, dead)
    monkeypatch.setattr(db_pool, "_server_spoke", lambda connection: False)  # dropped without a word
    later(monkeypatch, db_pool.PING_AFTER_IDLE_SECONDS + 1)
    assert backend_pid(pg_app) != dead
    assert len(pings) == 1


def test_a_silently_dropped_connection_used_moments_ago_fails_its_first_statement(
        pg_app, pings, monkeypatch, database_url):
    """The one case left to the first statement: the disconnect empties the pool for the next request."""
    dead = backend_pid(pg_app)
    terminate(database_url, dead)
    monkeypatch.setattr(db_pool, "_server_spoke", lambda connection: False)
    with pytest.raises(sa.exc.OperationalError):
        backend_pid(pg_app)
    assert backend_pid(pg_app) != dead
    assert pings == []
