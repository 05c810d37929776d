"""/reports: how the queue is doing, as SVG charts with tables, each also as CSV."""
from flask import abort, make_response, request, url_for

from ..auth.access import STAFF, access
from ..services import ValidationError
from ..services.listing import queue_categories
from ..services.report_filters import GROUPINGS, MAX_DAYS, parse_filters
from ..services.reports import REPORTS, every_report, open_by_severity
from ..ui import report_views
from ..ui.rendering import render, render_widget
from . import bp

SECTIONS = (
    ("open-by-age", "Open tickets by severity and age"),
    ("created-resolved", "Created and resolved"),
    ("response-times", "Time to first response and to resolution"),
    ("top-items", "Top 10 CTI items"),
    ("busiest-hours", "Busiest hours"),
)


@bp.get("/reports")
@access(STAFF)
def reports():
    """The report page; bad filters get the form back with a message per field (422), no charts."""
    try:
        filters = parse_filters(request.args)
    except ValidationError as exc:
        return render("web/reports.html", "content", status=422, filters=None, errors=exc.fields,
                      raw=request.args, **_form_context())
    figures = every_report(filters)
    sections = [{"name": name, "title": title, "figures": figures[name],
                 "chart": report_views.chart(name, figures[name]),
                 "table": report_views.tables(name, figures[name]),
                 "csv": url_for("web.report_csv", name=name, **filters.as_args())} for name, title in SECTIONS]
    return render("web/reports.html", "content", filters=filters, errors={}, raw=request.args,
                  sections=sections, sla=figures["sla"], **_form_context())


@bp.get("/reports/<name>.csv")
@access(STAFF)
def report_csv(name: str):
    """One report's table as CSV, for the same filters as the page it was linked from."""
    if name not in REPORTS:
        abort(404)
    filters = parse_filters(request.args)  # a bad filter: 422 with the field named, as any form
    response = make_response(report_views.as_csv(name, REPORTS[name](filters)))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}_{filters.start}_{filters.end}.csv"')
    return response


@bp.get("/reports/open-by-severity")
@access(STAFF)
def report_open_chart():
    """The dashboard's small chart, which htmx fetches once the queue is on screen."""
    return render_widget("web/reports.html", "open_chart",
                         chart=report_views.open_by_severity_chart(open_by_severity()))


def _form_context() -> dict:
    return {"categories": queue_categories, "groupings": GROUPINGS, "max_days": MAX_DAYS,
            "duration": report_views.duration}
