"""A request body sent without Content-Length (chunked) is held to MAX_CONTENT_LENGTH like any other."""
import io

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge


def cap_streamed_body() -> None:
    """before_request, ahead of anything that parses the body: werkzeug stops reading a streamed body
    at the cap and passes on what it read, so one over the cap became a 400 (JSON cut short, a form
    without its CSRF token) or, worse, a form cut short and saved; read it here and answer 413."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    environ = request.environ
    if limit is None or request.content_length is not None or "wsgi.input_terminated" not in environ:
        return  # a declared length is checked by werkzeug; without the server's framing nothing is read
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(body)
