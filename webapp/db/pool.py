"""Pooled PostgreSQL connections are pinged before use only when something suggests they died:
the server sent something on the idle socket (a terminated backend, a closed connection: one
non-blocking poll() tells, no round trip), or it sat idle for PING_AFTER_IDLE_SECONDS or more.
A connection that does not answer its ping is replaced (docs/performance.md)."""
import select
import time

from sqlalchemy import event, exc

from .reuse import postgres_engine

PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "idle_since"  # in the pool entry's info, which lives as long as its DBAPI connection


def init_app(app) -> None:
    engine = postgres_engine(app)
    if engine is None:
        return
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", lambda dbapi_connection, entry, _proxy: _check(
        engine.dialect, dbapi_connection, entry))


def _note_idle(_dbapi_connection, entry) -> None:
    entry.info[_IDLE_SINCE] = time.monotonic()


def _check(dialect, dbapi_connection, entry) -> None:
    idle_since = entry.info.get(_IDLE_SINCE)
    if idle_since is None:
        return  # just connected
    if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS and not _server_spoke(dbapi_connection):
        return  # answered moments ago, and nothing has arrived since
    try:
        alive = dialect.do_ping(dbapi_connection)
    except Exception:
        alive = False
    if not alive:  # the pool discards this connection and opens another in its place
        raise exc.DisconnectionError("a pooled connection did not answer its ping")


def _server_spoke(dbapi_connection) -> bool:
    """Has anything (an error notice, end of file) arrived on the idle connection's socket?"""
    try:
        poller = select.poll()
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
        return bool(poller.poll(0))
    except Exception:  # no socket any more: closed
        return True
