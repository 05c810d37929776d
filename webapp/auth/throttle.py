"""Brute-force protection for sign-in: failed attempts are counted per account and per address.

Built on `limits`, the library under Flask-Limiter (which guards the API), because sign-in needs
what a route decorator cannot give: only failures count, and the check runs before the password
is even looked at. Counts live in Redis when REDIS_URL is set (shared by every web process and
replica), in memory otherwise. If Redis is unreachable sign-in still works, unthrottled, and the
failure is logged: locking everyone out would be worse.
"""
import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import parse, storage, strategies

log = logging.getLogger(__name__)
NAMESPACE = "ticketing-login"


@dataclass(frozen=True)
class Refusal:
    retry_after: int  # seconds until the oldest counted failure leaves the window
    message: str


class LoginThrottle:
    def __init__(self, app: Flask):
        url = app.config.get("REDIS_URL")
        options = {"socket_connect_timeout": 2, "socket_timeout": 2} if url else {}
        self.storage = storage.storage_from_string(url or "memory://", **options)
        self.window = strategies.MovingWindowRateLimiter(self.storage)

    def _limits(self, username: str, address: str):
        config = current_app.config
        return (
            (parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), ("account", _normalised(username))),
            (parse(config["LOGIN_LIMIT_PER_ADDRESS"]), ("address", address or "unknown")),
        )

    def refusal(self, username: str, address: str) -> Refusal | None:
        """Why this attempt may not even be checked, or None when it may."""
        try:
            for limit, key in self._limits(username, address):
                if not self.window.test(limit, NAMESPACE, *key):
                    reset_at, _ = self.window.get_window_stats(limit, NAMESPACE, *key)
                    wait = max(1, math.ceil(reset_at - time.time()))
                    return Refusal(wait, _message(key[0], wait))
        except Exception:
            log.warning("login throttle unavailable; allowing the attempt", exc_info=True)
        return None

    def failed(self, username: str, address: str) -> None:
        try:
            for limit, key in self._limits(username, address):
                self.window.hit(limit, NAMESPACE, *key)
        except Exception:
            log.warning("login throttle unavailable; failure not counted", exc_info=True)

    def succeeded(self, username: str, address: str) -> None:
        """The right password wipes the account's count (a typo or two must not add up over days)."""
        try:
            limit, key = self._limits(username, address)[0]
            self.window.clear(limit, NAMESPACE, *key)
        except Exception:
            log.warning("login throttle unavailable; count not cleared", exc_info=True)

    def reset(self) -> None:
        self.storage.reset()


def _normalised(username: str) -> str:
    return (username or "").strip().lower()


def _message(kind: str, wait: int) -> str:
    minutes = math.ceil(wait / 60)
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    if kind == "account":
        return f"Too many failed sign-ins for this account. Try again in {when}, or ask an admin to reset the password."
    return f"Too many failed sign-ins from your network. Try again in {when}."


def init_app(app: Flask) -> None:
    app.config.setdefault("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    app.config.setdefault("LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    for name in ("LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS"):
        parse(app.config[name])  # a typo stops the app at start-up, not at the first sign-in
    app.extensions["login_throttle"] = LoginThrottle(app)


def throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]
