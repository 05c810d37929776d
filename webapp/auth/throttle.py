"""Brute-force guard for sign-in: failed attempts are limited per account and per client address.

Two budgets on the app's one rate limiter (webapp/ratelimit/__init__.py) wrap the login view. Only
failures count, and the right password clears the account's count; once a budget is spent, every
attempt for that account or from that address is refused with 429 + Retry-After until the window
moves on, without the password even being checked.
"""
import hashlib
import math
from functools import wraps

from flask import make_response, render_template, request

from ..ratelimit import SIGN_IN, Verdict, client_address, configured_rate, limiter

FAILED = 422  # what the login view answers a wrong username or password (or an empty form)
ACCOUNT, ADDRESS = "login_account", "login_address"  # scopes, with their settings below
SETTINGS = {ACCOUNT: "LOGIN_LIMIT_PER_ACCOUNT", ADDRESS: "LOGIN_LIMIT_PER_ADDRESS"}


def account_key() -> str:
    """The username as sign-in normalises it, hashed: Redis never holds what people typed."""
    username = (request.form.get("username") or "").strip().lower()
    return "account:" + hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]


def _budgets() -> list[tuple[str, str]]:
    return [(ACCOUNT, account_key()), (ADDRESS, client_address())]


def _refused(scope: str, verdict: Verdict):
    """The sign-in form again, as typed, saying how long to wait, with Retry-After."""
    from .routes import LoginForm

    seconds = max(1, math.ceil(verdict.retry_after))
    minutes = math.ceil(seconds / 60)
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if scope == ACCOUNT:
        message = f"Too many failed sign-ins for this account. Try again in {when}."
    else:
        message = f"Too many failed sign-ins from your network. Try again in {when}."
    response = make_response(render_template("auth/login.html", form=LoginForm(), error=message), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def forgive_account() -> None:
    """The right password wipes the account's failures, so a typo now and then never adds up."""
    limiter().clear(ACCOUNT, account_key())


def limit_sign_in(app) -> None:
    """Wrap the login view in two failure budgets: LOGIN_LIMIT_PER_ACCOUNT and _PER_ADDRESS."""
    view = app.view_functions[SIGN_IN]

    @wraps(view)
    def guarded(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        for scope, key in _budgets():
            verdict = limiter().peek(scope, key, configured_rate(SETTINGS[scope]))
            if not verdict.allowed:
                return _refused(scope, verdict)
        response = make_response(view(*args, **kwargs))
        if response.status_code == FAILED:
            for scope, key in _budgets():
                limiter().spend(scope, key, configured_rate(SETTINGS[scope]))
        return response

    app.view_functions[SIGN_IN] = guarded
