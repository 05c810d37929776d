"""Secure cookies on a plain-http address: the browser never sends them back, so sign-in fails with
a CSRF error that explains nothing. Detect it and say exactly what to change."""
import logging
from urllib.parse import urlsplit

from flask import current_app, request

log = logging.getLogger(__name__)
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # browsers keep Secure cookies on these over http
_WARNED = "plain_http_warned"


def cookies_lost_over_http() -> bool:
    """True when this request came over plain http to a host where a Secure cookie is not sent back."""
    if not current_app.config.get("SESSION_COOKIE_SECURE") or request.is_secure:
        return False
    return urlsplit(f"//{request.host}").hostname not in _LOCAL_HOSTS  # lowercased, no port or brackets


def advice() -> str:
    """What the login page, the CSRF error and the log say when sign-in cannot work over http."""
    return (f"This server was reached over plain http ({request.host_url.rstrip('/')}), but it sends "
            "its session cookie over https only (SESSION_COOKIE_SECURE is on), so your browser will not "
            "send it back and signing in cannot work. Serve it over https (a TLS proxy in front; "
            "docs/deployment.md, 'Plain http'), or, on a network you trust, set "
            "SESSION_COOKIE_SECURE=false and restart.")


def warn_once() -> None:
    """Log the advice the first time a process sees it happen, for whoever reads the logs."""
    if not current_app.extensions.get(_WARNED):
        current_app.extensions[_WARNED] = True
        log.warning("sign-in over plain http cannot work: %s", advice())


def check_at_start(app) -> None:
    """At start-up: a configured http URL scheme with Secure cookies is the same mistake, said early."""
    if app.config.get("SESSION_COOKIE_SECURE") and app.config.get("PREFERRED_URL_SCHEME") == "http":
        log.warning("SESSION_COOKIE_SECURE is on but PREFERRED_URL_SCHEME is http: browsers reaching "
                    "this server over plain http (other than localhost) cannot sign in. Serve it over "
                    "https, or set SESSION_COOKIE_SECURE=false on a network you trust "
                    "(docs/deployment.md, 'Plain http').")
