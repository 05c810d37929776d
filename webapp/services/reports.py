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
    """Open tickets now (the range does not apply), by severity and age since creation.

    Exact without counting every open ticket: the rollup's `open` counts give whole UTC days before
    each boundary's day, and the open-queue index counts the part of that day before the boundary."""
    now = now or utcnow()
    bounds = [now - timedelta(days=limit) for _, _, limit in AGE_BUCKETS[:-1]]
    older = {s: [0] * len(bounds) for s in SEVERITY_LABELS}  # open tickets filed before each bound
    totals = dict.fromkeys(SEVERITY_LABELS, 0)
    whole_days = _narrowed(sa.select(
        ReportDay.severity, sa.func.sum(ReportDay.open),
        *(sa.func.sum(sa.case((ReportDay.day < bound.date(), ReportDay.open), else_=0)) for bound in bounds),
    ).where(ReportDay.open > 0).group_by(ReportDay.severity), f)
    for severity, total, *before in db.session.execute(whole_days):
        totals[severity] = int(total or 0)
        older[severity] = [int(n or 0) for n in before]
    day_parts = sa.union_all(*(  # one range seek per bound: severity IN (...) lets each use the index
        _narrowed(sa.select(sa.literal(k), Ticket.severity, sa.func.count())
                  .where(ACTIVE_SQL, Ticket.severity.in_(_severities(f)),
                         Ticket.created_at >= _midnight(bound), Ticket.created_at < bound)
                  .group_by(Ticket.severity), f, Ticket)
        for k, bound in enumerate(bounds)))
    for k, severity, count in db.session.execute(day_parts):
        older[severity][k] += count
    rows = []
    for severity in _severities(f):
        total, before = totals[severity], older[severity]
        edges = [total, *before]  # filed before now, before 1 d ago, 7 d ago, 30 d ago
        counts = [edges[k] - edges[k + 1] for k in range(len(before))] + [before[-1]]
        rows.append({"severity": severity, "label": SEVERITY_LABELS[severity][0], "counts": counts, "total": total})
    return {"asOf": now.isoformat(), "buckets": [label for _, label, _ in AGE_BUCKETS], "rows": rows,
            "total": sum(row["total"] for row in rows)}


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _narrowed(query, f: ReportFilter, table=ReportDay):
    """The category and severity filters, on a rollup table or on the tickets."""
    if f.category_id is not None:
        query = query.where(table.category_id == f.category_id)
    if f.severity is not None:
        query = query.where(table.severity == f.severity)
    return query


def open_by_severity() -> list[dict]:
    """The dashboard's chart: open tickets per severity, from the rollup's `open` counts."""
    query = (sa.select(ReportDay.severity, sa.func.sum(ReportDay.open)).where(ReportDay.open > 0)
             .group_by(ReportDay.severity))
    found = dict(db.session.execute(query).all())
    return [{"severity": s, "label": label, "open": int(found.get(s) or 0)} for s, (label, _) in SEVERITY_LABELS.items()]


def _in_range(query, f: ReportFilter, table=ReportDay):
    return _narrowed(query.where(table.day >= f.start, table.day <= f.end), f, table)


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
    """Time to first response and to resolution, per severity and per category, over the range
    (one pass over the rollup, grouped by both; each grouping is added up here)."""
    width = 2 + len(RES_BUCKETS)
    query = _in_range(sa.select(ReportDay.severity, ReportDay.category_id, *_duration_columns())
                      .group_by(ReportDay.severity, ReportDay.category_id), f)
    by_severity, by_category = {}, {}
    for severity, category_id, *values in db.session.execute(query):
        for groups, key in ((by_severity, severity), (by_category, category_id)):
            summed = groups.setdefault(key, [0] * (2 * width))
            groups[key] = [a + int(b or 0) for a, b in zip(summed, values)]
    names = dict(db.session.execute(sa.select(Category.id, Category.name).where(Category.id.in_(by_category))).all())

    def both(values) -> dict:
        return {"acknowledge": _figures(values[width:]), "resolve": _figures(values[:width])}

    empty = [0] * (2 * width)
    return {
        "firstResponse": FIRST_RESPONSE,
        "bySeverity": [{"severity": s, "label": SEVERITY_LABELS[s][0], **both(by_severity.get(s, empty))}
                       for s in _severities(f)],
        "byCategory": [{"categoryId": str(c), "name": names[c], **both(by_category[c])}
                       for c in sorted(by_category, key=lambda c: (names[c].lower(), c))],
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
