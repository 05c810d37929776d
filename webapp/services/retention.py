"""What the outbox and webhook deliveries no longer need is deleted after DELIVERY_RETENTION_DAYS.

Dispatched outbox rows and finished deliveries (DELIVERED or FAILED) older than that go, in
batches of one short transaction each, oldest first; pending ones stay, however old. Audit events
are the history and are never pruned.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..db.sql import row_limit
from ..db.utc import utcnow
from ..extensions import db
from ..models import DeliveryStatus, OutboxEvent, WebhookDelivery
from .base import commit

BATCH_SIZE = 1000
FINISHED = (DeliveryStatus.DELIVERED.value, DeliveryStatus.FAILED.value)


@dataclass(frozen=True)
class Pruned:
    outbox: int
    deliveries: int


def prune(as_of: datetime | None = None, batch_size: int = BATCH_SIZE) -> Pruned:
    """Delete dispatched outbox rows and finished deliveries created before the retention window."""
    cut = (as_of or utcnow()) - timedelta(days=current_app.config["DELIVERY_RETENTION_DAYS"])
    return Pruned(
        outbox=_in_batches(OutboxEvent, OutboxEvent.dispatched_at.is_not(None), cut, batch_size),
        deliveries=_in_batches(WebhookDelivery, WebhookDelivery.status.in_(FINISHED), cut, batch_size),
    )


def _in_batches(model, finished, cut: datetime, batch_size: int) -> int:
    """Delete `finished` rows of `model` created before `cut`, the lowest ids first, a batch at a time.

    Old rows sit at the low end of the primary key, so each batch reads little; only the last one,
    finding fewer rows than it may take, reads on to the end of the table.
    """
    batch = (sa.select(model.id).where(finished, model.created_at < cut)
             .order_by(model.id).limit(row_limit(batch_size)))
    total = 0
    while True:
        deleted = db.session.execute(sa.delete(model).where(model.id.in_(batch.scalar_subquery()))).rowcount
        commit()
        total += deleted
        if deleted < batch_size:
            return total
