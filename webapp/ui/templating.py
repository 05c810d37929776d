"""Jinja filters and globals shared by every page."""
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context

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
    """'2026-12-04 09:30 CET': in the signed-in person's time zone (their profile), else UTC."""
    if moment is None:
        return ""
    zone = _display_zone()
    if zone is not None:
        m = moment.astimezone(zone)
        return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d} {m.tzname()}"
    m = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d} {m.hour:02d}:{m.minute:02d} UTC"  # strftime, faster


def _display_zone() -> ZoneInfo | None:
    """The time zone of the person this request is for, once per request (None: UTC)."""
    if not has_request_context():
        return None
    if "display_zone" not in g:
        from flask_login import current_user

        name = current_user.time_zone if current_user and current_user.is_authenticated else None
        g.display_zone = _zone(name) if name else None
    return g.display_zone


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return None


def iso_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    m = moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)
    return m.isoformat(timespec="seconds")


def unread_notifications() -> int:
    """The signed-in person's unread count for the header bell (capped: services.inbox)."""
    from flask_login import current_user

    from ..services import inbox

    if not has_request_context() or not current_user.is_authenticated:
        return 0
    if "unread_notifications" not in g:  # a live page read it with its change stamp (web.live)
        g.unread_notifications = inbox.unread_count(current_user)
    return g.unread_notifications


def status_label(status: str) -> str:
    return status.replace("_", " ").title()


def file_size(count: int) -> str:
    """Bytes as people read them: 812 B, 14.2 KB, 3.1 MB (powers of 1024)."""
    for unit in ("B", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} MB"


def upload_hint() -> str:
    """The upload limits, as the file picker states them."""
    config = current_app.config
    return (f"Up to {config['ATTACHMENT_MAX_FILES']} files at once, "
            f"{config['ATTACHMENT_MAX_BYTES'] / (1024 * 1024):g} MiB each.")


def register(app) -> None:
    from ..services.attachment_files import RASTER
    from . import badges  # it builds on the filters above
    app.jinja_env.filters.update(
        markdown=render_markdown, reltime=relative_time, exacttime=exact_time,
        isotime=iso_time, status_label=status_label, filesize=file_size,
    )
    app.jinja_env.globals.update(SEVERITY_LABELS=SEVERITY_LABELS, STATUSES=list(Status),
                                 unread_notifications=unread_notifications, RASTER_TYPES=RASTER, upload_hint=upload_hint,
                                 **badges.GLOBALS)
