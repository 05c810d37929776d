"""What a receiver gets: the event as JSON, and its signature (docs/webhooks.md)."""
import hashlib
import hmac
import json
from dataclasses import dataclass

from ..models import AuditEvent
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
