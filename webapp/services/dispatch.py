"""The outbox fans out to deliveries: one pending WebhookDelivery per event and webhook that wants it,
and to people: the watches and notifications the event gives (services.notify).

dispatch_outbox claims undispatched outbox rows (SKIP LOCKED on PostgreSQL) and, in the same
transaction, creates the deliveries and the notifications; once that commits it asks for one
delivery run (coalesced), which sends every due delivery (delivery_run.py), and a mail run when
notifications wait to be mailed.
"""
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, DeliveryStatus, OutboxEvent, Webhook, WebhookDelivery
from ..db.utc import utcnow
from ..db.sql import among, locked_batch
from . import notify
from .base import after_commit, commit
from .outbox import DELIVER_DUE_JOB

DISPATCH_BATCH = 200


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
    notify.fan_out(claimed, now)
    hooks = db.session.scalars(_ACTIVE_HOOKS).all()
    if hooks:
        _fan_out(claimed, hooks, now)
    commit()
    return len(claimed)


def _fan_out(claimed: list[int], hooks: list[Webhook], now: datetime) -> None:
    """One pending delivery per claimed event and webhook that wants it (in the claim's transaction)."""
    events = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.action, AuditEvent.created_at).where(AuditEvent.id.in_(claimed))
        .order_by(AuditEvent.id)  # deliveries numbered in the order of their events
    ).all()
    rows = [  # a backlog (say, after a Redis outage) goes only to webhooks that existed at the time
        {"webhook_id": hook.id, "audit_event_id": event.id, "status": DeliveryStatus.PENDING,
         "attempts": 0, "next_attempt_at": now, "created_at": now}
        for event in events for hook in hooks
        if hook.wants(event.action) and hook.created_at <= event.created_at
    ]
    if rows:
        db.session.execute(sa.insert(WebhookDelivery), rows)
        after_commit(DELIVER_DUE_JOB)


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


def has_undispatched() -> bool:
    query = sa.select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)).limit(1)
    return db.session.scalar(query) is not None
