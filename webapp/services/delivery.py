"""Audit events out to webhooks: the outbox fans out to deliveries, each POSTed signed, with retries.

dispatch_outbox claims undispatched outbox rows (SKIP LOCKED on PostgreSQL) and, in the same
transaction, creates one WebhookDelivery per matching active webhook. deliver() claims one due
delivery with a guarded UPDATE (so two workers never send it at once), POSTs it outside any
transaction, then records the answer: DELIVERED, or a retry with exponential backoff, or FAILED.
A target that resolves to a forbidden address (egress.py) is a failed attempt like any other,
retried on the same schedule since DNS may change, and nothing is sent to it.
"""
import hashlib
import hmac
import http.client
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEvent, DeliveryStatus, OutboxEvent, Webhook, WebhookDelivery
from ..db.utc import utcnow
from ..db.sql import among, locked_batch, row_limit
from . import egress
from .audit import with_string_ids
from .base import after_commit, commit
from .errors import ValidationError

DISPATCH_BATCH = 200
REQUEUE_LIMIT = 500
BACKOFF_CAP = timedelta(hours=1)
ERROR_MAX = 300  # the whole last_error of a delivery
EXCERPT_MAX = 200  # of it, the start of a failed answer's body
REASON_MAX = 60  # and its reason phrase
DELIVER_JOB = "webapp.jobs.tasks.deliver_webhook"
USER_AGENT = "Ticketing-Webhooks/1.0"


def dispatch_outbox(batch_size: int = DISPATCH_BATCH) -> int:
    """Fan every undispatched outbox row out to deliveries; returns how many rows it dispatched.

    A batch shorter than `batch_size` took every row its statement could see (or another
    dispatcher holds the rest), so the run ends there instead of asking again for nothing.
    """
    total = 0
    while True:
        count = _dispatch_batch(batch_size)
        total += count
        if count < batch_size:
            return total


def _dispatch_batch(batch_size: int) -> int:
    now = utcnow()
    claim = _claim_statement(db.session.get_bind().dialect.name)
    claimed = db.session.scalars(claim, {"now": now, "batch_size": batch_size}).all()
    if not claimed:
        commit()
        return 0
    hooks = db.session.scalars(_ACTIVE_HOOKS).all()
    if hooks:
        _fan_out(claimed, hooks, now)
    commit()
    return len(claimed)


def _fan_out(claimed: list[int], hooks: list[Webhook], now: datetime) -> None:
    """One pending delivery per claimed event and webhook that wants it (in the claim's transaction)."""
    events = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.created_at).where(AuditEvent.id.in_(claimed))
    ).all()
    rows = [  # a backlog (say, after a Redis outage) goes only to webhooks that existed at the time
        {"webhook_id": hook.id, "audit_event_id": event.id, "status": DeliveryStatus.PENDING,
         "attempts": 0, "next_attempt_at": now, "created_at": now}
        for event in events for hook in hooks
        if hook.wants(event.action) and hook.created_at <= event.created_at
    ]
    if rows:
        for delivery_id in db.session.scalars(sa.insert(WebhookDelivery).returning(WebhookDelivery.id), rows):
            after_commit(DELIVER_JOB, delivery_id)


_ACTIVE_HOOKS = sa.select(Webhook).where(Webhook.active == sa.true())


@cache
def _claim_statement(dialect_name: str) -> sa.Update:
    """UPDATE outbox SET dispatched_at = :now for the next :batch_size pending rows no one else
    holds, RETURNING their audit event ids; built once per dialect (docs/performance.md)."""
    table = OutboxEvent.__table__
    pending = sa.select(table.c.id).where(table.c.dispatched_at.is_(None)).order_by(table.c.id)
    picked = locked_batch(pending, "batch_size")
    return (
        sa.update(table)
        .where(among(table.c.id, sa.select(picked.c.id)), table.c.dispatched_at.is_(None))
        .values(dispatched_at=sa.bindparam("now", type_=table.c.dispatched_at.type))
        .returning(table.c.audit_event_id)
    )


def outstanding() -> tuple[bool, list[int]]:
    """What is still owed: undispatched outbox rows?, and the deliveries due now; ends its read transaction."""
    owed = has_undispatched(), due_delivery_ids()
    commit()
    return owed


def has_undispatched() -> bool:
    query = sa.select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)).limit(1)
    return db.session.scalar(query) is not None


def due_delivery_ids(now: datetime | None = None, limit: int = REQUEUE_LIMIT) -> list[int]:
    """Pending deliveries of active webhooks whose next attempt is due, most overdue first."""
    query = (
        sa.select(WebhookDelivery.id)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= (now or utcnow()),
            Webhook.active == sa.true(),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(row_limit(limit))
    )
    return list(db.session.scalars(query))


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


def deliver(delivery_id: int) -> DeliveryStatus | None:
    """Make one attempt at a due delivery; None when it is not due, done, or its webhook is off."""
    outgoing = _claim(delivery_id)
    if outgoing is None:
        return None
    status_code, error = post(outgoing, timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    return _record(delivery_id, status_code, error)


def _claim(delivery_id: int) -> Outgoing | None:
    """Count the attempt and lease the row (next_attempt_at moves past the timeout) in one UPDATE."""
    now = utcnow()
    lease = timedelta(seconds=max(60.0, 3 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"]))
    active = sa.select(Webhook.id).where(Webhook.active == sa.true())
    attempt = db.session.scalar(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.webhook_id.in_(active),
        )
        .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + lease)
        .returning(WebhookDelivery.attempts)
        .execution_options(synchronize_session=False)
    )
    if attempt is None:
        commit()
        return None
    delivery = db.session.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        .options(joinedload(WebhookDelivery.webhook), joinedload(WebhookDelivery.audit_event))
    ).one()
    event = delivery.audit_event
    outgoing = Outgoing(
        url=delivery.webhook.url, secret=delivery.webhook.secret, event_id=event.id, action=event.action,
        delivery_id=delivery.id, attempt=attempt, body=encode(event_payload(event)),
    )
    commit()
    return outgoing


def _record(delivery_id: int, status_code: int | None, error: str | None) -> DeliveryStatus:
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    delivery.last_status_code = status_code
    delivery.last_error = error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif delivery.attempts >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    status = DeliveryStatus(delivery.status)
    commit()
    return status


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: base, 2×base, 4×base … after the 1st, 2nd, 3rd failure, capped."""
    base = current_app.config["WEBHOOK_BACKOFF_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), BACKOFF_CAP)


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


def post(outgoing: Outgoing, timeout: float) -> tuple[int | None, str | None]:
    """POST one signed attempt; returns (HTTP status or None, error text or None on success).

    The host is resolved once and every address checked (egress.py) before a byte is sent, and
    only a checked address is connected to. A redirect is an answer to fix at the receiver: it
    counts as a failure and is not followed.
    """
    try:
        target = egress.parse(outgoing.url)
        addresses = egress.checked_addresses(target)
    except ValidationError as exc:  # a URL stored before today's rules
        return None, _clip(f"Refused, nothing sent: {exc.fields['url']}")
    except egress.Refused as exc:
        return None, _clip(str(exc))
    except (OSError, UnicodeError) as exc:
        return None, _clip(f"Could not resolve {target.host}: {exc}")
    conn = egress.connection(target, addresses, timeout)
    try:
        try:
            conn.connect()
        except OSError as exc:
            return None, _clip(f"Could not connect: {exc}")
        return _exchange(conn, target.path, outgoing)
    except (OSError, http.client.HTTPException) as exc:
        return None, _clip(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def _exchange(conn: http.client.HTTPConnection, path: str, outgoing: Outgoing) -> tuple[int, str | None]:
    timestamp = int(time.time())
    conn.request("POST", path, body=outgoing.body, headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Ticketing-Event-Id": str(outgoing.event_id),
        "X-Ticketing-Event": outgoing.action,
        "X-Ticketing-Delivery-Id": str(outgoing.delivery_id),
        "X-Ticketing-Attempt": str(outgoing.attempt),
        "X-Ticketing-Timestamp": str(timestamp),
        "X-Ticketing-Signature": sign(outgoing.secret, timestamp, outgoing.body),
    })
    response = conn.getresponse()
    if 200 <= response.status < 300:
        return response.status, None
    detail = excerpt(response.read(EXCERPT_MAX * 4))  # enough bytes for EXCERPT_MAX characters of UTF-8
    reason = _clip(response.reason, REASON_MAX)
    return response.status, _clip(f"HTTP {response.status} {reason}" + (f": {detail}" if detail else ""))


def excerpt(raw: bytes) -> str:
    """The start of a failed answer's body, all we keep of it: one line, at most EXCERPT_MAX characters."""
    return _clip(raw.decode("utf-8", "replace"), EXCERPT_MAX)


def _clip(text: str, limit: int = ERROR_MAX) -> str:
    """Text from outside, printable and on one line (PostgreSQL refuses NUL), cut to `limit`."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
