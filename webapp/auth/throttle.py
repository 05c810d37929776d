"""Brute-force guards: failed sign-ins per account and per client address, unknown API keys per address.

Two budgets on the app's one rate limiter (webapp/ratelimit/__init__.py) wrap the login view. Each
attempt reserves its place in both at once before the password is checked, so parallel guesses can
never check more passwords than a budget holds; an answer that is not a failure gives the place back,
and the right password clears the account's count. Once a budget is spent, every attempt for that
account or from that address is refused with 429 + Retry-After until the window moves on, without
the password even being checked.

Unknown API keys count against their address (API_BAD_KEY_LIMIT_PER_ADDRESS); valid keys cost
nothing. Once the address is refused, each web process that saw the refusal answers its API calls
with a key 429 + Retry-After before looking the key up, until a failure leaves the window: a
valid key from that address too, the price of not looking keys up for a flood (SECURITY.md).
"""
import hashlib
import math
from functools import wraps

from flask import make_response, render_template, request
from werkzeug.exceptions import TooManyRequests

from ..ratelimit import SIGN_IN, Rate, Verdict, client_address, configured_rate, limiter

FAILED = 422  # what the login view answers a wrong username or password (or an empty form)
ACCOUNT, ADDRESS = "login_account", "login_address"  # scopes, with their settings below
SETTINGS = {ACCOUNT: "LOGIN_LIMIT_PER_ACCOUNT", ADDRESS: "LOGIN_LIMIT_PER_ADDRESS"}
BAD_KEYS = "api_bad_key"  # scope of API_BAD_KEY_LIMIT_PER_ADDRESS
TOO_MANY_BAD_KEYS = "Too many unknown API keys from your address; wait for the time in Retry-After, then retry."


def account_key(username: str | None = None) -> str:
    """The username (default: the form's) as sign-in normalises it, hashed: Redis never holds what
    people typed."""
    username = (request.form.get("username") if username is None else username) or ""
    username = username.strip().lower()
    return "account:" + hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]


def _budgets(username: str | None = None) -> list[tuple[str, str, Rate]]:
    return [(scope, key, configured_rate(SETTINGS[scope]))
            for scope, key in ((ACCOUNT, account_key(username)), (ADDRESS, client_address()))]


def reserve_password_check(username: str):
    """A place in `username`'s and this address's sign-in budgets for a password checked outside
    the login form (the profile page's current password), so a stolen session cannot guess there
    unthrottled: (reservation, None), or (None, seconds to wait)."""
    reservation = limiter().reserve(_budgets(username))
    if reservation.refused is not None:
        return None, max(1, math.ceil(reservation.refused[1].retry_after))
    return reservation, None


def password_was_right(reservation, username: str) -> None:
    """Give the place back and clear the account's failures, as a right password on the form does."""
    limiter().release(reservation)
    forgive_account(username)


def wait_phrase(seconds: int) -> str:
    """How long a refusal lasts, in whole minutes, as the refused pages say it."""
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _refused(scope: str, verdict: Verdict):
    """The sign-in form again, as typed, saying how long to wait, with Retry-After."""
    from .routes import LoginForm

    seconds = max(1, math.ceil(verdict.retry_after))
    when = wait_phrase(seconds)
    if scope == ACCOUNT:
        message = f"Too many failed sign-ins for this account. Try again in {when}."
    else:
        message = f"Too many failed sign-ins from your network. Try again in {when}."
    response = make_response(render_template("auth/login.html", form=LoginForm(), error=message), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def forgive_account(username: str | None = None) -> None:
    """The right password wipes the account's failures (default: the form's username), so a typo
    now and then never adds up."""
    limiter().clear(ACCOUNT, account_key(username))


def limit_sign_in(app) -> None:
    """Wrap the login view in two failure budgets: LOGIN_LIMIT_PER_ACCOUNT and _PER_ADDRESS."""
    view = app.view_functions[SIGN_IN]

    @wraps(view)
    def guarded(*args, **kwargs):
        if request.method != "POST":
            return view(*args, **kwargs)
        budgets = _budgets()
        reservation = limiter().reserve(budgets)
        if reservation.refused is not None:
            index, verdict = reservation.refused
            return _refused(budgets[index][0], verdict)
        response = make_response(view(*args, **kwargs))  # an exception keeps the place: a failure
        if response.status_code != FAILED:
            limiter().release(reservation)
        return response

    app.view_functions[SIGN_IN] = guarded


def refuse_after_bad_keys() -> None:
    """Before an API call's own work: its address is over its budget of unknown keys here."""
    seconds = limiter().held_refusal(BAD_KEYS, client_address())
    if seconds > 0:
        raise _too_many_bad_keys(seconds)


def count_bad_key() -> None:
    """A key that opened nothing counts against its address; over the budget, 429 instead of 401."""
    rate = configured_rate("API_BAD_KEY_LIMIT_PER_ADDRESS")
    verdict = limiter().spend_failure(BAD_KEYS, client_address(), rate)
    if not verdict.allowed:
        raise _too_many_bad_keys(verdict.retry_after)


def _too_many_bad_keys(seconds: float) -> TooManyRequests:
    return TooManyRequests(TOO_MANY_BAD_KEYS, retry_after=max(1, math.ceil(seconds)))
