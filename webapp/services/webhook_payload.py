"""What a receiver gets: the event as JSON and its signature (docs/webhooks.md), read a batch at a time."""
import hashlib
import hmac
import json
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, Ticket, User, Webhook, WebhookDelivery
from .audit import with_string_ids


@dataclass(frozen=True)
class Outgoing:
    """Everything one attempt needs, read before the POST so no transaction stays open during it."""

    url: str
    secret: str
    event_id: int
    action: str
    delivery_id: int
    attempt: int
    body: bytes
    webhook_id: int = 0


def outgoing_for(attempts: dict[int, int]) -> list[Outgoing]:
    """What each delivery of `attempts` (id -> the attempt it is) sends, each event encoded once."""
    bodies: dict[int, bytes] = {}
    outgoing = []
    for row in db.session.execute(_PAYLOADS, {"ids": list(attempts)}):
        if row.event_id not in bodies:
            bodies[row.event_id] = encode(event_payload(_event(row)))
        outgoing.append(Outgoing(
            url=row.url, secret=row.secret, event_id=row.event_id, action=row.action, delivery_id=row.id,
            attempt=attempts[row.id], body=bodies[row.event_id], webhook_id=row.webhook_id,
        ))
    return outgoing


def _event(row) -> SimpleNamespace:
    """The audit event as event_payload reads it, from one row of _PAYLOADS (no ORM objects to build)."""
    actor = (SimpleNamespace(id=row.actor_id, username=row.actor_username, display_name=row.actor_display_name)
             if row.actor_id is not None else None)
    ticket = (SimpleNamespace(id=row.ticket_id, display_id=row.display_id, title=row.title, status=row.status,
                              severity=row.severity) if row.ticket_id is not None else None)
    return SimpleNamespace(id=row.event_id, action=row.action, created_at=row.created_at, actor=actor,
                           ticket=ticket, target_type=row.target_type, target_id=row.target_id,
                           before=row.before, after=row.after)


_PAYLOADS = (  # the columns event_payload reads, one row per delivery (docs/performance.md)
    sa.select(WebhookDelivery.id, WebhookDelivery.webhook_id, Webhook.url, Webhook.secret,
              AuditEvent.id.label("event_id"), AuditEvent.action, AuditEvent.created_at, AuditEvent.target_type,
              AuditEvent.target_id, AuditEvent.before, AuditEvent.after, AuditEvent.actor_id,
              User.username.label("actor_username"), User.display_name.label("actor_display_name"),
              AuditEvent.ticket_id, Ticket.display_id, Ticket.title, Ticket.status, Ticket.severity)
    .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
    .join(AuditEvent, AuditEvent.id == WebhookDelivery.audit_event_id)
    .outerjoin(User, User.id == AuditEvent.actor_id)
    .outerjoin(Ticket, Ticket.id == AuditEvent.ticket_id)
    .where(WebhookDelivery.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(WebhookDelivery.id)
)


def event_payload(event: AuditEvent) -> dict:
    """The JSON a receiver gets: the audit event, with who did it and which ticket (as it is now).
    Every id is a string, as in the API."""
    actor, ticket = event.actor, event.ticket
    return with_string_ids({
        "eventId": event.id,
        "action": event.action,
        "occurredAt": event.created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "actor": {"id": actor.id, "username": actor.username, "displayName": actor.display_name}
        if actor else None,
        "ticket": {"id": ticket.id, "displayId": ticket.display_id, "title": ticket.title,
                   "status": ticket.status, "severity": ticket.severity} if ticket else None,
        "target": {"type": event.target_type, "id": event.target_id} if event.target_type else None,
        "before": event.before,
        "after": event.after,
    })


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as sent in X-Ticketing-Signature (docs/webhooks.md)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()
