"""Brute-force guard for sign-in: failed attempts are limited per account and per client address.

Only failures count (a sign-in that works costs nothing); once a budget is spent, every attempt
for that account or from that address is refused with 429 + Retry-After until the window moves
on, without the password even being checked.
"""
import hashlib
import time

from flask import make_response, render_template, request
from flask_limiter import Limiter, RequestLimit

from ..ratelimit import client_address, configured

FAILED = 422  # what the login view answers a wrong username or password (or an empty form)


def account_key() -> str:
    """The username as sign-in normalises it, hashed: Redis never holds what people typed."""
    username = (request.form.get("username") or "").strip().lower()
    return "account:" + hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]


def _failed(response) -> bool:
    return response.status_code == FAILED


def _refused(limit: RequestLimit):
    """The sign-in form again, saying how long to wait; Flask-Limiter adds Retry-After."""
    from .routes import LoginForm

    minutes = max(1, round((limit.reset_at - time.time()) / 60))  # as Retry-After says, in minutes
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    message = f"Too many failed sign-in attempts. Wait {wait}, then try again."
    return make_response(render_template("auth/login.html", form=LoginForm(), error=message), 429)


def limit_sign_in(app, limiter: Limiter) -> None:
    """Wrap the login view in two failure budgets: LOGIN_RATE_LIMIT_ACCOUNT and _ADDRESS."""
    view = app.view_functions["auth.login"]
    for setting, key_func in (("LOGIN_RATE_LIMIT_ACCOUNT", account_key),
                              ("LOGIN_RATE_LIMIT_ADDRESS", client_address)):
        view = limiter.limit(
            configured(setting), key_func=key_func, methods=["POST"], scope=setting.lower(),
            deduct_when=_failed, on_breach=_refused,
        )(view)
    app.view_functions["auth.login"] = view
