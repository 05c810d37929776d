"""The figures of /reports and /api/reports: read from the rollups, or counted along open-queue indexes.

Nothing here scans all tickets: day-range figures sum report_day / report_item_day rows (one per
UTC day x category x severity), and open-ticket ages count the open queue's partial indexes.
Percentiles are estimated from log2 duration buckets (services.report_rollups).
"""
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..db.utc import utcnow
from ..extensions import db
from ..models import SEVERITY_LABELS, Category, CtiType, Item, ReportDay, ReportItemDay, Ticket
from ..models.report import ACK_BUCKETS, HOUR_COLUMNS, RES_BUCKETS
from ..models.ticket import ACTIVE_SQL, cti_path
from .report_filters import ReportFilter
from .report_rollups import bucket_bounds

AGE_BUCKETS = (("lt1d", "< 1 d", 1), ("1to7d", "1–7 d", 7), ("7to30d", "7–30 d", 30), ("gt30d", "> 30 d", None))
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FIRST_RESPONSE = "the ticket's first move to IN_PROGRESS (re-opening keeps it)"
SLA_MESSAGE = "SLA timers are not set up yet: attainment per severity appears here once they are."
TOP_ITEMS = 10


def _severities(f: ReportFilter) -> list[int]:
    return [f.severity] if f.severity else list(SEVERITY_LABELS)


def open_by_age(f: ReportFilter, now: datetime | None = None) -> dict:
    """Open tickets now (the range does not apply), by severity and age since creation."""
    now = now or utcnow()
    ages = [sa.func.sum(sa.case((Ticket.created_at >= now - timedelta(days=limit), 1), else_=0))
            for _, _, limit in AGE_BUCKETS[:-1]]
    query = sa.select(Ticket.severity, sa.func.count(), *ages).where(ACTIVE_SQL).group_by(Ticket.severity)
    if f.category_id is not None:
        query = query.where(Ticket.category_id == f.category_id)
    if f.severity is not None:
        query = query.where(Ticket.severity == f.severity)
    found = {row[0]: row[1:] for row in db.session.execute(query)}
    rows = []
    for severity in _severities(f):
        total, *younger = found.get(severity, (0, 0, 0, 0))
        cumulative = [int(n or 0) for n in younger] + [int(total)]
        counts = [cumulative[0]] + [cumulative[k] - cumulative[k - 1] for k in range(1, len(cumulative))]
        rows.append({"severity": severity, "label": SEVERITY_LABELS[severity][0], "counts": counts,
                     "total": int(total)})
    return {"asOf": now.isoformat(), "buckets": [label for _, label, _ in AGE_BUCKETS], "rows": rows,
            "total": sum(row["total"] for row in rows)}


def open_by_severity() -> list[dict]:
    """The dashboard's chart: open tickets per severity, from the rollup's `open` counts."""
    query = (sa.select(ReportDay.severity, sa.func.sum(ReportDay.open)).where(ReportDay.open > 0)
             .group_by(ReportDay.severity))
    found = dict(db.session.execute(query).all())
    return [{"severity": s, "label": label, "open": int(found.get(s) or 0)} for s, (label, _) in SEVERITY_LABELS.items()]


def _in_range(query, f: ReportFilter, table=ReportDay):
    query = query.where(table.day >= f.start, table.day <= f.end)
    if f.category_id is not None:
        query = query.where(table.category_id == f.category_id)
    if f.severity is not None:
        query = query.where(table.severity == f.severity)
    return query


def created_resolved(f: ReportFilter) -> dict:
    """Tickets created and resolved per day (or ISO week, Monday first) of the range."""
    query = _in_range(sa.select(ReportDay.day, sa.func.sum(ReportDay.created), sa.func.sum(ReportDay.res_count))
                      .group_by(ReportDay.day), f)
    per_day = {row[0]: (int(row[1] or 0), int(row[2] or 0)) for row in db.session.execute(query)}
    points: dict = {}
    for offset in range(f.days):
        day = f.start + timedelta(days=offset)
        start = day - timedelta(days=day.weekday()) if f.by == "week" else day
        point = points.setdefault(start, {"start": start.isoformat(), "created": 0, "resolved": 0})
        created, resolved = per_day.get(day, (0, 0))
        point["created"] += created
        point["resolved"] += resolved
    series = list(points.values())
    return {"by": f.by, "points": series, "created": sum(p["created"] for p in series),
            "resolved": sum(p["resolved"] for p in series)}


def _duration_columns():
    return [sa.func.sum(ReportDay.res_count), sa.func.sum(ReportDay.res_seconds),
            *(sa.func.sum(ReportDay.__table__.c[name]) for name in RES_BUCKETS),
            sa.func.sum(ReportDay.ack_count), sa.func.sum(ReportDay.ack_seconds),
            *(sa.func.sum(ReportDay.__table__.c[name]) for name in ACK_BUCKETS)]


def _figures(values) -> dict:
    """count, mean, median and p90 (seconds) of one duration from its summed rollup columns."""
    count, seconds, *buckets = (int(v or 0) for v in values)
    return {"count": count, "meanSeconds": round(seconds / count) if count else None,
            "medianSeconds": percentile(buckets, 0.5), "p90Seconds": percentile(buckets, 0.9)}


def percentile(buckets: list[int], p: float) -> int | None:
    """The p-quantile of a log2 histogram, interpolated geometrically inside its bucket (linearly in
    the first); in the open-ended last bucket, its lower bound. None without data."""
    total = sum(buckets)
    if not total:
        return None
    rank, below = p * total, 0
    for k, count in enumerate(buckets):
        if count and below + count >= rank:
            low, high = bucket_bounds(k)
            share = (rank - below) / count
            if high is None:
                return round(low)
            return round(low + (high - low) * share if k == 0 else low * (high / low) ** share)
        below += count
    return None


def response_times(f: ReportFilter) -> dict:
    """Time to first response and to resolution, per severity and per category, over the range."""
    width = 2 + len(RES_BUCKETS)
    by_severity = dict((row[0], row[1:]) for row in db.session.execute(
        _in_range(sa.select(ReportDay.severity, *_duration_columns()).group_by(ReportDay.severity), f)))
    by_category = db.session.execute(_in_range(
        sa.select(Category.id, Category.name, *_duration_columns()).join(Category, Category.id == ReportDay.category_id)
        .group_by(Category.id, Category.name).order_by(Category.name), f)).all()

    def both(values) -> dict:
        return {"acknowledge": _figures(values[width:]), "resolve": _figures(values[:width])}

    empty = [0] * (2 * width)
    return {
        "firstResponse": FIRST_RESPONSE,
        "bySeverity": [{"severity": s, "label": SEVERITY_LABELS[s][0], **both(by_severity.get(s, empty))}
                       for s in _severities(f)],
        "byCategory": [{"categoryId": str(row[0]), "name": row[1], **both(row[2:])} for row in by_category],
    }


def top_items(f: ReportFilter) -> dict:
    """The CTI items most tickets were filed under in the range (at most ten)."""
    total = sa.func.sum(ReportItemDay.created).label("total")
    ranked = _in_range(sa.select(ReportItemDay.item_id, total).group_by(ReportItemDay.item_id), f, ReportItemDay)
    ranked = ranked.order_by(total.desc(), ReportItemDay.item_id).limit(TOP_ITEMS).subquery()
    query = (sa.select(Item.id, Category.name, CtiType.name, Item.name, ranked.c.total)
             .join(ranked, ranked.c.item_id == Item.id).join(CtiType, CtiType.id == Item.type_id)
             .join(Category, Category.id == CtiType.category_id).order_by(ranked.c.total.desc(), Item.id))
    return {"items": [{"itemId": str(row[0]), "path": cti_path(row[1], row[2], row[3]), "created": int(row[4])}
                      for row in db.session.execute(query) if row[4]]}


def busiest_hours(f: ReportFilter) -> dict:
    """Tickets created per weekday x hour of day (UTC) over the range."""
    hours = [sa.func.sum(ReportDay.__table__.c[name]) for name in HOUR_COLUMNS]
    query = _in_range(sa.select(ReportDay.day, *hours).group_by(ReportDay.day), f)
    counts = [[0] * len(HOUR_COLUMNS) for _ in WEEKDAYS]
    for day, *per_hour in db.session.execute(query):
        row = counts[day.weekday()]
        for hour, n in enumerate(per_hour):
            row[hour] += int(n or 0)
    return {"timeZone": "UTC", "weekdays": list(WEEKDAYS), "counts": counts,
            "max": max(max(row) for row in counts)}


def sla() -> dict:
    return {"available": False, "message": SLA_MESSAGE}


REPORTS = {
    "open-by-age": lambda f: open_by_age(f),
    "created-resolved": created_resolved,
    "response-times": response_times,
    "top-items": top_items,
    "busiest-hours": busiest_hours,
}


def every_report(f: ReportFilter) -> dict:
    """All figures of the page at once, keyed by report name."""
    return {**{name: figure(f) for name, figure in REPORTS.items()}, "sla": sla()}
