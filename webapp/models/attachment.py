"""Files attached to tickets and comments, their bytes (in the database by default), and links between tickets."""
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow
from .user import User

KEPT_SQL = text("removed_at IS NOT NULL AND purged_at IS NULL")  # removed, bytes still held: the purge list


class Attachment(db.Model):
    """One stored file; `removed_at` hides it, `purged_at` records that its bytes are gone."""
    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("storage IN ('db', 's3')", name="storage_known"),
        Index("ix_attachment_ticket", "ticket_id", "id"),
        Index("ix_attachment_comment", "comment_id",
              sqlite_where=text("comment_id IS NOT NULL"), postgresql_where=text("comment_id IS NOT NULL")),
        Index("ix_attachment_removed", "removed_at", sqlite_where=KEPT_SQL, postgresql_where=KEPT_SQL),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id"))
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))  # sniffed from the bytes, never the client's word
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage: Mapped[str] = mapped_column(String(8))  # db: attachment_chunk rows; s3: the object storage_key
    storage_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    purged_at: Mapped[object | None] = mapped_column(UTCDateTime)

    uploader: Mapped[User] = relationship(foreign_keys=[uploader_id], lazy="joined")


class AttachmentChunk(db.Model):
    """A slice of an attachment's bytes, so a file is written and read a piece at a time."""
    __tablename__ = "attachment_chunk"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LinkKind(StrEnum):
    """How two tickets are linked; RELATES_TO is stored once with the lower id as source."""
    RELATES_TO = "relates_to"      # source and target are about the same thing
    DUPLICATE_OF = "duplicate_of"  # source is a duplicate of target (and was closed for it)
    PARENT_OF = "parent_of"        # source is the parent, target one of its children


class TicketLink(db.Model):
    __tablename__ = "ticket_link"
    __table_args__ = (
        CheckConstraint("source_id <> target_id", name="not_self"),
        CheckConstraint("kind IN ('relates_to', 'duplicate_of', 'parent_of')", name="kind_known"),
        Index("uq_ticket_link_pair", "source_id", "target_id", unique=True),
        Index("ix_ticket_link_target", "target_id", "source_id"),
        Index("uq_ticket_link_one_parent", "target_id", unique=True,
              sqlite_where=text("kind = 'parent_of'"), postgresql_where=text("kind = 'parent_of'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
