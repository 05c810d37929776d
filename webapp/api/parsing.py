"""Reading API input: the JSON body and query parameters, refused with a 4xx naming the bad part."""
import json

from flask import request

from ..services import ValidationError
from ..services.base import parse_id
from ..services.text import checked_text, text_fault
from .errors import ApiError, malformed

TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
LIMIT_DEFAULT, LIMIT_MAX = 50, 100
USERNAME_MAX = 64  # the user table's username column


def json_object(allowed: set[str]) -> dict:
    """The request's JSON object, holding only `allowed` fields (415, 400 or 422 otherwise)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send a JSON body with Content-Type: application/json.")
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: 413
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        raise malformed("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise malformed("The body must be a JSON object, e.g. {\"title\": \"…\"}.")
    if errors := field_errors(body, allowed):
        raise ValidationError(errors)
    return body


def field_errors(fields: dict, allowed) -> dict:
    """The fields of a JSON object that are not `allowed`, by name; the text of known fields is judged
    by the service's cleaners, as for web forms. A name the text rule refuses is named back escaped
    (orjson cannot write half a surrogate pair)."""
    errors = {}
    for name in fields:
        if name not in allowed:
            errors[name if text_fault(name) is None else ascii(name)] = f"Unknown field; use {', '.join(sorted(allowed))}."
    return errors


def query_text(name: str) -> str | None:
    return checked_text(name, request.args.get(name))


def query_flag(name: str, *, blank: bool = True) -> bool:
    """true/false (1/0, yes/no); an empty value is false unless `blank` is off (then it is refused)."""
    value = (request.args.get(name) or "").strip().lower()
    if value not in TRUE | FALSE or (not blank and name in request.args and not value):
        raise ValidationError({name: "Use true or false."})
    return value in TRUE


def query_id(name: str, *, required: bool = False) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        if required:
            raise ValidationError({name: f"Give {name}, e.g. ?{name}=3."})
        return None
    ident = parse_id(value)
    if ident is None:
        raise ValidationError({name: f"{value!r} is not an id."})
    return ident


def query_limit() -> int:
    value = request.args.get("limit")
    if value is None:
        return LIMIT_DEFAULT
    limit = parse_id(value)
    if limit is None or limit > LIMIT_MAX:
        raise ValidationError({"limit": f"Use a whole number from 1 to {LIMIT_MAX}."})
    return limit


def optional_version(body: dict) -> int | None:
    """The version a PATCH expects to change: `version` in the body, else the If-Match header."""
    if "version" in body and body["version"] is not None:
        version = parse_id(body["version"])
        if version is None:
            raise ValidationError({"version": "The version must be a whole number, as returned with the ticket."})
        return version
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    version = parse_id(header.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise ValidationError({"If-Match": 'Send the ticket\'s ETag, e.g. If-Match: "3".'})
    return version
