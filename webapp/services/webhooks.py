"""Webhook subscriptions, administered by admins; changes are audited (never the secret itself)."""
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AuditEvent, DeliveryStatus, User, Webhook, WebhookDelivery
from ..db.utc import utcnow
from . import audit, egress
from .base import after_commit, commit, get_or_404, parse_id
from .delivery import Outgoing, encode, post
from .outbox import DELIVER_DUE_JOB
from .errors import FieldErrors, ValidationError
from .listing import Page, keyset_page
from .text import checked_text

NAME_MAX = 80
SECRET_MIN, SECRET_MAX = 16, 128
DELIVERIES_PAGE = 50

# The actions a webhook can filter on; an empty filter means all of them, and any added later.
EVENT_CHOICES = (
    ("create", "Ticket created"),
    ("status", "Status changed"),
    ("assignee", "Assignee changed"),
    ("severity", "Severity changed"),
    ("reroute", "Rerouted (category › type › item)"),
    ("title", "Title edited"),
    ("overview", "Overview edited"),
    ("comment_add", "Comment added"),
    ("comment_edit", "Comment edited"),
    ("comment_delete", "Comment deleted"),
    ("watch_add", "Watcher added"),
    ("watch_remove", "Watcher removed"),
    ("link_add", "Ticket linked"),
    ("link_remove", "Ticket link removed"),
    ("attachment_add", "File attached"),
    ("attachment_remove", "File removed"),
    ("attachment_purge", "Removed file purged"),
    ("auto_close", "Auto-closed by the sweep"),
    ("user_create", "User created"),
    ("api_key_rotate", "API key rotated"),
    ("webhook_create", "Webhook created"),
    ("webhook_update", "Webhook changed"),
)
EVENT_NAMES = {name for name, _ in EVENT_CHOICES}
TEST_ACTION = "webhook_test"  # what "Send test event" POSTs; its audit record is never delivered


def new_secret() -> str:
    """A signing secret to offer on the new-webhook form."""
    return secrets.token_urlsafe(32)


def clean_name(value, current: Webhook | None = None) -> str:
    name = " ".join(checked_text("name", value).split()) if isinstance(value, str) else ""
    if not name or len(name) > NAME_MAX:
        raise ValidationError({"name": f"Give the webhook a name of 1–{NAME_MAX} characters."})
    taken = db.session.scalar(sa.select(Webhook.id).where(sa.func.lower(Webhook.name) == name.lower()))
    if taken is not None and (current is None or taken != current.id):
        raise ValidationError({"name": f"A webhook named “{name}” already exists."})
    return name


def clean_secret(value) -> str:
    secret = checked_text("secret", value).strip() if isinstance(value, str) else ""
    if not SECRET_MIN <= len(secret) <= SECRET_MAX:
        raise ValidationError({"secret": f"Use a secret of {SECRET_MIN}–{SECRET_MAX} characters (the suggested one is fine)."})
    return secret


def clean_events(values) -> list[str]:
    events = [values] if isinstance(values, str) else list(values or [])
    unknown = [e for e in events if e not in EVENT_NAMES]
    if unknown:
        raise ValidationError({"events": f"Unknown event {unknown[0]!r}."})
    return [name for name, _ in EVENT_CHOICES if name in events]  # stable order, no duplicates


def _described(hook: Webhook) -> dict:
    """How a webhook appears in the audit trail: everything but the secret."""
    return {"name": hook.name, "url": hook.url, "events": list(hook.events), "active": hook.active}


def create_webhook(actor: User, *, name, url, secret, events=(), active=True) -> Webhook:
    errors = FieldErrors()
    name = errors.check(clean_name, name)
    url = errors.check(egress.check_url, url)
    secret = errors.check(clean_secret, secret)
    events = errors.check(clean_events, events)
    errors.raise_if_any()
    hook = Webhook(name=name, url=url, secret=secret, events=events, active=bool(active), created_at=utcnow())
    db.session.add(hook)
    db.session.flush()
    audit.record(actor, "webhook_create", target=("webhook", hook.id), after=_described(hook))
    commit()
    return hook


def update_webhook(actor: User, hook: Webhook, *, name, url, secret=None, events=(), active=True) -> Webhook:
    """Change a webhook; a blank secret keeps the current one. Audited only if something changed."""
    errors = FieldErrors()
    name = errors.check(lambda v: clean_name(v, hook), name)
    url = errors.check(egress.check_url, url)
    secret = errors.check(clean_secret, secret) if secret and secret.strip() else hook.secret
    events = errors.check(clean_events, events)
    errors.raise_if_any()
    before = _described(hook)
    secret_changed = secret != hook.secret
    hook.name, hook.url, hook.secret, hook.events, hook.active = name, url, secret, events, bool(active)
    after = _described(hook)
    if before == after and not secret_changed:
        return hook
    changed = [key for key in before if before[key] != after[key]]
    audit.record(
        actor, "webhook_update", target=("webhook", hook.id),
        before={k: before[k] for k in changed},
        after={**{k: after[k] for k in changed}, **({"secret": "changed"} if secret_changed else {})},
    )
    commit()
    return hook


def list_webhooks() -> list[Webhook]:
    return list(db.session.scalars(sa.select(Webhook).order_by(sa.func.lower(Webhook.name))))


def get_webhook(ref) -> Webhook:
    return get_or_404(Webhook, ref, f"No webhook {ref}.")


def open_counts(webhook_id: int | None = None) -> dict[int, dict[str, int]]:
    """Pending and failed deliveries per webhook (the status index answers this, not a table scan)."""
    query = (
        sa.select(WebhookDelivery.webhook_id, WebhookDelivery.status, sa.func.count())
        .where(WebhookDelivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]))
        .group_by(WebhookDelivery.webhook_id, WebhookDelivery.status)
    )
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    counts: dict[int, dict[str, int]] = {}
    for webhook_id, status, count in db.session.execute(query):
        counts.setdefault(webhook_id, {})[status] = count
    return counts


def recent_deliveries(hook: Webhook, status=None, before_id=None, limit=DELIVERIES_PAGE) -> Page:
    """Newest first, a page at a time (`before_id`: the last id of the previous page)."""
    query = (
        sa.select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        .options(joinedload(WebhookDelivery.audit_event).joinedload(AuditEvent.ticket))
    )
    if status in DeliveryStatus.__members__:
        query = query.where(WebhookDelivery.status == status)
    before = parse_id(before_id)
    return keyset_page(query, (WebhookDelivery.id,), None if before is None else (before,), limit,
                       descending=True, list_name="deliveries")


def get_delivery(hook: Webhook, ref) -> WebhookDelivery:
    return get_or_404(WebhookDelivery, ref, f"No delivery {ref} for {hook.name}.",
                      accept=lambda delivery: delivery.webhook_id == hook.id)


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again from scratch (a fresh set of attempts), e.g. after fixing the receiver."""
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    after_commit(DELIVER_DUE_JOB)
    commit()
    return delivery


@dataclass(frozen=True)
class TestAnswer:
    """What a receiver said to a test event: its HTTP status (None if nothing was sent) and words."""

    status_code: int | None
    ok: bool
    text: str


def send_test(actor: User, hook: Webhook) -> TestAnswer:
    """POST a signed `webhook_test` event to the webhook now (through the same egress checks as
    every delivery, whether or not it is active) and audit what the receiver answered."""
    payload = {
        "eventId": "0", "action": TEST_ACTION, "test": True,
        "occurredAt": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "actor": {"id": str(actor.id), "username": actor.username, "displayName": actor.display_name},
        "ticket": None, "target": {"type": "webhook", "id": str(hook.id)}, "before": None, "after": None,
    }
    outgoing = Outgoing(url=hook.url, secret=hook.secret, event_id=0, action=TEST_ACTION,
                                 delivery_id=0, attempt=1, body=encode(payload))
    bodies: list[str] = []
    status_code, error = post(outgoing, current_app.config["WEBHOOK_TIMEOUT_SECONDS"], bodies.append)
    if error is None:
        text = f"HTTP {status_code}" + (f": {bodies[0]}" if bodies and bodies[0] else " (empty answer)")
    else:
        text = error
    answer = TestAnswer(status_code, error is None, text)
    audit.record(actor, TEST_ACTION, target=("webhook", hook.id),
                 after={"url": hook.url, "statusCode": status_code, "ok": answer.ok, "answer": text})
    commit()
    return answer
