"""The one rule for text that any service keeps or looks up: what a person could have typed.

Tabs and line breaks are text; every other control character (NUL, which PostgreSQL cannot store,
ESC, DEL, the C1 range) and half a surrogate pair (which UTF-8 cannot encode) are refused, by the
field's name, before the text reaches the database. Web forms and the API call the same cleaners,
so both answer 422 for the same input.
"""
import re

from .errors import ValidationError

_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_fault(text: str) -> str | None:
    """Why `text` cannot be kept as given, in words for the person who typed it; None if it can."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    char, position = found.group(), found.start() + 1
    what = "half of a surrogate pair" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"Remove the invisible character U+{ord(char):04X} ({what}) at position {position}; it cannot be stored."


def checked_text(field: str, value):
    """`value` unchanged if it is text the rule admits, or not text at all (the field's own cleaner
    judges that); otherwise a ValidationError naming `field`."""
    if isinstance(value, str) and (fault := text_fault(value)):
        raise ValidationError({field: fault})
    return value
