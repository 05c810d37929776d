"""How large a request body may be: MAX_CONTENT_LENGTH, or the upload limit on routes that take files;
a body sent without Content-Length (chunked) is held to the same limit."""
import io
import tempfile

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

FORM_FIELDS_BESIDE_FILES = 20  # csrf_token, body, version, attachment ids, ...
SPOOL_IN_MEMORY = 512 * 1024  # a streamed upload past this goes to a temporary file


def accepts_uploads(view):
    """Mark a view that reads files (put it under the route decorator): its body may be as large as
    upload_body_limit(), in at most ATTACHMENT_MAX_FILES files."""
    view.accepts_uploads = True
    return view


def upload_body_limit(config) -> int:
    """Every file at its limit, plus 1 MiB for the form around them."""
    return config["ATTACHMENT_MAX_BYTES"] * config["ATTACHMENT_MAX_FILES"] + 1024 * 1024


def _takes_uploads() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "accepts_uploads", False))


def too_large_message(default: str) -> str:
    """What a 413 says: on an upload route, the limits the sender went past."""
    if not _takes_uploads():
        return default
    config = current_app.config
    per_file = config["ATTACHMENT_MAX_BYTES"] / (1024 * 1024)
    return (f"Too much at once: send at most {config['ATTACHMENT_MAX_FILES']} files of up to "
            f"{per_file:g} MiB each. Nothing was stored.")


def cap_request_body() -> None:
    """before_request, ahead of anything that parses the body (the CSRF check reads the form).

    Sets the limits for this route, then reads a streamed body to that limit: werkzeug stops
    reading one at the cap and passes on what it read, so one over the cap became a 400 (JSON cut
    short, a form without its CSRF token) or, worse, a form cut short and saved; answer 413 instead."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    uploads = _takes_uploads()
    if uploads:
        limit = request.max_content_length = upload_body_limit(current_app.config)
        request.max_form_parts = current_app.config["ATTACHMENT_MAX_FILES"] + FORM_FIELDS_BESIDE_FILES
    environ = request.environ
    if limit is None or request.content_length is not None or "wsgi.input_terminated" not in environ:
        return  # a declared length is checked by werkzeug; without the server's framing nothing is read
    body = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY) if uploads else io.BytesIO()
    remaining = limit + 1
    while remaining > 0 and (chunk := environ["wsgi.input"].read(min(remaining, 256 * 1024))):
        body.write(chunk)
        remaining -= len(chunk)
    if remaining <= 0:
        raise RequestEntityTooLarge(too_large_message(RequestEntityTooLarge.description))
    body.seek(0)
    environ["wsgi.input"] = body
