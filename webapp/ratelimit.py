"""The app's one rate limiter (Flask-Limiter): API budgets per key, failed sign-ins per account and
address. Counters live in Redis when REDIS_URL is set, so every web process shares them; in memory
otherwise."""
from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import parse_many

from .config import RATE_LIMITS

KEY_PREFIX = "ticketing-ratelimit"
SIGN_IN = "auth.login"  # the view auth/throttle.py wraps


def client_address() -> str:
    """The caller's address as ProxyFix resolved it (only the configured proxy hops are trusted)."""
    return "ip:" + (request.remote_addr or "unknown")


def configured(setting: str):
    """A limit read from the config on every request, so tests and operators can change it live."""
    return lambda: current_app.config[setting]


def _has_no_budget() -> bool:
    """Only API routes and sign-in carry limits: every other request skips the limiter's bookkeeping."""
    from .auth.access import API, policy_for

    return request.endpoint != SIGN_IN and policy_for(request.endpoint) != API


def check_limits(config) -> None:
    """Refuse to start on a limit that does not parse: a typo must not silently turn a limit off."""
    for name in RATE_LIMITS:
        try:
            parse_many(config[name])
        except ValueError as exc:
            raise RuntimeError(f"{name}={config[name]!r} is not a rate limit like '5 per 15 minutes'") from exc


def init_app(app: Flask) -> Limiter:
    """Bind one limiter to `app`, then let the API and sign-in declare their limits on it.

    Call before the access check is registered: the API's budget must count refused requests too.
    """
    check_limits(app.config)
    redis_url = app.config.get("REDIS_URL")
    limiter = Limiter(
        key_func=client_address,
        storage_uri=redis_url or "memory://",
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2} if redis_url else {},
        strategy="moving-window",
        headers_enabled=True,
        swallow_errors=True,  # Redis down: serve unlimited rather than fail every request
        in_memory_fallback_enabled=True,
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or KEY_PREFIX,
    )
    limiter.init_app(app)
    limiter.request_filter(_has_no_budget)
    app.extensions["rate_limiter"] = limiter

    from .api.ratelimit import limit_api
    from .auth.throttle import limit_sign_in

    limit_api(app, limiter)
    limit_sign_in(app, limiter)
    return limiter
