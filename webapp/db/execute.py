"""The lone write (or lone read) of a transaction, run straight on psycopg with the SQL SQLAlchemy compiled for it once."""
from functools import cache

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.exc import DBAPIError

from ..extensions import db

DEFER_KEY = "defer_commit"  # in the session's info while services.base.transaction() groups calls


def execute_first(statement, params: dict):
    """The first column of the first row of `statement`: the one statement a transaction writes,
    before anything else in it, the caller committing next (not inside `transaction()`).

    On PostgreSQL it runs in autocommit (still atomic, no BEGIN or COMMIT round trip) straight on
    psycopg, with the SQL and value processing SQLAlchemy compiled for it once; errors are raised
    as SQLAlchemy's. Elsewhere, or after other statements, it runs in the open transaction.
    """
    session = db.session()
    connection = session.connection()
    if session.info.get(DEFER_KEY) or not _idle_postgres(connection):
        return session.execute(statement, params).scalar()
    row = _alone_on_the_driver(connection, statement, params)
    return row[0] if row else None


def read_first_value(statement, params: dict):
    """The first column of the first row the read `statement` returns, opening no transaction on
    PostgreSQL when none is open (it runs alone, as `execute_first` does), so a lone write after
    it still runs alone; elsewhere it runs in the session's transaction."""
    session = db.session()
    connection = session.connection()
    if not _idle_postgres(connection):
        return session.execute(statement, params).scalar()
    row = _alone_on_the_driver(connection, statement, params)
    return row[0] if row else None


def _idle_postgres(connection) -> bool:
    return (connection.dialect.name == "postgresql"
            and connection.connection.driver_connection.info.transaction_status == TransactionStatus.IDLE)


def _alone_on_the_driver(connection, statement, params: dict) -> tuple | None:
    """The first row of `statement`, run in autocommit on the connection's psycopg connection."""
    raw = connection.connection.driver_connection
    compiled = _compiled(statement, connection.dialect)
    sql, processors = compiled.string, compiled._bind_processors
    values = {name: processors[name](value) if name in processors else value
              for name, value in compiled.construct_params(params).items()}
    was_autocommit, raw.autocommit = raw.autocommit, True
    try:
        return raw.execute(sql, values, prepare=True).fetchone()
    except psycopg.Error as exc:
        _raise_as_sqlalchemy(connection, exc, sql, values)
    finally:
        try:
            raw.autocommit = was_autocommit
        except psycopg.Error:
            connection.invalidate()  # broken: it must not go back to the pool in autocommit


@cache
def _compiled(statement, dialect):
    """`statement` compiled for psycopg once: its SQL, its own values, and their processors (JSON)."""
    return statement.compile(dialect=dialect)


def _raise_as_sqlalchemy(connection, exc: psycopg.Error, sql: str, values: dict):
    """Raise the error SQLAlchemy would have (IntegrityError, OperationalError, ...), dropping a
    connection that the server closed, so the handlers and the pool see what they always see."""
    disconnected = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
    if disconnected:
        connection.invalidate(exc)
    raise DBAPIError.instance(sql, values, exc, psycopg.Error, connection_invalidated=disconnected,
                              dialect=connection.dialect) from exc
