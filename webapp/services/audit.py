"""Audit rows and their outbox twins, always written in the caller's transaction."""
from functools import cache

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, Ticket, User
from ..models.ticket import cti_path
from ..db.utc import utcnow
from ..db.execute import execute_first
from . import outbox
from .base import flush


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

    Written by services.outbox as plain INSERTs (no ORM objects), after pending ORM changes are flushed.
    """
    values = {
        "event_ticket_id": ticket.id if ticket is not None else None,
        "event_actor_id": actor.id if actor else None,
        "event_action": action,
        "event_before": before,
        "event_after": after,
        "event_target_type": target[0] if target else None,
        "event_target_id": target[1] if target else None,
        "event_created_at": at or utcnow(),
    }
    flush()  # the ORM changes this event describes go first, their conflicts reported as commit() would
    if ticket is not None and ticket.id is None:
        raise ValueError("insert a new ticket before recording its audit event")
    outbox.write(_ONE_EVENT, values)


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
    event = {"event_actor_id": actor.id, "event_action": action, "event_after": after, "event_created_at": at}
    ticket_id = execute_first(_with_event_and_outbox(insert), {**values, **event})
    if ticket_id is not None:
        outbox.dispatch_after_commit()
    return ticket_id


class _Inserted:
    """A ticket known only by the id its INSERT returned."""

    def __init__(self, ticket_id: int):
        self.id = ticket_id


_ONE_EVENT = outbox.event_row(*outbox.EVENT_COLUMNS)


@cache
def _with_event_and_outbox(insert: sa.Insert) -> sa.Select:
    """WITH new_row AS (insert), written_for_new_row AS (its event), shipped AS (its outbox row)
    SELECT new_row.id, built once per insert statement (db.sql.insert_or_skip keeps those)."""
    new_row = insert.cte("new_row")
    event = outbox.event_row("actor_id", "action", "after", "created_at", ticket_id=new_row.c.id)
    shipped = outbox.events_and_outbox(event, "written_for_new_row").cte("shipped")
    return sa.select(new_row.c.id).add_cte(shipped)


def ticket_history(ticket: Ticket) -> list[AuditEvent]:
    """A ticket's audit trail, newest first (read along the ticket_id, id index)."""
    query = db.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id.desc())
    return list(db.session.scalars(query))


def user_ref(user: User | None) -> dict | None:
    """How a user appears in before/after values: stable id plus the name at the time."""
    return {"id": user.id, "name": user.display_name} if user else None


def with_string_ids(value):
    """An audited before/after value as the API and webhooks show it: every id (a key `id` or
    ending in `Id`) as a string, like every other id they send; stored events keep their numbers."""
    if isinstance(value, dict):
        return {key: str(item) if _is_id(key, item) else with_string_ids(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_string_ids(item) for item in value]
    return value


def _is_id(key: str, item) -> bool:
    return (key == "id" or key.endswith("Id")) and isinstance(item, int) and not isinstance(item, bool)


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
