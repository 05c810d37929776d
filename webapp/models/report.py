"""Report rollups: counts per UTC day x category x severity, kept in step with the tickets.

Written only by services.report_rollups, in the transaction of the change they count. Durations
are summed (for exact means) and counted into fixed log2 buckets (for percentiles).
"""
from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, SmallInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

BUCKETS = 20  # bucket 0: < 1 min; k: [2^(k-1), 2^k) min; 19: >= 2^18 min (182 days)
HOURS = 24
HOUR_COLUMNS = tuple(f"h{hour:02d}" for hour in range(HOURS))
RES_BUCKETS = tuple(f"res_{k:02d}" for k in range(BUCKETS))
ACK_BUCKETS = tuple(f"ack_{k:02d}" for k in range(BUCKETS))
DAY_COUNTS = ("created", "open", "res_count", "res_seconds", "ack_count", "ack_seconds",
              *HOUR_COLUMNS, *RES_BUCKETS, *ACK_BUCKETS)


def _counter(big: bool = False):
    return mapped_column(BigInteger if big else Integer, default=0, server_default=text("0"), nullable=False)


class ReportDay(db.Model):
    """One UTC day x category x severity: tickets created (by hour), still open, resolved, first responses."""

    __tablename__ = "report_day"
    # Open-ticket sums (dashboard, open-by-age) read this index alone: only rows with open tickets.
    __table_args__ = (Index("ix_report_day_open", "severity", "category_id", "day", "open",
                            sqlite_where=text("open > 0"), postgresql_where=text("open > 0")),)

    day: Mapped[object] = mapped_column(Date, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), primary_key=True)
    severity: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    created: Mapped[int] = _counter()
    open: Mapped[int] = _counter()  # of the tickets created that day, how many are OPEN or IN_PROGRESS now
    res_count: Mapped[int] = _counter()  # tickets whose (current) resolution fell on this day
    res_seconds: Mapped[int] = _counter(big=True)
    ack_count: Mapped[int] = _counter()  # tickets first moved to IN_PROGRESS on this day
    ack_seconds: Mapped[int] = _counter(big=True)


for _name in (*HOUR_COLUMNS, *RES_BUCKETS, *ACK_BUCKETS):
    setattr(ReportDay, _name, mapped_column(_name, Integer, default=0, server_default=text("0"), nullable=False))


class ReportItemDay(db.Model):
    """One UTC day x CTI item x severity: tickets created, for the top-items report."""

    __tablename__ = "report_item_day"
    __table_args__ = (Index("ix_report_item_day_category", "category_id", "day"),)

    day: Mapped[object] = mapped_column(Date, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    severity: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    created: Mapped[int] = _counter()
