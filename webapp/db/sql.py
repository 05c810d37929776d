"""SQL building blocks for PostgreSQL and SQLite: literal limits, locked batches, id lists, insert-or-skip."""
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db


def row_limit(value: int | str):
    """A LIMIT written into the SQL text, not sent as a parameter. `value`: a number, or the name of
    a parameter bound at execution (for statements built once and reused).

    With the limit known, PostgreSQL keeps one generic plan for a prepared page statement instead of
    planning it on every execution; each distinct limit is its own prepared statement.
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
    read once, then each row found by its key, whatever the statistics say (a semi-join may compare
    every waiting row with the batch; tests/test_scale.py)."""
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


def insert_rows_or_skip(table: sa.Table) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING for this session's dialect, to run with a list of rows
    (executemany): rows that would break a unique key are skipped, the rest inserted."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure: PostgreSQL asks for a retry


def asks_for_retry(exc: BaseException) -> bool:
    """Whether the database refused a transaction only because another one crossed it (a deadlock
    or a serialization failure): run again from the start, it will go through."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, sa.exc.DBAPIError) and getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES
