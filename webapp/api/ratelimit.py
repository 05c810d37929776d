"""Per-key rate limiting of the API on the app's one limiter (webapp/ratelimit/__init__.py): one budget
per key (the account's own, else API_RATE_LIMIT), shared by every route a key unlocks; over it,
429 + Retry-After. An address over its budget of unknown keys (webapp/auth/throttle.py) is refused
first."""
import hashlib
import math

from flask import g, request
from werkzeug.exceptions import TooManyRequests

from ..auth.access import API, key_holder, policy_for
from ..auth.throttle import refuse_after_bad_keys
from ..ratelimit import Rate, client_address, configured_rate, limiter, parse_rate

SCOPE = "api"
OVER_BUDGET = "Too many requests for this API key; wait for the time in Retry-After, then retry."


def rate_key() -> str:
    """Each API key has its own budget; requests without one share their address's budget."""
    key = request.headers.get("X-Api-Key")
    if key:
        return "key:" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    return client_address()


def spend_budget() -> None:
    """before_request: count this call against its key (the public docs are exempt)."""
    if policy_for(request.endpoint) != API:
        return
    holder = None
    if request.headers.get("X-Api-Key"):
        refuse_after_bad_keys()  # a flooding address costs neither a lookup nor a counter per key
        holder = key_holder()
    verdict = g.rate_verdict = limiter().spend(SCOPE, rate_key(), budget_of(holder))
    if not verdict.allowed:
        raise TooManyRequests(OVER_BUDGET, retry_after=max(1, math.ceil(verdict.retry_after)))


def budget_of(holder) -> Rate:
    """The key holder's own budget (set per account in the admin panel), else API_RATE_LIMIT."""
    if holder is not None and holder.api_rate_limit:
        return parse_rate(holder.api_rate_limit)
    return configured_rate("API_RATE_LIMIT")


def budget_headers(response):
    """after_request: every answer to a counted call says what is left of the budget (GitHub's headers)."""
    verdict = g.get("rate_verdict")
    if verdict is not None:
        response.headers["X-RateLimit-Limit"] = str(verdict.limit)
        response.headers["X-RateLimit-Remaining"] = str(verdict.remaining)
        response.headers["X-RateLimit-Reset"] = str(math.ceil(verdict.reset_at))
    return response

