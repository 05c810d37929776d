"""Pooled PostgreSQL connections are pinged before use only when they sat idle for a while.

SQLAlchemy's `pool_pre_ping` adds a round trip to every checkout, so under load each request
first asked a connection that had answered a few milliseconds earlier whether it was still there
(3–5 % of a request's CPU, bench/RESULTS.md). Here a connection idle for PING_AFTER_IDLE_SECONDS
or more is pinged, and replaced if it does not answer: the overnight database restart, a firewall
that dropped a quiet connection. One used moments ago is not. Should the server go away
mid-burst, the first statement on a dead connection fails (a 503, docs/operations.md), SQLAlchemy
sees the disconnect and invalidates the whole pool, and the next request connects afresh.
"""
import time

from sqlalchemy import event, exc

from .extensions import db

PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "idle_since"  # in the pool entry's info, which lives as long as its DBAPI connection


def init_app(app) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", lambda dbapi_connection, entry, _proxy: _ping_if_idle(
        engine.dialect, dbapi_connection, entry))


def _note_idle(_dbapi_connection, entry) -> None:
    entry.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dialect, dbapi_connection, entry) -> None:
    idle_since = entry.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return  # just connected, or answered moments ago
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception:
        alive = False
    if not alive:  # the pool discards this connection and checks out (or opens) another
        raise exc.DisconnectionError("a pooled connection did not answer its ping")
