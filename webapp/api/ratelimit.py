"""Per-key rate limiting of the API, declared on the app's one limiter (webapp/ratelimit.py)."""
import hashlib

from flask import request
from flask_limiter import Limiter

from ..auth.access import API, policy_for
from ..ratelimit import client_address, configured


def rate_key() -> str:
    """Each API key has its own budget; requests without one share their address's budget."""
    key = request.headers.get("X-Api-Key")
    if key:
        return "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    return client_address()


def _not_key_authenticated() -> bool:
    """The public docs are exempt: limits guard the routes an API key unlocks."""
    return policy_for(request.endpoint) != API


def limit_api(app, limiter: Limiter) -> None:
    """One budget (API_RATE_LIMIT) per key, shared by every API route; over it: 429 + Retry-After."""
    limiter.shared_limit(
        configured("API_RATE_LIMIT"), scope="api", key_func=rate_key, exempt_when=_not_key_authenticated,
        error_message="Too many requests for this API key; wait for the time in Retry-After, then retry.",
    )(app.blueprints["api"])
