"""Read-only requests end with COMMIT, not ROLLBACK, so PostgreSQL keeps their prepared statements.

psycopg prepares a query after a few executions on a connection and skips planning from then
on, but a ROLLBACK makes it deallocate every prepared statement (a statement prepared inside a
failed transaction could be gone). Every request ends its transaction when the session closes,
and closing rolls back: so without this, nothing is ever prepared for long and the dashboard's
five-table join is planned anew on every request. Ending a transaction that only read with
COMMIT changes nothing else: there was nothing to keep or to undo.
"""
import logging

from sqlalchemy import event

from ..extensions import db

log = logging.getLogger(__name__)
_READS = ("SELECT", "SHOW")
_CONNECTION = "db_reuse.connection"  # in the session's info: the connection its transaction holds


def postgres_engine(app):
    """The app's engine when it is PostgreSQL (prepared statements are kept there), else None."""
    with app.app_context():
        engine = db.engine
    return engine if engine.dialect.name == "postgresql" else None


def init_app(app) -> bool:
    """Watch PostgreSQL transactions for writes; True when `commit_if_read_only` must end each request."""
    engine = postgres_engine(app)
    if engine is None:
        return False
    event.listen(engine, "begin", _transaction_begins)
    event.listen(engine, "before_cursor_execute", _note_writes)
    event.listen(db.session, "after_begin", _note_connection)
    return True


def _transaction_begins(conn) -> None:
    conn.info["wrote"] = False


def _note_writes(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if not statement.lstrip()[:6].upper().startswith(_READS):
        note_write(conn)


def note_write(conn) -> None:
    """This transaction wrote: for a statement run on the driver, which SQLAlchemy's events miss."""
    conn.info["wrote"] = True


def _note_connection(session, _transaction, connection) -> None:
    session.info[_CONNECTION] = connection


def commit_if_read_only(exc) -> None:
    """teardown: COMMIT a transaction that only read. A request that never reached the database (a kept caller, a login page) holds no
    connection: asking the session for one would check one out just to commit nothing."""
    session = db.session()
    connection = session.info.pop(_CONNECTION, None)
    if (exc is not None or connection is None or connection.closed or not session.in_transaction()
            or session.new or session.dirty or session.deleted):
        return
    try:
        if not connection.info.get("wrote", True):
            session.commit()
    except Exception:  # e.g. a failed statement the view handled: the usual teardown rolls back
        log.debug("read-only commit skipped", exc_info=True)
