"""How each kind of notification reaches a person: off, the inbox, the inbox and a mail at once, or
the inbox and the daily digest mail. Stored per person (user.notify_prefs); unset reasons use DEFAULTS."""
from ..models import Reason, User
from .errors import ValidationError

OFF, INAPP, EMAIL, DIGEST = "off", "inapp", "email", "digest"
MODES = {OFF: "Off", INAPP: "Inbox only", EMAIL: "Inbox and email", DIGEST: "Inbox and daily digest"}
REASONS = {
    Reason.ASSIGNED: "A ticket is assigned to you",
    Reason.MENTIONED: "Someone mentions you (@you)",
    Reason.YOURS_DONE: "A ticket you filed is resolved or closed",
    Reason.COMMENT: "A comment on a ticket you watch",
    Reason.STATUS: "A status change on a ticket you watch",
}
DEFAULTS = {Reason.ASSIGNED: EMAIL, Reason.MENTIONED: EMAIL, Reason.YOURS_DONE: INAPP,
            Reason.COMMENT: INAPP, Reason.STATUS: INAPP}


def modes(user: User) -> dict[Reason, str]:
    """Every reason with the mode `user` chose, or its default."""
    stored = user.notify_prefs or {}
    return {reason: stored.get(reason.value) if stored.get(reason.value) in MODES else DEFAULTS[reason]
            for reason in Reason}


def mode_of(stored: dict | None, reason: str) -> str:
    """The mode stored prefs give `reason` (a fan-out reads only the column, not the whole user)."""
    chosen = (stored or {}).get(reason)
    return chosen if chosen in MODES else DEFAULTS[Reason(reason)]


def clean(values: dict) -> dict[str, str]:
    """Prefs from a form or a JSON body ({reason: mode}); unknown reasons or modes are named."""
    if not isinstance(values, dict):
        raise ValidationError({"notifications": "Give an object of reason: mode."})
    errors, cleaned = {}, {}
    for key, mode in values.items():
        if key not in Reason._value2member_map_:
            errors[key] = f"Unknown notification {key!r}; one of {', '.join(r.value for r in Reason)}."
        elif mode not in MODES:
            errors[key] = f"Choose one of {', '.join(MODES)}."
        else:
            cleaned[key] = mode
    if errors:
        raise ValidationError(errors)
    return cleaned
