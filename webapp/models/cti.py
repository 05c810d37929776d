"""The Category -> Type -> Item routing tree."""
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..db.utc import UTCDateTime, utcnow


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    types: Mapped[list["CtiType"]] = relationship(
        back_populates="category", order_by="CtiType.name"
    )


class CtiType(db.Model):
    __tablename__ = "cti_type"
    __table_args__ = (
        UniqueConstraint("category_id", "name"),
        UniqueConstraint("id", "category_id"),  # target of the ticket's consistency FK
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship(back_populates="types")
    items: Mapped[list["Item"]] = relationship(back_populates="type", order_by="Item.name")


class Item(db.Model):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("type_id", "name"),
        UniqueConstraint("id", "type_id"),  # target of the ticket's consistency FK
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("cti_type.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    type: Mapped[CtiType] = relationship(back_populates="items")

    @property
    def path(self) -> str:
        return f"{self.type.category.name} › {self.type.name} › {self.name}"
