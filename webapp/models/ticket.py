"""Tickets, their comments and their append-only audit trail."""
from enum import StrEnum

from sqlalchemy import (
    JSON, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, SmallInteger, String,
    Text, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow
from .cti import Category, CtiType, Item
from .user import User


class Status(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


ACTIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS)


def status_sql(status: Status) -> str:
    """A status as a SQL string literal ('OPEN'), for SQL text that partial indexes and queries must share."""
    return f"'{status.value}'"


def status_in_sql(statuses) -> str:
    """`status IN ('OPEN', 'IN_PROGRESS')` for `statuses`, in their order."""
    return f"status IN ({', '.join(status_sql(status) for status in statuses)})"


SEVERITY_LABELS = {
    1: ("Critical", "immediate action required"),
    2: ("High", "significant impact"),
    3: ("Medium", "standard priority"),
    4: ("Low", "minor issue"),
    5: ("Minimal", "informational / automated"),
}
# The open-queue predicate, written once: queries must repeat it literally to use the partial indexes.
ACTIVE_SQL = text(status_in_sql(ACTIVE_STATUSES))
RESOLVED_SQL = text(f"status = {status_sql(Status.RESOLVED)}")  # the auto-close sweep's queue
DEDUP_SQL = text(f"dedup_key IS NOT NULL AND {ACTIVE_SQL.text}")  # one open ticket per dedup key


def _active_index(name: str, *columns: str) -> Index:
    """A partial index over the open queue, the rows the dashboard reads all day."""
    return Index(name, *columns, sqlite_where=ACTIVE_SQL, postgresql_where=ACTIVE_SQL)


def cti_path(category: str, type_: str, item: str) -> str:
    """Category › Type › Item, as every page writes a ticket's route."""
    return f"{category} › {type_} › {item}"


class Ticket(db.Model):
    __tablename__ = "ticket"
    __table_args__ = (
        CheckConstraint("severity BETWEEN 1 AND 5", name="severity_range"),
        CheckConstraint(status_in_sql(Status), name="status_known"),
        # The item must sit under the type, and the type under the category.
        ForeignKeyConstraint(["item_id", "type_id"], ["item.id", "item.type_id"]),
        ForeignKeyConstraint(["type_id", "category_id"], ["cti_type.id", "cti_type.category_id"]),
        _active_index("ix_ticket_active_queue", "severity", "created_at", "id"),
        _active_index("ix_ticket_active_assignee", "assignee_id", "severity", "created_at", "id"),
        _active_index("ix_ticket_active_category", "category_id", "severity", "created_at", "id"),
        Index("ix_ticket_queue", "severity", "created_at", "id"),
        Index("ix_ticket_status_queue", "status", "severity", "created_at", "id"),
        Index("ix_ticket_assignee_queue", "assignee_id", "status", "severity", "created_at"),
        Index("ix_ticket_category_queue", "category_id", "status", "severity", "created_at"),
        Index("ix_ticket_updated", "updated_at", "id"),
        Index("ix_ticket_created", "created_at", "id"),  # the newest-first sort
        Index(
            "ix_ticket_resolved_due", "resolved_at",
            sqlite_where=RESOLVED_SQL, postgresql_where=RESOLVED_SQL,
        ),
        Index(
            "uq_ticket_open_dedup_key", "dedup_key", unique=True,
            sqlite_where=DEDUP_SQL, postgresql_where=DEDUP_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_id: Mapped[str] = mapped_column(String(10), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    overview: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default=Status.OPEN)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    type_id: Mapped[int] = mapped_column()  # FKs: the composite constraints above
    item_id: Mapped[int] = mapped_column()
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    dedup_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # The first move to IN_PROGRESS (the reports' "first response"); kept when the ticket is re-opened.
    first_response_at: Mapped[object | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    category: Mapped[Category] = relationship(foreign_keys=[category_id], lazy="joined")
    type: Mapped[CtiType] = relationship(
        primaryjoin="Ticket.type_id == CtiType.id", foreign_keys=[type_id], lazy="joined"
    )
    item: Mapped[Item] = relationship(
        primaryjoin="Ticket.item_id == Item.id", foreign_keys=[item_id], lazy="joined"
    )
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    creator: Mapped[User] = relationship(foreign_keys=[creator_id], lazy="joined")

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity][0]

    @property
    def cti_path(self) -> str:
        return cti_path(self.category.name, self.type.name, self.item.name)

    def __repr__(self) -> str:
        return f"<Ticket {self.display_id} SEV{self.severity} {self.status}>"


class Comment(db.Model):
    __tablename__ = "comment"
    __table_args__ = (Index("ix_comment_ticket", "ticket_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    edited_at: Mapped[object | None] = mapped_column(UTCDateTime)  # the author's last edit, if any

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    ticket: Mapped[Ticket] = relationship(foreign_keys=[ticket_id])


class AuditEvent(db.Model):
    """Append-only: nothing updates or deletes a row (a DB trigger refuses it too)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_ticket", "ticket_id", "id"),
        Index(
            "ix_audit_event_admin", "id",
            sqlite_where=text("ticket_id IS NULL"), postgresql_where=text("ticket_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(32))
    target_type: Mapped[str | None] = mapped_column(String(16))  # admin events: user, cti, ...
    target_id: Mapped[int | None] = mapped_column()
    before: Mapped[object | None] = mapped_column(JSON)
    after: Mapped[object | None] = mapped_column(JSON)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
    ticket: Mapped[Ticket | None] = relationship(foreign_keys=[ticket_id])
