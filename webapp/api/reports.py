"""The reports as JSON, for n8n and Grafana: the same figures as /reports, the same filters."""
from flask import jsonify, request

from ..auth.access import API, access
from ..services.report_filters import parse_filters
from ..services.reports import REPORTS, every_report
from . import bp

CATEGORY_PARAM = "categoryId"


def _answer(figures_of):
    filters = parse_filters(request.args, category_param=CATEGORY_PARAM, allow_blank=False)  # 422 naming each bad parameter
    return jsonify({"filters": filters.as_json(), **figures_of(filters)})


@bp.get("/reports")
@access(API)
def all_reports():
    """Every report at once, keyed by name, with the SLA section's status."""
    return _answer(every_report)


def _route(name: str):
    def view():
        return _answer(lambda filters: {"report": REPORTS[name](filters)})

    view.__name__ = "report_" + name.replace("-", "_")
    view.__doc__ = f"The {name} report for the filters in the query string."
    bp.get(f"/reports/{name}")(access(API)(view))


for _name in REPORTS:
    _route(_name)
