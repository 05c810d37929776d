"""Per-key rate limiting of the API: Redis-backed when REDIS_URL is set, in memory otherwise."""
import hashlib

from flask import current_app, request
from flask_limiter import Limiter

from ..auth.access import API, policy_for
from . import bp

DEFAULT_LIMIT = "300 per minute"
KEY_PREFIX = "ticketing-api-ratelimit"


def rate_key() -> str:
    """Each API key has its own budget; requests without one share their address's budget."""
    key = request.headers.get("X-Api-Key")
    if key:
        return "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    return "ip:" + (request.remote_addr or "unknown")


def current_limit() -> str:
    """Read on every request, so API_RATE_LIMIT can be tuned without a restart of the limiter."""
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_LIMIT


def _not_key_authenticated() -> bool:
    """The public docs are exempt: limits guard the routes an API key unlocks."""
    return policy_for(request.endpoint) != API


@bp.record_once
def _init(state) -> None:
    """One limiter per app, bound when the blueprint is registered (before the access check runs)."""
    app = state.app
    limiter = Limiter(
        key_func=rate_key,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2} if app.config.get("REDIS_URL") else {},
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,  # Redis down: serve unlimited rather than fail every request
        in_memory_fallback_enabled=True,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or KEY_PREFIX,
    )
    limiter.init_app(app)
    limiter.request_filter(_not_key_authenticated)
    limiter.shared_limit(
        current_limit, scope="api",
        error_message="Too many requests for this API key; wait for the time in Retry-After, then retry.",
    )(state.blueprint)
    app.extensions["api_limiter"] = limiter
