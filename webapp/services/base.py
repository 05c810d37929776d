"""The transaction helpers every service shares: commit once, then run follow-up jobs."""
from contextlib import contextmanager
from functools import cache

import psycopg
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..db_reuse import note_write
from ..extensions import db
from .cti import _as_id
from .errors import Conflict, NotFound

_DEFER = "defer_commit"
_JOBS = "after_commit_jobs"


def commit(*, keep_loaded: bool = False) -> None:
    """End a service action: commit (unless inside `transaction()`, then only flush), then run queued jobs.

    `keep_loaded`: the objects just written keep their values after the commit instead of being
    read back on next use (a new ticket's answer needs nothing the database could have changed).
    """
    deferred = db.session.info.get(_DEFER)
    session = db.session()
    expire = session.expire_on_commit
    try:
        with _failures_rolled_back():
            if deferred:
                session.flush()
            else:
                session.expire_on_commit = expire and not keep_loaded
                session.commit()
    finally:
        session.expire_on_commit = expire
    if not deferred:
        _run_after_commit()


def execute_first(statement, params: dict):
    """The first column of the first row of `statement`: the one statement a transaction writes,
    before anything else in it, the caller committing next (not inside `transaction()`).

    On PostgreSQL it runs in autocommit, where it is still atomic and neither BEGIN nor COMMIT
    costs a round trip, and straight on the driver, with the SQL and value processing SQLAlchemy
    compiled for it once: its execution machinery cost more than psycopg's own (py-spy, API
    create). Elsewhere, or after other statements, it runs as usual in the open transaction.
    """
    session = db.session()
    connection = session.connection()
    raw = connection.connection.driver_connection
    if (connection.dialect.name != "postgresql" or session.info.get(_DEFER)
            or raw.info.transaction_status != TransactionStatus.IDLE):
        return session.execute(statement, params).scalar()
    compiled = _compiled(statement, connection.dialect)
    sql, processors = compiled.string, compiled._bind_processors
    values = {name: processors[name](value) if name in processors else value
              for name, value in compiled.construct_params(params).items()}
    note_write(connection)
    raw.autocommit = True
    try:
        row = raw.execute(sql, values, prepare=True).fetchone()
    except psycopg.Error as exc:
        _raise_as_sqlalchemy(connection, exc, sql, values)
    finally:
        try:
            raw.autocommit = False
        except psycopg.Error:
            connection.invalidate()  # broken: it must not go back to the pool in autocommit
    return row[0] if row else None


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


def get_or_404(model, ident, message: str, *, accept=None):
    """The `model` row whose primary key is `ident` (7 or "7"; anything else names none) and that
    `accept`, if given, admits; otherwise NotFound(message)."""
    key = _as_id(ident)
    row = db.session.get(model, key) if key is not None else None
    if row is None or (accept is not None and not accept(row)):
        raise NotFound(message)
    return row


def found(row, message: str):
    """`row` as a loader found it, or NotFound(message) if it found none."""
    if row is None:
        raise NotFound(message)
    return row


def flush() -> None:
    """Write pending ORM changes now (e.g. before a plain INSERT that follows them), as commit() would."""
    with _failures_rolled_back():
        db.session.flush()


@contextmanager
def _failures_rolled_back():
    try:
        yield
    except StaleDataError as exc:  # at flush too: a concurrent writer moved the version on
        rollback()
        raise Conflict("Someone else changed this ticket at the same time; reload and retry.") from exc
    except IntegrityError:
        rollback()  # also drops the jobs queued for the failed transaction
        raise


@contextmanager
def transaction():
    """Group several service calls into one commit (e.g. a PATCH of many fields)."""
    if db.session.info.get(_DEFER):
        yield
        return
    db.session.info[_DEFER] = True
    try:
        yield
    except BaseException:
        db.session.info[_DEFER] = False
        db.session.rollback()
        db.session.info.pop(_JOBS, None)
        raise
    db.session.info[_DEFER] = False
    commit()


def rollback() -> None:
    """Discard the current transaction and anything queued to run after it."""
    db.session.rollback()
    db.session.info.pop(_JOBS, None)


def after_commit(func_path: str, *args) -> None:
    """Queue a job (by dotted path) to be enqueued once the current transaction commits (once each)."""
    jobs = db.session.info.setdefault(_JOBS, [])
    if (func_path, args) not in jobs:
        jobs.append((func_path, args))


def _run_after_commit() -> None:
    from ..jobs import enqueue

    jobs = db.session.info.pop(_JOBS, [])
    for func_path, args in jobs:
        enqueue(func_path, *args)


def row_limit(value: int | str):
    """A LIMIT written into the SQL text, not sent as a parameter. `value`: a number, or the name of
    a parameter bound at execution (for statements built once and reused).

    PostgreSQL keeps one plan for a prepared statement only if that plan suits every value it may
    be given; with the LIMIT unknown, reading an index in order for "the first 26 rows" no longer
    looks cheap, so it planned our joins afresh on every execution: 2.2 ms of its CPU per API list
    page instead of 0.2 (pgbench, 10k tickets). Each distinct limit is its own prepared statement.
    """
    if isinstance(value, str):
        return sa.bindparam(value, type_=sa.Integer, literal_execute=True)
    return sa.literal(value, sa.Integer, literal_execute=True)


def locked_batch(query: sa.Select, size: int) -> sa.CTE:
    """The next `size` rows of `query` that no other transaction holds, locked for this one.

    A materialized CTE, so PostgreSQL picks the batch once (an IN-subquery with LIMIT may be
    re-run by the planner); SKIP LOCKED lets concurrent jobs take disjoint batches. SQLite has
    no row locks: its single writer serialises these transactions instead.
    """
    picked = query.limit(row_limit(size)).with_for_update(skip_locked=True).cte("picked")
    return picked.prefix_with("MATERIALIZED", dialect="postgresql")


def among(column, ids: sa.Select):
    """`column IN (ids)` for a locked batch, spelled `= ANY(ARRAY(ids))` on PostgreSQL: the batch is
    read once, then each row found by its key. As a semi-join, with statistics from when the table
    had little waiting, the planner compared every waiting row with the batch: two seconds a
    batch once 90,000 outbox rows waited (tests/test_scale.py)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.func.array(ids.scalar_subquery()))
    return column.in_(ids)


def in_ids(column, ids: list[int] | str):
    """`column IN (ids)` for a list from Python, spelled `= ANY(:ids)` on PostgreSQL: one array
    parameter, so a batch of 500 is not 500 placeholders to render, parse and plan each time.
    `ids`: the list, or the name of a parameter bound at execution (for statements built once)."""
    name, value = (ids, None) if isinstance(ids, str) else (None, ids)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(name, value, type_=postgresql.ARRAY(sa.Integer)))
    return column.in_(sa.bindparam(name, value, expanding=True))


def insert_or_skip(table: sa.Table, columns: tuple[str, ...], returning: str):
    """INSERT (columns) ... ON CONFLICT DO NOTHING RETURNING one column, for this session's dialect
    (PostgreSQL or SQLite); values are bound by column name at execution."""
    return _insert_or_skip(db.session.get_bind().dialect.name, table, columns, returning)


@cache
def _insert_or_skip(dialect_name: str, table: sa.Table, columns: tuple[str, ...], returning: str):
    """Built once per shape: a statement object keeps its cache key, a new one computes it again."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    values = {name: sa.bindparam(name, type_=table.c[name].type) for name in columns}
    return dialect.insert(table).values(values).on_conflict_do_nothing().returning(table.c[returning])
