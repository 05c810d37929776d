"""The reports' filters (category, severity, date range, day or week), read from a query string."""
from dataclasses import dataclass
from datetime import date, timedelta

from ..db.utc import utcnow
from ..extensions import db
from ..models import Category
from .base import parse_id
from .errors import FieldErrors, ValidationError

DEFAULT_DAYS = 30
MAX_DAYS = 366
GROUPINGS = ("day", "week")
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 12, 1)


@dataclass(frozen=True)
class ReportFilter:
    start: date
    end: date  # inclusive
    category_id: int | None = None
    category_name: str | None = None
    severity: int | None = None
    by: str = "day"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_args(self, category_param: str = "category") -> dict:
        """The filters as URL arguments, defaults included, so a copied URL shows the same report."""
        args = {"from": self.start.isoformat(), "to": self.end.isoformat(), "by": self.by}
        if self.category_id is not None:
            args[category_param] = self.category_id
        if self.severity is not None:
            args["severity"] = self.severity
        return args

    def as_json(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "by": self.by,
                "categoryId": None if self.category_id is None else str(self.category_id),
                "severity": self.severity}


def parse_filters(args, *, category_param: str = "category", allow_blank: bool = True,
                  today: date | None = None) -> ReportFilter:
    """The filters in `args`, or ValidationError naming each bad one (the URL's own names).

    `allow_blank`: an empty value means the default (a web form sends its empty fields); the API
    refuses it instead, as its document says each parameter is a date, a number or a name."""
    today = today or utcnow().date()
    errors = FieldErrors()
    if not allow_blank:
        for name in ("from", "to", "severity", "by"):
            if args.get(name) == "":
                errors.add(name, "Give a value, or leave the parameter out for the default.")
    end = errors.check(lambda v: _date("to", v, today), args.get("to"))
    start = errors.check(lambda v: _date("from", v, (end or today) - timedelta(days=DEFAULT_DAYS - 1)),
                         args.get("from"))
    category = errors.check(lambda v: _category(category_param, v), args.get(category_param))
    severity = errors.check(_severity, args.get("severity"))
    by = errors.check(_grouping, args.get("by"))
    if start and end:
        if start > end:
            errors.add("from", f"The start ({start}) is after the end ({end}); swap them.")
        elif (end - start).days + 1 > MAX_DAYS:
            errors.add("to", f"Choose at most {MAX_DAYS} days; {start} to {end} is {(end - start).days + 1}.")
    errors.raise_if_any()
    return ReportFilter(start, end, category.id if category else None, category.name if category else None,
                        severity, by)


def _date(name: str, value, default: date) -> date:
    if value is None or value == "":
        return default
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({name: f"Use a date like {default.isoformat()} (year-month-day)."})
    if not EARLIEST <= parsed <= LATEST:
        raise ValidationError({name: f"Choose a date from {EARLIEST} on."})
    return parsed


def _category(name: str, value) -> Category | None:
    if value is None or value == "":
        return None
    ident = parse_id(value)
    category = db.session.get(Category, ident) if ident is not None else None
    if category is None:
        raise ValidationError({name: "No such category; pick one from the list."})
    return category


def _severity(value) -> int | None:
    if value is None or value == "":
        return None
    severity = parse_id(value)
    if severity is None or not 1 <= severity <= 5:
        raise ValidationError({"severity": "Severity must be a whole number from 1 (critical) to 5 (minimal)."})
    return severity


def _grouping(value) -> str:
    if value is None or value == "":
        return "day"
    if value not in GROUPINGS:
        raise ValidationError({"by": "Group by day or week."})
    return value
