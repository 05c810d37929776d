"""Audit rows and their outbox twins, always written in the caller's transaction."""
import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, OutboxEvent, Ticket, User
from ..timeutil import utcnow
from .base import after_commit, flush

DISPATCH_JOB = "webapp.tasks.dispatch_outbox"


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


def ticket_history(ticket: Ticket) -> list[AuditEvent]:
    """A ticket's audit trail, newest first (read along the ticket_id, id index)."""
    query = db.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id.desc())
    return list(db.session.scalars(query))


def event_count(ticket: Ticket) -> int:
    query = db.select(db.func.count()).select_from(AuditEvent).filter_by(ticket_id=ticket.id)
    return db.session.scalar(query)


def user_ref(user: User | None) -> dict | None:
    """How a user appears in before/after values: stable id plus the name at the time."""
    return {"id": user.id, "name": user.display_name} if user else None


def cti_ref(ticket: Ticket) -> dict:
    return {
        "categoryId": ticket.category_id,
        "typeId": ticket.type_id,
        "itemId": ticket.item_id,
        "path": ticket.cti_path,
    }


AUDIT_ORDER = (AuditEvent.id,)


def ticket_history_query(ticket: Ticket):
    """A ticket's audit events in the order they happened."""
    return db.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(*AUDIT_ORDER)
