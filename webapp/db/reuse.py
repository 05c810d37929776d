"""On PostgreSQL a plain read that no transaction is waiting for runs alone, in autocommit.

A request that only reads then sends no BEGIN and no COMMIT (two round trips fewer), and, never
rolling back, keeps psycopg's prepared statements: psycopg prepares a query after a few executions
on a connection, and a ROLLBACK makes it deallocate them all. Under READ COMMITTED, PostgreSQL's
default and ours, every statement of a transaction already reads its own snapshot, so a read alone
sees what it would have seen inside one. Anything else (a write, a read that locks rows, a
server-side cursor, a read once a transaction is open) runs in a transaction as psycopg always
runs it: every write a service makes before it commits is still one atomic transaction.
"""
import re
from functools import lru_cache

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import event

from ..extensions import db

_READS = ("SELECT", "SHOW")
_LOCKS = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)
_IDLE = TransactionStatus.IDLE


def postgres_engine(app):
    """The app's engine when it is PostgreSQL (prepared statements are kept there), else None."""
    with app.app_context():
        engine = db.engine
    return engine if engine.dialect.name == "postgresql" else None


def init_app(app) -> None:
    engine = postgres_engine(app)
    if engine is not None:
        event.listen(engine, "before_cursor_execute", _alone_or_in_a_transaction)


def _alone_or_in_a_transaction(conn, cursor, statement, _parameters, _context, _executemany) -> None:
    """Put the connection in autocommit for a plain read on an idle connection, out of it for the rest."""
    raw = conn.connection.driver_connection
    if reads_only(statement) and not isinstance(cursor, psycopg.ServerCursor):
        if not raw.autocommit and raw.info.transaction_status == _IDLE:
            raw.autocommit = True
    elif raw.autocommit:
        raw.autocommit = False  # idle, since it was in autocommit: psycopg sends BEGIN first


@lru_cache(maxsize=1024)
def reads_only(statement: str) -> bool:
    """A SELECT or SHOW that locks no rows (a few hundred distinct statement strings, hence the cache)."""
    return statement.lstrip()[:6].upper().startswith(_READS) and not _LOCKS.search(statement)
