"""Dispatched outbox rows and finished webhook deliveries go after DELIVERY_RETENTION_DAYS; pending
ones and every audit event stay."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.db.utc import utcnow
from webapp.extensions import db
from webapp.jobs import tasks
from webapp.models import AuditEvent, DeliveryStatus, OutboxEvent, Webhook, WebhookDelivery
from webapp.services import retention

NOW = utcnow()
OLD, RECENT = NOW - timedelta(days=31), NOW - timedelta(days=29)


@pytest.fixture
def webhook():
    """Inactive, so the dispatch makes no deliveries of its own: these tests write them."""
    hook = Webhook(name="kept", url="http://10.0.0.9/hook", secret="x" * 32, events=[], active=False)
    db.session.add(hook)
    db.session.commit()
    return hook


def _aged(make, webhook, created_at, *, dispatched: bool, status: DeliveryStatus):
    """A ticket's create event whose outbox row and delivery were made at `created_at`."""
    ticket = make.ticket()
    event = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id)).one()
    outbox = db.session.scalars(sa.select(OutboxEvent).filter_by(audit_event_id=event.id)).one()
    outbox.created_at, outbox.dispatched_at = created_at, created_at if dispatched else None
    db.session.add(WebhookDelivery(webhook_id=webhook.id, audit_event_id=event.id, status=status.value,
                                   created_at=created_at))
    db.session.commit()
    return event.id


def _left(model) -> set[int]:
    return set(db.session.scalars(sa.select(model.audit_event_id)))


def test_only_finished_rows_past_the_window_go_in_batches(app, make, webhook):
    delivered_old = [_aged(make, webhook, OLD - timedelta(hours=n), dispatched=True, status=DeliveryStatus.DELIVERED)
                     for n in range(5)]
    failed_old = _aged(make, webhook, OLD, dispatched=True, status=DeliveryStatus.FAILED)
    delivered_recent = _aged(make, webhook, RECENT, dispatched=True, status=DeliveryStatus.DELIVERED)
    # last: without Redis every commit with events dispatches inline, which would ship this row
    pending_old = _aged(make, webhook, OLD, dispatched=False, status=DeliveryStatus.PENDING)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    pruned = retention.prune(as_of=NOW, batch_size=2)

    assert pruned == retention.Pruned(outbox=6, deliveries=6)
    assert _left(WebhookDelivery) >= {pending_old, delivered_recent}
    assert _left(WebhookDelivery).isdisjoint({*delivered_old, failed_old})
    assert pending_old in _left(OutboxEvent) and delivered_recent in _left(OutboxEvent)
    assert _left(OutboxEvent).isdisjoint({*delivered_old, failed_old})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before
    assert retention.prune(as_of=NOW) == retention.Pruned(outbox=0, deliveries=0)  # nothing left to do


def test_the_window_is_a_setting(app, make, webhook):
    kept = _aged(make, webhook, RECENT, dispatched=True, status=DeliveryStatus.DELIVERED)
    app.config["DELIVERY_RETENTION_DAYS"] = 7
    try:
        assert retention.prune(as_of=NOW) == retention.Pruned(outbox=1, deliveries=1)
    finally:
        app.config["DELIVERY_RETENTION_DAYS"] = 30
    assert kept not in _left(WebhookDelivery)


def test_empty_tables_prune_nothing(app):
    assert retention.prune(as_of=NOW) == retention.Pruned(outbox=0, deliveries=0)


def test_the_hourly_job_prunes(app, make, webhook):
    _aged(make, webhook, OLD, dispatched=True, status=DeliveryStatus.DELIVERED)
    assert tasks.prune_deliveries() >= 2
    assert any(periodic.func is tasks.prune_deliveries for periodic in tasks.PERIODIC)
