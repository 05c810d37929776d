"""The one writer of audit events and their outbox rows, and the names of the jobs that ship them.

Every path that records events (one action, a ticket create, a sweep batch) hands a SELECT of
event rows, its labels naming audit_event columns, to `write` or, inside a larger statement, to
`events_and_outbox`. On PostgreSQL the events and their outbox rows are one statement (a
data-modifying CTE); SQLite has none, so there the events are inserted and then their outbox rows.
"""
from functools import cache

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, OutboxEvent
from .base import after_commit

# The jobs, by the dotted paths the job runners import them from (jobs import services, never the reverse):
# the dispatch fans outbox rows out to deliveries; a delivery run sends every due delivery.
DISPATCH_JOB = "webapp.jobs.tasks.dispatch_outbox"
DELIVER_DUE_JOB = "webapp.jobs.tasks.deliver_due"

EVENTS, OUTBOX = AuditEvent.__table__, OutboxEvent.__table__
EVENT_COLUMNS = ("ticket_id", "actor_id", "action", "before", "after", "target_type", "target_id", "created_at")
_JSON_OR_NULL = sa.JSON(none_as_null=True)  # before/after None: SQL NULL on every path, not JSON null


def event_param(column: str) -> sa.BindParameter:
    """The parameter `event_<column>`, typed as audit_event's column (PostgreSQL is told its type)."""
    column_type = EVENTS.c[column].type
    return sa.bindparam(f"event_{column}", type_=_JSON_OR_NULL if isinstance(column_type, sa.JSON) else column_type)


def event_row(*bound: str, **given) -> sa.Select:
    """SELECT an event row: a parameter `event_<name>` for each `bound` column, and the `given`
    expressions (say ticket_id=Ticket.id) for theirs; columns named by neither are NULL."""
    columns = {name: event_param(name) for name in bound} | given
    return sa.select(*(expression.label(name) for name, expression in columns.items()))


def insert_events(rows: sa.Select) -> sa.Insert:
    """INSERT INTO audit_event (the labels of `rows`) `rows` RETURNING id, created_at."""
    return (sa.insert(EVENTS).from_select(list(rows.selected_columns.keys()), rows)
            .returning(EVENTS.c.id, EVENTS.c.created_at))


def events_and_outbox(rows: sa.Select, name: str = "written") -> sa.Insert:
    """PostgreSQL: the events of `rows` (CTE `name`) and an outbox row for each, in one statement,
    to run as it is or to nest, by .cte(), in a larger one."""
    written = insert_events(rows).cte(name)
    return sa.insert(OUTBOX).from_select(["audit_event_id", "created_at"],
                                         sa.select(written.c.id, written.c.created_at))


def write(rows: sa.Select, params: dict) -> None:
    """Write the events `rows` selects and their outbox rows in the session's transaction, then
    ask for a dispatch once it commits. Build `rows` once: its statements are kept per object."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_one_statement(rows), params)
    else:
        written = db.session.execute(_events_only(rows), params).all()
        if written:
            db.session.execute(_OUTBOX_ROW, [{"audit_event_id": event_id, "created_at": created_at}
                                             for event_id, created_at in written])
    dispatch_after_commit()


def dispatch_after_commit() -> None:
    """Ask for a dispatch run once the transaction that wrote outbox rows commits (once per commit)."""
    after_commit(DISPATCH_JOB)


@cache
def _one_statement(rows: sa.Select) -> sa.Insert:
    return events_and_outbox(rows)


@cache
def _events_only(rows: sa.Select) -> sa.Insert:
    return insert_events(rows)


_OUTBOX_ROW = sa.insert(OUTBOX).values(
    audit_event_id=sa.bindparam("audit_event_id", type_=OUTBOX.c.audit_event_id.type),
    created_at=sa.bindparam("created_at", type_=OUTBOX.c.created_at.type))
