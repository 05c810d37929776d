"""Who watches a ticket, and what each person is told: notifications in the inbox and by mail."""
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow


class Reason(StrEnum):
    """Why someone is told of an event; one notification per person and event, the first reason that applies."""
    ASSIGNED = "assigned"      # the ticket was assigned to you
    MENTIONED = "mentioned"    # someone wrote @you
    YOURS_DONE = "yours_done"  # a ticket you filed was resolved or closed
    COMMENT = "comment"        # a comment on a ticket you watch
    STATUS = "status"          # a status change on a ticket you watch


class Mail(StrEnum):
    """A notification's mail: waiting to be sent now, waiting for the daily digest, sent, or given up."""
    PENDING = "pending"
    DIGEST = "digest"
    SENT = "sent"
    FAILED = "failed"


MAIL_DUE_SQL = text("mail IN ('pending', 'digest')")
UNREAD_SQL = text("read_at IS NULL")


class Watch(db.Model):
    """A person watching a ticket: told of its comments and status changes."""
    __tablename__ = "watch"
    __table_args__ = (Index("ix_watch_user", "user_id", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    """One event told to one person; `mail` is NULL when it goes to the inbox only."""
    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint("mail IS NULL OR mail IN ('pending', 'digest', 'sent', 'failed')", name="mail_known"),
        Index("uq_notification_recipient_event", "recipient_id", "audit_event_id", unique=True),
        Index("ix_notification_inbox", "recipient_id", "id"),
        Index("ix_notification_unread", "recipient_id", "ticket_id",
              sqlite_where=UNREAD_SQL, postgresql_where=UNREAD_SQL),
        Index("ix_notification_mail_due", "mail", "mail_next_at",
              sqlite_where=MAIL_DUE_SQL, postgresql_where=MAIL_DUE_SQL),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_event.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)
    mail: Mapped[str | None] = mapped_column(String(8))
    mail_attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    mail_next_at: Mapped[object | None] = mapped_column(UTCDateTime)
    mail_sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    mail_error: Mapped[str | None] = mapped_column(String(300))
