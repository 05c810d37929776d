"""Webhook deliveries' rows: claimed in batches before the POSTs, their answers recorded in batches after.

A claim is one guarded UPDATE that counts the attempt and leases the row (next_attempt_at moves past
the time a send can take), for due deliveries of active webhooks that no other transaction holds
(SKIP LOCKED on PostgreSQL), so two workers never send one delivery at once. The POSTs happen
outside any transaction (delivery_run.py, http_sender.py). The answers are recorded in one
statement per batch, each row guarded by the attempt it answers: DELIVERED, or a retry at the
backoff schedule's time with jitter, or FAILED after WEBHOOK_MAX_ATTEMPTS. A target that resolves
to a forbidden address (egress.py) is a failed attempt like any other, retried on the same schedule
since DNS may change, and nothing is sent to it.
"""
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import DeliveryStatus, Webhook, WebhookDelivery
from ..db.utc import UTCDateTime, utcnow
from ..db.sql import among, in_ids, locked_batch, row_limit
from .base import commit
from .dispatch import dispatch_outbox, has_undispatched  # noqa: F401  (the delivery API, in one place)
from .http_sender import EXCERPT_MAX, Answer, Connections, check_targets, post  # noqa: F401
from .outbox import DELIVER_DUE_JOB  # noqa: F401
from .webhook_payload import Outgoing, encode, event_payload, outgoing_for, sign  # noqa: F401

log = logging.getLogger(__name__)
REQUEUE_LIMIT = 500
BACKOFF_CAP = timedelta(hours=1)
DELIVER_JOB = "webapp.jobs.tasks.deliver_webhook"  # one delivery by id: jobs queued before batch runs
uniform = random.uniform  # the jitter's draw; tests put their own in


def outstanding() -> tuple[bool, list[int]]:
    """What is still owed: undispatched outbox rows?, and the deliveries due now; ends its read transaction."""
    owed = has_undispatched(), due_delivery_ids()
    commit()
    return owed


def due_delivery_ids(now: datetime | None = None, limit: int = REQUEUE_LIMIT) -> list[int]:
    """Pending deliveries of active webhooks whose next attempt is due, most overdue first."""
    query = (
        sa.select(WebhookDelivery.id)
        .where(_pending_of_active_webhooks(), WebhookDelivery.next_attempt_at <= (now or utcnow()))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(row_limit(limit))
    )
    return list(db.session.scalars(query))


def next_due_at(after: datetime | None = None) -> datetime | None:
    """When the next pending delivery of an active webhook falls due after `after` (a retry, or a
    lease running out); ends its read transaction."""
    query = (
        sa.select(WebhookDelivery.next_attempt_at)
        .where(_pending_of_active_webhooks(), WebhookDelivery.next_attempt_at > (after or utcnow()))
        .order_by(WebhookDelivery.next_attempt_at).limit(1)
    )
    due = db.session.scalar(query)
    commit()
    return due


def _pending_of_active_webhooks():
    active = sa.select(Webhook.id).where(Webhook.active == sa.true())
    return sa.and_(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.webhook_id.in_(active))


def deliver(delivery_id: int) -> DeliveryStatus | None:
    """Make one attempt at a due delivery; None when it is not due, done, or its webhook is off."""
    outgoing = _claim(delivery_id)
    if outgoing is None:
        return None
    connections = Connections(current_app.config["WEBHOOK_TIMEOUT_SECONDS"], keep_alive=False)
    answer = connections.send(outgoing, check_targets([outgoing.url])[outgoing.url])
    [status] = record([(outgoing, answer)])
    return status


def _claim(delivery_id: int) -> Outgoing | None:
    """Count the attempt and lease this one row, if it is due."""
    params = {**_lease_params(), "ids": [delivery_id]}
    claimed = db.session.execute(_claim_by_id(db.session.get_bind().dialect.name), params).all()
    found = _outgoing(claimed)
    return found[0] if found else None


def claim_due(limit: int, per_webhook: int, skip=frozenset(), opened=frozenset()) -> list[Outgoing]:
    """Count the attempt and lease up to `limit` due deliveries, oldest first: at most `per_webhook`
    of each webhook in `opened`, one of any other, none of `skip`. Their payloads are read in the
    same transaction."""
    params = {**_lease_params(), "skip": sorted(skip), "opened": sorted(opened), "limit": limit,
              "scan": 2 * limit, "per_webhook": per_webhook}
    claimed = db.session.execute(_claim_batch(db.session.get_bind().dialect.name), params).all()
    return _outgoing(claimed)


def lease_seconds(timeout: float) -> float:
    """How long a claim keeps its rows from other runs: a run starts a send only with two timeouts
    of it left (a kept connection found closed, then a new one), or hands the row back unsent."""
    return max(60.0, 4 * timeout)


def _lease_params() -> dict:
    now = utcnow()
    lease = lease_seconds(current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
    return {"now": now, "lease_until": now + timedelta(seconds=lease)}


_TABLE = WebhookDelivery.__table__


def _due():
    """Pending, due at :now, of an active webhook: checked again by the UPDATE, whatever picked the rows."""
    table = _TABLE
    active = sa.select(Webhook.id).where(Webhook.active == sa.true())
    return (table.c.status == DeliveryStatus.PENDING.value,
            table.c.next_attempt_at <= sa.bindparam("now", type_=UTCDateTime), table.c.webhook_id.in_(active))


def _leased(rows: sa.ColumnElement) -> sa.Update:
    """UPDATE the due rows `rows` selects: one more attempt, leased until :lease_until."""
    table = _TABLE
    return (
        sa.update(table)
        .where(rows, *_due())
        .values(attempts=table.c.attempts + 1, next_attempt_at=sa.bindparam("lease_until", type_=UTCDateTime))
        .returning(table.c.id, table.c.webhook_id, table.c.attempts)
    )


@cache
def _claim_by_id(dialect_name: str) -> sa.Update:
    return _leased(in_ids(_TABLE.c.id, "ids"))


@cache
def _claim_batch(dialect_name: str) -> sa.Update:
    """The next due rows no one else holds (:scan of them, locked), at most :per_webhook of each
    webhook in :opened and one of any other, :limit in all, webhooks :skip left out; built once per dialect."""
    table = _TABLE
    due = (
        sa.select(table.c.id, table.c.webhook_id, table.c.next_attempt_at)
        .where(*_due(), sa.not_(in_ids(table.c.webhook_id, "skip")))
        .order_by(table.c.next_attempt_at, table.c.id)
    )
    picked = locked_batch(due, "scan")
    turn = sa.func.row_number().over(partition_by=picked.c.webhook_id,
                                     order_by=(picked.c.next_attempt_at, picked.c.id))
    share = sa.case((in_ids(picked.c.webhook_id, "opened"), sa.bindparam("per_webhook", type_=sa.Integer)), else_=1)
    ranked = sa.select(picked.c.id, turn.label("turn"), share.label("share")).cte("ranked")
    chosen = sa.select(ranked.c.id).where(ranked.c.turn <= ranked.c.share).limit(row_limit("limit"))
    return _leased(among(table.c.id, chosen))


def _outgoing(claimed) -> list[Outgoing]:
    """The claimed rows' payloads, read before the claim commits."""
    found = outgoing_for({row.id: row.attempts for row in claimed}) if claimed else []
    commit()
    return found


@dataclass(frozen=True)
class _Outcome:
    status: DeliveryStatus
    next_attempt_at: datetime | None


def record(answered: list[tuple[Outgoing, Answer]]) -> list[DeliveryStatus]:
    """Write each attempt's answer in one statement (a row another attempt has moved on from is left
    alone); failures are logged with webhook, delivery, event and reason, never a body or secret."""
    if not answered:
        return []
    now = utcnow()
    outcomes = [_outcome(outgoing, answer, now) for outgoing, answer in answered]
    db.session.execute(_RECORD, [
        {"b_id": outgoing.delivery_id, "b_attempt": outgoing.attempt, "b_status": outcome.status.value,
         "b_code": answer.status_code, "b_error": answer.error, "b_next": outcome.next_attempt_at,
         "b_delivered_at": now if answer.error is None else None}
        for (outgoing, answer), outcome in zip(answered, outcomes)
    ])
    commit()
    for (outgoing, answer), outcome in zip(answered, outcomes):
        if answer.error is not None:
            _log_failure(outgoing, answer, outcome, now)
    return [outcome.status for outcome in outcomes]


def _outcome(outgoing: Outgoing, answer: Answer, now: datetime) -> _Outcome:
    if answer.error is None:
        return _Outcome(DeliveryStatus.DELIVERED, None)
    if outgoing.attempt >= current_app.config["WEBHOOK_MAX_ATTEMPTS"]:
        return _Outcome(DeliveryStatus.FAILED, None)
    return _Outcome(DeliveryStatus.PENDING, now + retry_delay(outgoing.attempt))


def _log_failure(outgoing: Outgoing, answer: Answer, outcome: _Outcome, now: datetime) -> None:
    then = ("given up" if outcome.next_attempt_at is None
            else f"next try in {(outcome.next_attempt_at - now).total_seconds():.0f}s")
    log.warning("webhook %s: delivery %s of event %s failed (attempt %s, %s): %s", outgoing.webhook_id,
                outgoing.delivery_id, outgoing.event_id, outgoing.attempt, then, answer.summary,
                extra={"webhook_id": outgoing.webhook_id, "delivery_id": outgoing.delivery_id,
                       "event_id": outgoing.event_id, "attempt": outgoing.attempt, "reason": answer.summary,
                       "given_up": outcome.next_attempt_at is None})


_RECORD = (
    sa.update(_TABLE)
    .where(_TABLE.c.id == sa.bindparam("b_id"), _TABLE.c.attempts == sa.bindparam("b_attempt"),
           _TABLE.c.status == DeliveryStatus.PENDING.value)
    .values(status=sa.bindparam("b_status"), last_status_code=sa.bindparam("b_code"),
            last_error=sa.bindparam("b_error"), next_attempt_at=sa.bindparam("b_next", type_=UTCDateTime),
            delivered_at=sa.bindparam("b_delivered_at", type_=UTCDateTime))
)


def hand_back(unsent: list[Outgoing]) -> None:
    """Release claimed deliveries that were never sent: due again now, their attempt not counted."""
    if not unsent:
        return
    db.session.execute(_HAND_BACK, [{"b_id": outgoing.delivery_id, "b_attempt": outgoing.attempt,
                                     "b_now": utcnow()} for outgoing in unsent])
    commit()


_HAND_BACK = (
    sa.update(_TABLE)
    .where(_TABLE.c.id == sa.bindparam("b_id"), _TABLE.c.attempts == sa.bindparam("b_attempt"),
           _TABLE.c.status == DeliveryStatus.PENDING.value)
    .values(attempts=_TABLE.c.attempts - 1, next_attempt_at=sa.bindparam("b_now", type_=UTCDateTime))
)


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: base, 2×base, 4×base … after the 1st, 2nd, 3rd failure, capped."""
    base = current_app.config["WEBHOOK_BACKOFF_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def retry_delay(attempts: int) -> timedelta:
    """The backoff, spread by ±WEBHOOK_BACKOFF_JITTER of itself, so failures at one moment (a
    receiver down) do not all come back at one moment."""
    jitter = current_app.config.get("WEBHOOK_BACKOFF_JITTER", 0.0)
    return backoff(attempts) * (1 + uniform(-jitter, jitter))
