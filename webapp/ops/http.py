"""Per-request plumbing: request ids, security headers on every response, trusted proxy headers."""
import re
import uuid

from flask import current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline script or style anywhere: templates load /static files only (a test scans them).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
])
STATIC_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_STATIC_BY_KEY = tuple((name.lower(), name, value) for name, value in STATIC_HEADERS.items())
REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID_KEY = "ticketing.request_id"  # in the WSGI environ: one per request, whatever the app context
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PROXY_HOPS = ("X_FOR", "X_PROTO", "X_HOST", "X_PORT", "X_PREFIX")


def init_app(app) -> None:
    _install_proxy_fix(app)


def _install_proxy_fix(app) -> None:
    """Trust X-Forwarded-* only for as many proxy hops as the operator configured."""
    hops = {hop.lower(): int(app.config.get(f"PROXY_FIX_{hop}") or 0) for hop in PROXY_HOPS}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)


def request_id() -> str:
    """This request's id: the caller's X-Request-Id when it is sane, otherwise a new one."""
    environ = request.environ
    if REQUEST_ID_KEY not in environ:
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        environ[REQUEST_ID_KEY] = supplied if _VALID_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
    return environ[REQUEST_ID_KEY]


def peer_address() -> str:
    """The address of whoever opened the connection, before any X-Forwarded-For rewriting."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return original.get("REMOTE_ADDR") or request.remote_addr or ""


def was_forwarded() -> bool:
    return "X-Forwarded-For" in request.headers or "Forwarded" in request.headers


def start_request() -> None:
    """before_request: give the request its id."""
    request_id()


def finish_response(response):
    """after_request: the request id, and each security header the view did not set itself."""
    headers = response.headers
    headers[REQUEST_ID_HEADER] = request_id()
    present = set(headers.keys(lower=True))
    headers.extend([(name, value) for key, name, value in _STATIC_BY_KEY if key not in present])
    seconds = current_app.config.get("HSTS_SECONDS", 0)
    if request.is_secure and seconds:
        value = f"max-age={seconds}"
        if current_app.config.get("HSTS_INCLUDE_SUBDOMAINS"):
            value += "; includeSubDomains"
        headers.setdefault("Strict-Transport-Security", value)
    return response
