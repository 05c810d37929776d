"""Helpers for the delivery-run tests: due deliveries in bulk, and reading them back."""
from datetime import timedelta

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, DeliveryStatus, WebhookDelivery
from webapp.services import webhooks as service
from webapp.services.webhook_payload import Outgoing
from webapp.db.utc import utcnow

SECRET = "s3cret-for-delivery-runs-0123456789"


def new_webhook(admin, url: str, name: str):
    """A webhook that receives comment events only (its own webhook_create is not sent)."""
    return service.create_webhook(admin, name=name, url=url, secret=SECRET, events=["comment_add"])


def due_deliveries(webhook_id: int, count: int, ticket_id: int | None = None, overdue: float = 1.0) -> list[int]:
    """`count` events and a pending delivery of each to the webhook, due `overdue` seconds ago; committed."""
    now = utcnow()
    events = db.session.scalars(sa.insert(AuditEvent).returning(AuditEvent.id), [
        {"ticket_id": ticket_id, "action": "comment_add", "after": {"n": n}, "created_at": now} for n in range(count)
    ]).all()
    ids = db.session.scalars(sa.insert(WebhookDelivery).returning(WebhookDelivery.id), [
        {"webhook_id": webhook_id, "audit_event_id": event_id, "status": DeliveryStatus.PENDING, "attempts": 0,
         "next_attempt_at": now - timedelta(seconds=overdue), "created_at": now}
        for event_id in events
    ]).all()
    db.session.commit()
    return list(ids)


def rows(webhook_id: int | None = None) -> list[WebhookDelivery]:
    """The deliveries as they are now, read in a transaction of their own (SQLite's write lock is
    not held afterwards, and a later read sees later commits)."""
    db.session.commit()
    db.session.expire_all()
    query = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
    if webhook_id is not None:
        query = query.filter_by(webhook_id=webhook_id)
    found = list(db.session.scalars(query))
    for row in found:
        db.session.expunge(row)
    db.session.commit()
    return found


def delivery_ids(receiver) -> list[int]:
    return [int(request.headers["X-Ticketing-Delivery-Id"]) for request in receiver.requests]


def outgoing(url: str, delivery_id: int = 1) -> Outgoing:
    """An attempt to send by hand, through http_sender."""
    return Outgoing(url=url, secret=SECRET, event_id=delivery_id, action="create", delivery_id=delivery_id,
                    attempt=1, body=b"{}")
