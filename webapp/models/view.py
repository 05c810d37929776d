"""Saved views: a named set of queue filters, kept by one person or shared with everyone."""
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow
from .user import User

SHARED_SQL, PERSONAL_SQL = text("shared"), text("NOT shared")


class SavedView(db.Model):
    """`filters` holds the queue's canonical query arguments (services.listing.ListFilter.as_args);
    a view without an owner is built in (seeded), and is always shared."""

    __tablename__ = "saved_view"
    __table_args__ = (
        CheckConstraint("shared OR owner_id IS NOT NULL", name="owned_unless_shared"),
        # Names are unique where the sidebar lists them side by side: among shared views, and among
        # one person's own. `name_key` is the name case-folded, so "Open" and "open" collide.
        Index("uq_saved_view_shared_name", "name_key", unique=True,
              sqlite_where=SHARED_SQL, postgresql_where=SHARED_SQL),
        Index("uq_saved_view_personal_name", "owner_id", "name_key", unique=True,
              sqlite_where=PERSONAL_SQL, postgresql_where=PERSONAL_SQL),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(80))
    name_key: Mapped[str] = mapped_column(String(255))
    shared: Mapped[bool] = mapped_column(default=False)
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined")

    @property
    def builtin(self) -> bool:
        return self.owner_id is None

    def __repr__(self) -> str:
        return f"<SavedView {self.id} {self.name!r}{' shared' if self.shared else ''}>"
