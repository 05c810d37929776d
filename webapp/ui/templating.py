"""Jinja filters and globals shared by every page."""
from datetime import datetime, timezone

from flask import g, has_request_context

from .markdown import render as render_markdown
from ..models import SEVERITY_LABELS, Status
from ..db.utc import utcnow

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
          ("day", 86400), ("hour", 3600), ("minute", 60))


def request_now() -> datetime:
    """One 'now' per request (or per call outside one), so a page of times agrees with itself."""
    if not has_request_context():
        return utcnow()
    if "now" not in g:
        g.now = utcnow()
    return g.now


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """'3 hours ago' / 'in 2 days': how people read times in a queue."""
    if moment is None:
        return ""
    now = now or request_now()
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "in a moment" if future else "just now"
    for name, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {name}{'' if count == 1 else 's'}"
            return f"in {text}" if future else f"{text} ago"
    return ""


def exact_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    m = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d} UTC"  # strftime, faster


def iso_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    m = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    return m.isoformat(timespec="seconds")


def status_label(status: str) -> str:
    return status.replace("_", " ").title()


def register(app) -> None:
    from . import badges  # it builds on the filters above
    app.jinja_env.filters.update(
        markdown=render_markdown, reltime=relative_time, exacttime=exact_time,
        isotime=iso_time, status_label=status_label,
    )
    app.jinja_env.globals.update(SEVERITY_LABELS=SEVERITY_LABELS, STATUSES=list(Status), **badges.GLOBALS)
