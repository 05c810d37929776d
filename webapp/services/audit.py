"""Audit rows and their outbox twins, always written in the caller's transaction."""
from functools import cache

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, OutboxEvent, Ticket, User
from ..models.ticket import cti_path
from ..db.utc import utcnow
from ..db.execute import execute_first
from .base import after_commit, flush

DISPATCH_JOB = "webapp.jobs.tasks.dispatch_outbox"


def record(
    actor: User | None,
    action: str,
    *,
    ticket: Ticket | None = None,
    before=None,
    after=None,
    target: tuple[str, int] | None = None,
    at=None,
) -> None:
    """Write one audit event (actor None means the system) and the outbox row that ships it after commit.

    Plain INSERTs, not ORM objects: every action writes these two rows, and the unit of work
    cost more than the rest of a ticket create. Pending ORM changes are flushed first.
    """
    values = {
        "ticket_id": ticket.id if ticket is not None else None,
        "actor_id": actor.id if actor else None,
        "action": action,
        "before": before,
        "after": after,
        "target_type": target[0] if target else None,
        "target_id": target[1] if target else None,
        "created_at": at or utcnow(),
    }
    flush()  # the ORM changes this event describes go first, their conflicts reported as commit() would
    if ticket is not None and ticket.id is None:
        raise ValueError("insert a new ticket before recording its audit event")
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_EVENT_AND_OUTBOX, values)
    else:
        event_id = db.session.execute(_EVENT, values).inserted_primary_key[0]
        db.session.execute(_OUTBOX_ROW, {"audit_event_id": event_id, "created_at": values["created_at"]})
    after_commit(DISPATCH_JOB)


def record_insert(actor: User, action: str, insert: sa.Insert, values: dict, *, after, at) -> int | None:
    """Run `insert` (a ticket INSERT ... RETURNING id that may skip its row) and record `action` on
    the new ticket. On PostgreSQL the ticket, its event and the outbox row are one statement (one
    round trip); elsewhere they follow each other. None, with nothing recorded, if the row was skipped."""
    flush()
    if db.session.get_bind().dialect.name != "postgresql":
        ticket_id = db.session.execute(insert, values).scalar()
        if ticket_id is not None:
            record(actor, action, ticket=_Inserted(ticket_id), after=after, at=at)
        return ticket_id
    event = {"event_actor_id": actor.id, "event_action": action, "event_after": after, "event_at": at}
    ticket_id = execute_first(_with_event_and_outbox(insert), {**values, **event})
    if ticket_id is not None:
        after_commit(DISPATCH_JOB)
    return ticket_id


class _Inserted:
    """A ticket known only by the id its INSERT returned."""

    def __init__(self, ticket_id: int):
        self.id = ticket_id


_EVENTS, _OUTBOX = AuditEvent.__table__, OutboxEvent.__table__
_EVENT = sa.insert(_EVENTS).values({
    name: sa.bindparam(name, type_=_EVENTS.c[name].type)
    for name in ("ticket_id", "actor_id", "action", "before", "after", "target_type", "target_id", "created_at")
})
_OUTBOX_ROW = sa.insert(_OUTBOX).values(
    audit_event_id=sa.bindparam("audit_event_id"), created_at=sa.bindparam("created_at", type_=_OUTBOX.c.created_at.type))
_WRITTEN = _EVENT.returning(_EVENTS.c.id, _EVENTS.c.created_at).cte("written")
# PostgreSQL: both rows in one statement (a data-modifying CTE), one round trip.
_EVENT_AND_OUTBOX = sa.insert(_OUTBOX).from_select(
    ["audit_event_id", "created_at"], sa.select(_WRITTEN.c.id, _WRITTEN.c.created_at))


@cache
def _with_event_and_outbox(insert: sa.Insert) -> sa.Select:
    """WITH new_row AS (insert), written AS (its event), shipped AS (its outbox row) SELECT new_row.id.

    Built once per insert statement (services.base keeps those), so its compiled form is reused.
    """
    new_row = insert.cte("new_row")
    event_columns = {
        "ticket_id": new_row.c.id,
        "actor_id": sa.cast(sa.bindparam("event_actor_id"), _EVENTS.c.actor_id.type),
        "action": sa.cast(sa.bindparam("event_action"), _EVENTS.c.action.type),
        "after": sa.cast(sa.bindparam("event_after", type_=_EVENTS.c.after.type), _EVENTS.c.after.type),
        "created_at": sa.cast(sa.bindparam("event_at", type_=_EVENTS.c.created_at.type), _EVENTS.c.created_at.type),
    }
    written = (sa.insert(_EVENTS).from_select(list(event_columns), sa.select(*event_columns.values()))
               .returning(_EVENTS.c.id, _EVENTS.c.created_at).cte("written_for_new_row"))
    shipped = sa.insert(_OUTBOX).from_select(
        ["audit_event_id", "created_at"], sa.select(written.c.id, written.c.created_at)).cte("shipped")
    return sa.select(new_row.c.id).add_cte(shipped)


def ticket_history(ticket: Ticket) -> list[AuditEvent]:
    """A ticket's audit trail, newest first (read along the ticket_id, id index)."""
    query = db.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id.desc())
    return list(db.session.scalars(query))


def user_ref(user: User | None) -> dict | None:
    """How a user appears in before/after values: stable id plus the name at the time."""
    return {"id": user.id, "name": user.display_name} if user else None


def cti_ref(ticket: Ticket) -> dict:
    return route_ref(ticket.category, ticket.type, ticket.item)


def route_ref(category, cti_type, item) -> dict:
    """How a route appears in before/after values: the three ids plus the path at the time."""
    return {"categoryId": category.id, "typeId": cti_type.id, "itemId": item.id,
            "path": cti_path(category.name, cti_type.name, item.name)}


AUDIT_ORDER = (AuditEvent.id,)


def ticket_history_query(ticket: Ticket):
    """A ticket's audit events in the order they happened."""
    return db.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(*AUDIT_ORDER)
