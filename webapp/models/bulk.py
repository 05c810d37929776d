"""Bulk changes that run as jobs: what was asked, how far it got, and each ticket's outcome."""
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow
from .user import User


class BulkStatus(StrEnum):
    QUEUED = "queued"    # waiting for a runner
    RUNNING = "running"  # a runner holds the lease (heartbeat_at says it is alive)
    DONE = "done"        # every selected ticket was tried
    ERROR = "error"      # stopped by an unexpected error; `error` says which


class BulkJob(db.Model):
    """One bulk change: who asked, the changes, the selection (display ids or a filter) and its progress.

    A runner takes the job by its `lease`; each chunk of tickets commits with one item per ticket
    and its counts in one transaction, so a restarted runner goes over the selection again and
    skips every ticket that already has an item.
    """

    __tablename__ = "bulk_job"
    __table_args__ = (Index("ix_bulk_job_unfinished", "status", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changes: Mapped[dict] = mapped_column(JSON)  # service field names: status, assignee_id, ..., comment
    # [[display id, version or null], ...] as given (repeats too), or null for a filter; read once by a
    # runner, not with every look at the job's progress
    targets: Mapped[list | None] = mapped_column(JSON, deferred=True)
    filter_args: Mapped[dict | None] = mapped_column(JSON)  # {argument: [values]}, parsed again each run
    filter_source: Mapped[str | None] = mapped_column(String(8))  # "api" or "web": which parser reads them
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default=BulkStatus.QUEUED)
    lease: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[object | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[object | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined")

    @property
    def finished(self) -> bool:
        return self.status in (BulkStatus.DONE, BulkStatus.ERROR)


class BulkJobItem(db.Model):
    """One ticket's outcome in a job, written in the transaction that changed (or refused) it:
    `error` null means changed. Unique per ticket, so no ticket is changed twice by one job; a
    runner finds what is done by `ref`."""

    __tablename__ = "bulk_job_item"
    __table_args__ = (UniqueConstraint("job_id", "ticket_id"), Index("ix_bulk_job_item_ref", "job_id", "ref"))

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_job.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))  # null: no such ticket, or a repeat
    ref: Mapped[str] = mapped_column(String(64))  # the display id, or the reference as given
    error: Mapped[dict | None] = mapped_column(JSON)  # {code, message, fields}
