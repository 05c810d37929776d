"""Audit rows and their outbox twins, always added to the caller's transaction."""
from ..extensions import db
from ..models import AuditEvent, OutboxEvent, Ticket, User
from ..timeutil import utcnow
from .base import after_commit

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
) -> AuditEvent:
    """Add one audit event (actor None means the system) and the outbox row that ships it after commit."""
    event = AuditEvent(
        ticket=ticket,
        actor_id=actor.id if actor else None,
        action=action,
        before=before,
        after=after,
        target_type=target[0] if target else None,
        target_id=target[1] if target else None,
        created_at=at or utcnow(),
    )
    db.session.add(event)
    db.session.add(OutboxEvent(audit_event=event, created_at=event.created_at))
    after_commit(DISPATCH_JOB)
    return event


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
