"""The reports' figures as charts and as tables (the same table feeds the HTML fallback and the CSV)."""
import csv
import io

from markupsafe import Markup

from ..services.reports import AGE_BUCKETS
from . import charts

AGE_CLASSES = ("chart-age0", "chart-age1", "chart-age2", "chart-age3")
DURATIONS = (("acknowledge", "first response"), ("resolve", "resolution"))


def tables(name: str, figures: dict) -> tuple[list[tuple[str, str]], list[list]]:
    """(columns as (heading, kind), rows) of one report; kind: text, count or seconds."""
    if name == "open-by-age":
        columns = [("Severity", "text"), *((label, "count") for _, label, _ in AGE_BUCKETS), ("Total", "count")]
        return columns, [[f"SEV {r['severity']} {r['label']}", *r["counts"], r["total"]] for r in figures["rows"]]
    if name == "created-resolved":
        heading = "Week of" if figures["by"] == "week" else "Day"
        return ([(heading, "text"), ("Created", "count"), ("Resolved", "count")],
                [[p["start"], p["created"], p["resolved"]] for p in figures["points"]])
    if name == "response-times":
        columns = [("Group", "text")]
        for key, label in DURATIONS:
            columns += [(f"{label.capitalize()}s", "count"), (f"Median {label}", "seconds"),
                        (f"p90 {label}", "seconds"), (f"Mean {label}", "seconds")]
        groups = [(f"SEV {r['severity']} {r['label']}", r) for r in figures["bySeverity"]]
        groups += [(r["name"], r) for r in figures["byCategory"]]
        return columns, [[group, *(r[key][f] for key, _ in DURATIONS
                                   for f in ("count", "medianSeconds", "p90Seconds", "meanSeconds"))]
                         for group, r in groups]
    if name == "top-items":
        return [("Category › Type › Item", "text"), ("Created", "count")], [[i["path"], i["created"]]
                                                                             for i in figures["items"]]
    if name == "busiest-hours":
        columns = [("Weekday", "text"), *((f"{h:02d}:00", "count") for h in range(24))]
        return columns, [[day, *counts] for day, counts in zip(figures["weekdays"], figures["counts"])]
    raise KeyError(name)


def as_csv(name: str, figures: dict) -> str:
    """One report as CSV: the table's headings, then its rows (durations in seconds)."""
    columns, rows = tables(name, figures)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading + (" (s)" if kind == "seconds" else "") for heading, kind in columns])
    writer.writerows([["" if value is None else value for value in row] for row in rows])
    return out.getvalue()


def chart(name: str, figures: dict) -> Markup | None:
    """The SVG of one report (None for response times, which read best as a table)."""
    if name == "open-by-age":
        rows = [(f"SEV {r['severity']} {r['label']}", f"chart-sev{r['severity']}", r["counts"]) for r in figures["rows"]]
        segments = [(label, cls) for (_, label, _), cls in zip(AGE_BUCKETS, AGE_CLASSES)]
        return charts.stacked_bars("chart-open", "Open tickets by severity and age",
                                   f"{figures['total']} open tickets, split by days since they were filed.",
                                   rows, segments)
    if name == "created-resolved":
        points = figures["points"]
        return charts.lines("chart-flow", "Created and resolved tickets",
                            f"{figures['created']} created and {figures['resolved']} resolved, per {figures['by']}.",
                            [p["start"][5:] for p in points],
                            [("Created", "chart-created", [p["created"] for p in points]),
                             ("Resolved", "chart-resolved", [p["resolved"] for p in points])])
    if name == "top-items":
        rows = [(i["path"], "chart-bar", i["created"]) for i in figures["items"]]
        return charts.bars("chart-items", "Top CTI items by tickets created",
                           "The items most tickets were filed under in the range.", rows, label_w=330)
    if name == "busiest-hours":
        return charts.heatmap("chart-hours", "Tickets created by weekday and hour (UTC)",
                              f"Busiest cell: {figures['max']} tickets.", figures["weekdays"],
                              [f"{h:02d}" for h in range(24)], figures["counts"])
    return None


def open_by_severity_chart(rows: list[dict]) -> Markup:
    """The dashboard's small chart."""
    return charts.bars("chart-dash-open", "Open tickets by severity",
                       f"{sum(r['open'] for r in rows)} open tickets.",
                       [(f"SEV {r['severity']} {r['label']}", f"chart-sev{r['severity']}", r["open"]) for r in rows],
                       nothing="No open tickets.", width=480)


def duration(seconds) -> str:
    """A duration for people: 45 s, 12 min, 3.5 h, 2.1 d."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
