"""Idempotency-Key on POST: a retried request gets the first response again instead of acting twice."""
import hashlib
import json
from functools import wraps

from flask import current_app, request
from sqlalchemy.exc import IntegrityError

from ..auth.access import api_user
from ..services import ValidationError
from ..services.base import transaction
from ..services.idempotency import KEY_MAX, find_record, save_record

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Content-Type", "Location", "ETag")


def idempotent(view):
    """Store the view's success response with the key, in the same transaction as its work."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return view(*args, **kwargs)
        key, user, fingerprint = _clean_key(raw_key), api_user(), request_fingerprint()
        record = find_record(user, key)
        if record is not None:
            return _replay(record, fingerprint)
        try:
            with transaction():
                response = current_app.make_response(view(*args, **kwargs))
                headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
                save_record(user, key, fingerprint, response.status_code, response.get_data(as_text=True), headers)
        except IntegrityError:
            record = find_record(user, key)  # a concurrent twin committed first: answer as it did
            if record is None:
                raise
            return _replay(record, fingerprint)
        return response

    return wrapper


def _clean_key(key: str) -> str:
    if not 0 < len(key) <= KEY_MAX or not all(" " <= ch <= "~" for ch in key):
        raise ValidationError({HEADER: f"Use 1 to {KEY_MAX} printable ASCII characters, e.g. a UUID."})
    return key


def request_fingerprint() -> str:
    """Method, path and body; JSON bodies are compared by content, not by whitespace or key order."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        body = raw
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _replay(record, fingerprint: str):
    if record.request_hash != fingerprint:
        raise ValidationError({HEADER: (
            "This key was used for a different request in the last 24 hours; "
            "send a new key with a new request."
        )})
    response = current_app.response_class(
        record.response_body, status=record.response_status, headers=record.response_headers,
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response
