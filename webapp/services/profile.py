"""A person's own settings: display name, email address, time zone, theme, notification preferences."""
import re
from functools import cache
from zoneinfo import available_timezones

from ..models import User
from . import audit, notify_prefs
from .base import commit
from .errors import FieldErrors, ValidationError
from .text import checked_text
from .users import clean_display_name

THEMES = ("auto", "light", "dark")
EMAIL_RE = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+")


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone this machine knows, sorted (the profile's list)."""
    return tuple(sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC"))


def clean_email(value) -> str | None:
    text = checked_text("email", value).strip() if isinstance(value, str) else ""
    if not text:
        return None
    if len(text) > 254 or not EMAIL_RE.fullmatch(text):
        raise ValidationError({"email": "Give an address like name@example.com, or leave it empty."})
    return text


def clean_time_zone(value) -> str | None:
    zone = value.strip() if isinstance(value, str) else ""
    if not zone or zone == "UTC":
        return None
    if zone not in time_zones():
        raise ValidationError({"time_zone": f"Unknown time zone {zone[:60]!r}; pick one from the list, e.g. Europe/Berlin."})
    return zone


def clean_theme(value) -> str:
    if value not in THEMES:
        raise ValidationError({"theme": "Choose auto, light or dark."})
    return value


FIELDS = {"display_name": ("displayName", clean_display_name), "email": ("email", clean_email),
          "time_zone": ("timeZone", clean_time_zone), "theme": ("theme", clean_theme)}


def update_profile(user: User, values: dict) -> User:
    """Change the person's own settings given in `values` (form names); every bad one is reported,
    nothing is changed then. One `user_update` audit event with what changed."""
    errors = FieldErrors()
    cleaned = {name: errors.check(clean, values[name]) for name, (_, clean) in FIELDS.items() if name in values}
    errors.raise_if_any()
    before, after = {}, {}
    for name, value in cleaned.items():
        if getattr(user, name) != value:
            key = FIELDS[name][0]
            before[key], after[key] = getattr(user, name), value
            setattr(user, name, value)
    if after:
        audit.record(user, "user_update", target=("user", user.id), before=before, after=after)
        commit()
    return user


def set_notification_modes(user: User, values: dict) -> User:
    """Store the person's mode per notification reason (notify_prefs.clean checks them)."""
    chosen = notify_prefs.clean(values)
    merged = {**(user.notify_prefs or {}), **chosen}
    if merged != (user.notify_prefs or {}):
        before = user.notify_prefs
        user.notify_prefs = merged
        audit.record(user, "user_update", target=("user", user.id), before={"notifications": before},
                     after={"notifications": merged})
        commit()
    return user
