"""OpenAPI pieces of /api/reports: the filters every report takes and the schema of each answer."""
from ..services.report_filters import GROUPINGS, MAX_DAYS
from ..services.reports import FIRST_RESPONSE
from .openapi_schemas import ID_OUT, SEVERITY_OUT, _object, ref

FILTERS = [
    ("from", {"type": "string", "format": "date"}, "First UTC day of the range (default: 29 days before `to`)."),
    ("to", {"type": "string", "format": "date"},
     f"Last UTC day, inclusive (default: today). At most {MAX_DAYS} days from `from`; a reversed range is 422."),
    ("categoryId", {"type": "string"}, "Only tickets now in this category (422 if there is none)."),
    ("severity", {"type": "integer", "minimum": 1, "maximum": 5}, "Only tickets now of this severity."),
    ("by", {"type": "string", "enum": list(GROUPINGS)}, "created-resolved: one point per day (default) or ISO week."),
]

SUMMARIES = {
    "open-by-age": "Open tickets by severity and age",
    "created-resolved": "Tickets created and resolved per day or week",
    "response-times": "Median and p90 time to first response and to resolution",
    "top-items": "The 10 CTI items with the most tickets created",
    "busiest-hours": "Tickets created per weekday and hour of day (UTC)",
}

_COUNT = {"type": "integer", "minimum": 0}
_SECONDS = {"type": ["integer", "null"], "minimum": 0, "description": "Seconds; null without data."}
_DURATION = _object({"count": _COUNT, "meanSeconds": _SECONDS, "medianSeconds": _SECONDS, "p90Seconds": _SECONDS},
                    description="Mean exact; median and p90 estimated from log2 buckets (within a factor of two).")
_TIMES = {"acknowledge": ref("ReportDuration"), "resolve": ref("ReportDuration")}

REPORT_SCHEMAS = {
    "open-by-age": ("ReportOpenByAge", _object({
        "asOf": {"type": "string", "format": "date-time"},
        "buckets": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": _object({
            "severity": SEVERITY_OUT, "label": {"type": "string"},
            "counts": {"type": "array", "items": _COUNT, "description": "One count per bucket, youngest first."},
            "total": _COUNT})},
        "total": _COUNT,
    }, description="Open and in-progress tickets now (the date range does not apply), by age since filed.")),
    "created-resolved": ("ReportCreatedResolved", _object({
        "by": {"type": "string", "enum": list(GROUPINGS)},
        "points": {"type": "array", "items": _object({
            "start": {"type": "string", "format": "date"}, "created": _COUNT, "resolved": _COUNT})},
        "created": _COUNT, "resolved": _COUNT,
    }, description="Resolved counts a ticket on the day of its current resolution (re-opening takes it back).")),
    "response-times": ("ReportResponseTimes", _object({
        "firstResponse": {"type": "string", "description": f"What first response means: {FIRST_RESPONSE}."},
        "bySeverity": {"type": "array", "items": _object({
            "severity": SEVERITY_OUT, "label": {"type": "string"}, **_TIMES})},
        "byCategory": {"type": "array", "items": _object({
            "categoryId": ID_OUT, "name": {"type": "string"}, **_TIMES})},
    }, description="acknowledge: time from filing to first response; resolve: to resolution. Counted on the "
                   "day of the response or resolution.")),
    "top-items": ("ReportTopItems", _object({"items": {"type": "array", "maxItems": 10, "items": _object({
        "itemId": ID_OUT, "path": {"type": "string"}, "created": _COUNT})}})),
    "busiest-hours": ("ReportBusiestHours", _object({
        "timeZone": {"type": "string"}, "weekdays": {"type": "array", "items": {"type": "string"}},
        "counts": {"type": "array", "items": {"type": "array", "items": _COUNT},
                   "description": "Per weekday (Monday first), 24 counts by hour of creation."},
        "max": _COUNT})),
}

_FILTERS_OUT = _object({
    "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
    "by": {"type": "string"}, "categoryId": {"type": ["string", "null"]},
    "severity": {"type": ["integer", "null"], "minimum": 1, "maximum": 5}})

SCHEMAS = {
    "ReportDuration": _DURATION,
    "ReportFilters": _FILTERS_OUT,
    **{schema: body for schema, body in REPORT_SCHEMAS.values()},
    **{schema + "Answer": _object({"filters": ref("ReportFilters"), "report": ref(schema)})
       for schema, _ in REPORT_SCHEMAS.values()},
    "ReportsAll": _object({
        "filters": ref("ReportFilters"),
        **{name: ref(schema) for name, (schema, _) in REPORT_SCHEMAS.items()},
        "sla": _object({"available": {"type": "boolean"}, "message": {"type": "string"}}),
    }),
}
