"""The report rollups, moved in the same transaction as each ticket change they count.

A ticket contributes to a few cells (its created day, resolved day and first-response day, under its
current category and severity); every change subtracts the cells of the ticket as it was and adds
those of the ticket as it is now, so the tables always equal a recount (tests/test_report_rollups.py).
"""
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import ACTIVE_STATUSES, ReportDay, ReportItemDay, Status, Ticket
from ..models.report import BUCKETS, DAY_COUNTS, HOUR_COLUMNS

DAY_KEY = ("day", "category_id", "severity")
ITEM_KEY = ("day", "item_id", "severity")
_ACTIVE = {status.value for status in ACTIVE_STATUSES}


@dataclass(frozen=True)
class Facts:
    """What the rollups know of one ticket."""

    created_at: datetime
    resolved_at: datetime | None
    first_response_at: datetime | None
    category_id: int
    item_id: int
    severity: int
    active: bool


def facts(ticket) -> Facts:
    """The facts of an ORM ticket, or of a row / mapping with the same names."""
    get = ticket.get if isinstance(ticket, dict) else lambda name: getattr(ticket, name)
    return Facts(get("created_at"), get("resolved_at"), get("first_response_at"), get("category_id"),
                 get("item_id"), get("severity"), str(get("status")) in _ACTIVE)


def bucket(seconds: int) -> int:
    """The log2 bucket of a duration: 0 under a minute, k for [2^(k-1), 2^k) minutes, capped."""
    return min(BUCKETS - 1, (max(seconds, 0) // 60).bit_length())


def bucket_bounds(k: int) -> tuple[float, float | None]:
    """A bucket's [low, high) in seconds; the last one has no upper bound."""
    low = 0.0 if k == 0 else 60.0 * 2 ** (k - 1)
    return low, (None if k == BUCKETS - 1 else 60.0 * 2 ** k)


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def contributions(f: Facts, days=None, items=None):
    """Add one ticket's cells to `days` {(day, category, severity): {column: n}} and `items`."""
    days = defaultdict(lambda: defaultdict(int)) if days is None else days
    items = defaultdict(lambda: defaultdict(int)) if items is None else items
    created = days[(f.created_at.date(), f.category_id, f.severity)]
    created["created"] += 1
    created[f"h{f.created_at.hour:02d}"] += 1
    if f.active:
        created["open"] += 1
    for prefix, at in (("res", f.resolved_at), ("ack", f.first_response_at)):
        if at is not None:
            took = _seconds(f.created_at, at)
            cell = days[(at.date(), f.category_id, f.severity)]
            cell[f"{prefix}_count"] += 1
            cell[f"{prefix}_seconds"] += took
            cell[f"{prefix}_{bucket(took):02d}"] += 1
    item = items[(f.created_at.date(), f.item_id, f.severity)]
    item["created"] += 1
    item["category_id"] = f.category_id
    return days, items


def shift(before: Facts | None, after: Facts) -> None:
    """Move a ticket's cells from how it was (None: it is new) to how it is, in the session's
    transaction (inside `deferred()`: added to its batch instead)."""
    if before == after:
        return
    old_days, old_items = contributions(before) if before else ({}, {})
    new_days, new_items = contributions(after)
    batch = db.session.info.get(_BATCH) or _Batch()
    for key in set(old_days) | set(new_days):
        batch.days[key].update(_difference(old_days.get(key), new_days.get(key)))
    for key in set(old_items) | set(new_items):
        new = new_items.get(key) or {"category_id": old_items[key]["category_id"]}
        batch.items[key].update(_difference(old_items.get(key), new))
        batch.item_category[key] = new["category_id"]
    if db.session.info.get(_BATCH) is None:
        batch.write()


_BATCH = "report_rollup_batch"


@dataclass
class _Batch:
    """Rollup deltas waiting to be written: day cells, item cells and each item cell's category."""

    days: defaultdict = field(default_factory=lambda: defaultdict(Counter))
    items: defaultdict = field(default_factory=lambda: defaultdict(Counter))
    item_category: dict = field(default_factory=dict)

    def merge(self, other: "_Batch") -> None:
        for key, delta in other.days.items():
            self.days[key].update(delta)
        for key, delta in other.items.items():
            self.items[key].update(delta)
        self.item_category.update(other.item_category)

    def write(self) -> None:
        """One upsert per changed cell, in key order: every writer takes the rows' locks in the
        same order, so transactions that change many tickets never deadlock on them."""
        for key in sorted(self.days):
            _upsert(ReportDay.__table__, DAY_KEY, key, {k: v for k, v in self.days[key].items() if v})
        for key in sorted(self.items):
            delta = {k: v for k, v in self.items[key].items() if v}
            if delta:
                _upsert(ReportItemDay.__table__, ITEM_KEY, key, {**delta, "category_id": self.item_category[key]},
                        fixed=("category_id",))


@contextmanager
def deferred():
    """Within the block, shift() collects its deltas; they are written, summed per cell and in one
    key order, when the block ends without an error (into the enclosing block's batch, if any), and
    dropped with it otherwise (a ticket of a bulk change that refused, its savepoint rolled back).
    A bulk chunk writes its 200 tickets' rollups as a few upserts, and never deadlocks with another."""
    outer = db.session.info.get(_BATCH)
    batch = db.session.info[_BATCH] = _Batch()
    try:
        yield
    finally:
        db.session.info[_BATCH] = outer
    if outer is not None:
        outer.merge(batch)
    else:
        batch.write()


def _difference(old: dict | None, new: dict | None) -> dict:
    old, new = old or {}, new or {}
    return {name: new.get(name, 0) - old.get(name, 0) for name in set(old) | set(new)
            if name != "category_id" and new.get(name, 0) != old.get(name, 0)}


def _upsert(table: sa.Table, key_names: tuple, key: tuple, delta: dict, fixed: tuple = ()) -> None:
    """Add `delta` to one row, creating it at zero first; `fixed` columns are set, not added."""
    added = [name for name in delta if name not in fixed]
    if not added:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values({**dict(zip(key_names, key)), **delta})
    changes = {name: table.c[name] + statement.excluded[name] for name in added}
    changes.update({name: statement.excluded[name] for name in fixed})
    db.session.execute(statement.on_conflict_do_update(index_elements=list(key_names), set_=changes))


# The full recount: the migration's backfill, the bench loader's, and the tests' yardstick.

_FACT_COLUMNS = ("created_at", "resolved_at", "first_response_at", "category_id", "item_id", "severity", "status")


def recount(connection) -> tuple[dict, dict]:
    """Every cell, counted from the tickets themselves (streamed: one pass, no per-ticket query)."""
    days, items = defaultdict(lambda: defaultdict(int)), defaultdict(lambda: defaultdict(int))
    query = sa.select(*(Ticket.__table__.c[name] for name in _FACT_COLUMNS)).execution_options(yield_per=5000)
    for row in connection.execute(query).mappings():
        contributions(facts(dict(row)), days, items)
    return days, items


def stored(connection) -> tuple[dict, dict]:
    """The rollup tables as recount() spells them, rows and counts of zero left out."""
    days, items = {}, {}
    for table, key_names, into in ((ReportDay.__table__, DAY_KEY, days), (ReportItemDay.__table__, ITEM_KEY, items)):
        for row in connection.execute(sa.select(table)).mappings():
            key = tuple(_as_date(row[name]) if name == "day" else row[name] for name in key_names)
            counts = {name: row[name] for name in table.c.keys() if name not in key_names and row[name]}
            if any(value for name, value in counts.items() if name != "category_id"):
                into[key] = counts
    return days, items


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def rebuild(connection) -> None:
    """Replace the rollups with a recount, first responses first (after a bulk load or a restore).

    On PostgreSQL the rollups are locked against writers first: a ticket change waiting on the lock
    commits after the recount, its change then added on top of the state the recount saw."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("LOCK TABLE report_day, report_item_day IN EXCLUSIVE MODE"))
    backfill_first_response(connection)
    days, items = recount(connection)
    connection.execute(sa.delete(ReportDay.__table__))
    connection.execute(sa.delete(ReportItemDay.__table__))
    _insert_all(connection, ReportDay.__table__, DAY_KEY, days, DAY_COUNTS)
    _insert_all(connection, ReportItemDay.__table__, ITEM_KEY, items, ("category_id", "created"))


def _insert_all(connection, table, key_names, cells: dict, columns: tuple, batch: int = 2000) -> None:
    rows = [{**dict(zip(key_names, key)), **{name: counts.get(name, 0) for name in columns}}
            for key, counts in sorted(cells.items())]
    for start in range(0, len(rows), batch):
        connection.execute(sa.insert(table), rows[start:start + batch])


def backfill_first_response(connection) -> None:
    """Set first_response_at from the audit trail: each ticket's first status event to IN_PROGRESS."""
    connection.execute(sa.text(
        "UPDATE ticket SET first_response_at = fr.at FROM ("
        " SELECT ticket_id, MIN(created_at) AS at FROM audit_event"
        " WHERE action = 'status' AND CAST(after AS TEXT) = :in_progress GROUP BY ticket_id"
        ") AS fr WHERE ticket.id = fr.ticket_id"
    ), {"in_progress": f'"{Status.IN_PROGRESS.value}"'})


class NewTicketRollups:
    """A new ticket's rollup upserts, for audit.record_insert: on PostgreSQL nested in the ticket's
    own INSERT statement (one statement, run alone), selecting from its row so a skipped insert
    adds nothing; elsewhere run after it, through shift()."""

    def params(self, values: dict) -> dict:
        at = values["created_at"]
        return {"rollup_day": at.date(), "rollup_category": values["category_id"],
                "rollup_severity": values["severity"], "rollup_item": values["item_id"],
                **{f"rollup_{name}": int(name == f"h{at.hour:02d}") for name in HOUR_COLUMNS}}

    def ctes(self, new_row) -> list:
        days, items = ReportDay.__table__, ReportItemDay.__table__
        day_counts = {"created": sa.literal(1), "open": sa.literal(1),
                      **{name: sa.bindparam(f"rollup_{name}", type_=sa.Integer) for name in HOUR_COLUMNS}}
        key = {"day": sa.bindparam("rollup_day", type_=sa.Date),
               "severity": sa.bindparam("rollup_severity", type_=sa.SmallInteger)}
        day_row = {**key, "category_id": sa.bindparam("rollup_category", type_=sa.Integer), **day_counts}
        item_row = {**key, "item_id": sa.bindparam("rollup_item", type_=sa.Integer),
                    "category_id": sa.bindparam("rollup_category", type_=sa.Integer), "created": sa.literal(1)}
        upserts = []
        for name, table, row, key_names, added in (("day_rollup", days, day_row, DAY_KEY, day_counts),
                                                   ("item_rollup", items, item_row, ITEM_KEY, ("created",))):
            select = sa.select(*(value.label(column) for column, value in row.items())).select_from(new_row)
            statement = postgresql.insert(table).from_select(list(row), select, include_defaults=False)
            statement = statement.on_conflict_do_update(
                index_elements=list(key_names),
                set_={column: table.c[column] + statement.excluded[column] for column in added})
            upserts.append(statement.cte(name))
        return upserts

    def apply(self, values: dict) -> None:
        shift(None, facts(values))


NEW_TICKET = NewTicketRollups()
