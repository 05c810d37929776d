"""Operational tables: the webhook outbox, webhook subscriptions, API idempotency keys and the kept-rows version."""
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow


class OutboxEvent(db.Model):
    """Written with every audit event, in its transaction; the worker fans it out to webhooks."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index(
            "ix_outbox_event_pending", "id",
            sqlite_where=text("dispatched_at IS NULL"), postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[object | None] = mapped_column(UTCDateTime)

    audit_event: Mapped["AuditEvent"] = relationship()  # noqa: F821


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"      # waiting for its first or next attempt (next_attempt_at)
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"        # gave up after the last attempt; an admin may redeliver


class Webhook(db.Model):
    """An admin-configured receiver of audit events, POSTed as signed JSON."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    events: Mapped[list] = mapped_column(JSON, default=list)  # empty: every action
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    def wants(self, action: str) -> bool:
        """An empty event filter means every action, including ones added later; the record of a
        test event is never delivered (the test itself was the delivery)."""
        return action != "webhook_test" and (not self.events or action in self.events)


class WebhookDelivery(db.Model):
    """One audit event on its way to one webhook: attempts, the last answer and the next try."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("webhook_id", "audit_event_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"))
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"))
    status: Mapped[str] = mapped_column(String(16), default="PENDING")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    webhook: Mapped[Webhook] = relationship()
    audit_event: Mapped["AuditEvent"] = relationship()  # noqa: F821


class IdempotencyRecord(db.Model):
    """A POST's stored response, replayed when the same key and body come again within 24 h."""

    __tablename__ = "idempotency_record"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_record_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column()
    response_body: Mapped[str] = mapped_column(Text)
    response_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class CacheVersion(db.Model):
    """One row whose number the database raises in every transaction that commits a change to a
    person or the CTI tree (triggers, migration 0002): each process keeps such rows only while it
    reads the same number (services.recent)."""

    __tablename__ = "cache_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class JobRun(db.Model):
    """Each background job's last run (one row per job name): the heartbeat /readyz, /metrics and
    `flask health` read to tell a stalled worker or cron from a quiet one."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    finished_at: Mapped[object] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column()
    result: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column()
    last_ok_at: Mapped[object | None] = mapped_column(UTCDateTime)
