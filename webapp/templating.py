"""Jinja filters and globals shared by every page."""
from datetime import datetime, timezone

from .markdown import render as render_markdown
from .models import SEVERITY_LABELS, Status
from .timeutil import utcnow

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
          ("day", 86400), ("hour", 3600), ("minute", 60))


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """'3 hours ago' / 'in 2 days': how people read times in a queue."""
    if moment is None:
        return ""
    now = now or utcnow()
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
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def iso_time(moment: datetime | None) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds") if moment else ""


def status_label(status: str) -> str:
    return status.replace("_", " ").title()


def register(app) -> None:
    from . import badges  # it builds on the filters above
    app.jinja_env.filters.update(
        markdown=render_markdown, reltime=relative_time, exacttime=exact_time,
        isotime=iso_time, status_label=status_label,
    )
    app.jinja_env.globals.update(SEVERITY_LABELS=SEVERITY_LABELS, STATUSES=list(Status), **badges.GLOBALS)
