"""Reading API input: the JSON body and query parameters, refused with a 4xx naming the bad part."""
import json
from datetime import datetime, timezone

from flask import request

from ..services import ValidationError
from ..services.base import parse_id
from .errors import ApiError, malformed

TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
LIMIT_DEFAULT, LIMIT_MAX = 50, 100


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
    errors = {}
    for name, value in body.items():
        if name not in allowed:
            errors[name] = f"Unknown field; use {', '.join(sorted(allowed))}."
        elif isinstance(value, str) and not storable(value):
            errors[name] = "Text must not contain NUL characters or unpaired surrogates."
    if errors:
        raise ValidationError(errors)
    return body


def storable(text: str) -> bool:
    """Can the database keep this text as given? (PostgreSQL refuses NUL; UTF-8 refuses lone surrogates.)"""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def query_text(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and not storable(value):
        raise ValidationError({name: "Text must not contain NUL characters."})
    return value


def query_flag(name: str) -> bool:
    value = (request.args.get(name) or "").strip().lower()
    if value not in TRUE | FALSE:
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


def query_list(name: str) -> list[str]:
    """Repeated (?status=OPEN&status=RESOLVED) or comma-separated (?status=OPEN,RESOLVED) values."""
    return [part.strip() for value in request.args.getlist(name) for part in value.split(",") if part.strip()]


def query_limit() -> int:
    value = request.args.get("limit")
    if value is None:
        return LIMIT_DEFAULT
    limit = parse_id(value)
    if limit is None or limit > LIMIT_MAX:
        raise ValidationError({"limit": f"Use a whole number from 1 to {LIMIT_MAX}."})
    return limit


def query_datetime(name: str) -> datetime | None:
    """An ISO 8601 timestamp; one without a zone is taken as UTC. An empty value is refused, not
    ignored: a workflow whose timestamp variable came out blank must not silently get every ticket."""
    value = request.args.get(name)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValidationError({name: "Use an ISO 8601 timestamp, e.g. 2026-03-30T02:00:00Z."}) from None


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
