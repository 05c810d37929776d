"""Brute-force guard for sign-in: failed attempts are limited per account and per client address.

Two limits on the app's one rate limiter (webapp/ratelimit.py) wrap the login view. Only failures
count, and the right password clears the account's count; once a budget is spent, every attempt
for that account or from that address is refused with 429 + Retry-After until the window moves
on, without the password even being checked.
"""
import hashlib
import logging
import math
import time

from flask import current_app, make_response, render_template, request
from flask_limiter import Limiter, RequestLimit

from ..ratelimit import SIGN_IN, client_address, configured

log = logging.getLogger(__name__)
FAILED = 422  # what the login view answers a wrong username or password (or an empty form)
ACCOUNT = "account:"


def account_key() -> str:
    """The username as sign-in normalises it, hashed: Redis never holds what people typed."""
    username = (request.form.get("username") or "").strip().lower()
    return ACCOUNT + hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]


def _failed(response) -> bool:
    return response.status_code == FAILED


def _is_account(limit: RequestLimit) -> bool:
    return any(str(arg).startswith(ACCOUNT) for arg in limit.request_args)


def _refused(limit: RequestLimit):
    """The sign-in form again, as typed, saying how long to wait; Flask-Limiter adds Retry-After."""
    from .routes import LoginForm

    minutes = max(1, math.ceil((limit.reset_at - 1 - time.time()) / 60))
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if _is_account(limit):
        message = f"Too many failed sign-ins for this account. Try again in {when}."
    else:
        message = f"Too many failed sign-ins from your network. Try again in {when}."
    return make_response(render_template("auth/login.html", form=LoginForm(), error=message), 429)


def forgive_account() -> None:
    """The right password wipes the account's failures, so a typo now and then never adds up."""
    limiter = current_app.extensions["rate_limiter"]
    try:
        for limit in limiter.current_limits:
            if _is_account(limit):
                limiter.limiter.clear(limit.limit, *limit.request_args)
    except Exception:  # Redis down: the count simply runs out with its window
        log.warning("could not clear the sign-in failures of an account", exc_info=True)


def limit_sign_in(app, limiter: Limiter) -> None:
    """Wrap the login view in two failure budgets: LOGIN_LIMIT_PER_ACCOUNT and _PER_ADDRESS."""
    view = app.view_functions[SIGN_IN]
    for setting, key_func in (("LOGIN_LIMIT_PER_ACCOUNT", account_key),
                              ("LOGIN_LIMIT_PER_ADDRESS", client_address)):
        view = limiter.limit(
            configured(setting), key_func=key_func, methods=["POST"], scope=setting.lower(),
            deduct_when=_failed, on_breach=_refused,
        )(view)
    app.view_functions[SIGN_IN] = view
