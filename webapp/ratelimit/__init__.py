"""The app's one rate limiter: API budgets per key, failed sign-ins per account and address.

A budget like "300 per minute" allows at most 300 events in any 60-second span (a moving
window: no burst of 600 across a window's edge). Each key's events live in a Redis sorted set
when REDIS_URL is set, so every web process shares them, and one script call checks and counts
(with Redis's clock, so processes never disagree about the time); a busy key with a large budget
takes its events from Redis a few at a time (webapp/ratelimit/redis_counts.py). Without Redis, or for
a few seconds after it fails, each process counts in memory by the same rule, on its own (what that
lets through is in SECURITY.md, "Password guessing").

A reservation counts one event in several budgets in one step, in all of them or (when one is spent)
in none, so callers racing each other never pass a budget together; it can be given back later. The
sign-in throttle reserves before the password is checked and gives back what was not a failure.
"""
import logging
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

import redis
from flask import Flask, current_app, request

from ..config import RATE_LIMITS

log = logging.getLogger(__name__)
KEY_PREFIX = "ticketing-ratelimit"
SIGN_IN = "auth.login"  # the view auth/throttle.py wraps
REDIS_RETRY_SECONDS = 5.0  # after a Redis failure, count in memory this long before trying again
HELD_MAX = 10_000  # refusals held per process before lapsed ones are swept out
_RATE = re.compile(r"^\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int


@lru_cache(maxsize=64)
def parse_rate(text: str) -> Rate:
    """ "300 per minute", "5 per 15 minutes", "10/hour" -> Rate; anything else is a ValueError."""
    match = _RATE.match(text or "")
    if not match or int(match[1]) < 1 or match[2] == "0":
        raise ValueError(f"not a rate limit: {text!r}")
    return Rate(int(match[1]), int(match[2] or 1) * _UNIT_SECONDS[match[3].lower()])


@dataclass(frozen=True)
class Verdict:
    """What a check decided: `retry_after` seconds until one more is allowed (0 if it is now);
    `reset_at`, the Unix time when the whole budget is back."""
    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    reset_at: float


@dataclass(frozen=True)
class Reservation:
    """One event held in each budget `names`; or in none, `refused` by the first spent budget
    (its index and verdict). `event` and `in_redis` say where to give it back."""
    names: tuple[str, ...]
    refused: tuple[int, Verdict] | None
    event: str | float
    in_redis: bool = False


class MemoryCounts:
    """The same moving window in this process: each key's event times, oldest first."""

    def __init__(self):
        self._events: dict[str, deque] = {}
        self._lock = threading.Lock()
        self._checks = 0

    def check(self, key: str, rate: Rate, spend: bool) -> Verdict:
        now = time.time()
        with self._lock:
            events = self._events.setdefault(key, deque()) if spend else self._events.get(key, deque())
            refusal = _refusal(events, rate, now)
            if refusal is not None:
                return refusal
            if spend:
                events.append(now)
                self._forget_idle(now, rate.seconds)
            reset_at = events[-1] + rate.seconds if events else now
            return Verdict(True, rate.amount, rate.amount - len(events), 0.0, reset_at)

    def reserve(self, budgets: list[tuple[str, Rate]]) -> tuple[tuple[int, Verdict] | None, float]:
        """(The first spent budget's index and verdict, or None once the event is counted in all; its time)."""
        now = time.time()
        with self._lock:
            for index, (key, rate) in enumerate(budgets):
                refusal = _refusal(self._events.get(key, deque()), rate, now)
                if refusal is not None:
                    return (index, refusal), now
            for key, rate in budgets:
                self._events.setdefault(key, deque()).append(now)
                self._forget_idle(now, rate.seconds)
        return None, now

    def release(self, keys: tuple[str, ...], at: float) -> None:
        """Give back an event counted at `at`, where a clear or the window has not taken it already."""
        with self._lock:
            for key in keys:
                events = self._events.get(key, ())
                if at in events:
                    events.remove(at)

    def _forget_idle(self, now: float, seconds: int) -> None:
        """Now and then drop keys with nothing recent, so passing callers do not pile up."""
        self._checks += 1
        if self._checks % 1000 == 0:
            for key in [key for key, events in self._events.items() if not events or events[-1] <= now - seconds]:
                del self._events[key]

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


def _refusal(events: deque, rate: Rate, now: float) -> Verdict | None:
    """Drop the events that left the window; the refusal if the rest fill the budget."""
    while events and events[0] <= now - rate.seconds:
        events.popleft()
    if len(events) < rate.amount:
        return None
    freeing = events[len(events) - rate.amount]
    return Verdict(False, rate.amount, 0, freeing + rate.seconds - now, events[-1] + rate.seconds)


class RateLimiter:
    """Budgets by (scope, key): counted in Redis if configured, in memory otherwise or while it fails."""

    def __init__(self, redis_url: str | None, prefix: str):
        self.prefix = prefix
        self.memory = MemoryCounts()
        self.redis = None
        if redis_url:
            from .redis_counts import RedisCounts  # it builds on this module's Rate and Verdict

            self.redis = RedisCounts(redis_url)
        self._redis_failed_at = -math.inf
        self._held: dict[str, float] = {}  # name -> monotonic time a refusal of spend_failure lapses

    def spend(self, scope: str, key: str, rate: Rate) -> Verdict:
        """Count one event if the budget allows it; say what is left either way."""
        return self._check(scope, key, rate, spend=True)

    def peek(self, scope: str, key: str, rate: Rate) -> Verdict:
        """Would one more event be allowed? Counts nothing."""
        return self._check(scope, key, rate, spend=False)

    def spend_failure(self, scope: str, key: str, rate: Rate) -> Verdict:
        """Count a failure; once one is refused, this process holds the refusal until it lapses."""
        verdict = self.spend(scope, key, rate)
        if not verdict.allowed:
            if len(self._held) >= HELD_MAX:  # keep the refusals still in force, or none if too many are
                now = time.monotonic()
                live = {name: until for name, until in self._held.items() if until > now}
                self._held = live if len(live) < HELD_MAX // 2 else {}
            self._held[self._name(scope, key)] = time.monotonic() + verdict.retry_after
        return verdict

    def held_refusal(self, scope: str, key: str) -> float:
        """Seconds left of a refusal spend_failure got here for the key (0: none): a budget of failures
        can refuse the next attempt before its work, without asking Redis."""
        return max(0.0, self._held.get(self._name(scope, key), 0.0) - time.monotonic())

    def reserve(self, budgets: list[tuple[str, str, Rate]]) -> Reservation:
        """Count one event against every (scope, key, rate) at once, or against none if one is spent."""
        named = [(self._name(scope, key), rate) for scope, key, rate in budgets]
        names = tuple(name for name, _ in named)
        if self._redis_usable():
            answer = self._with_redis(lambda: self.redis.reserve(named))
            if answer is not None:
                return Reservation(names, *answer, in_redis=True)
        return Reservation(names, *self.memory.reserve(named))

    def release(self, reservation: Reservation) -> None:
        """Give a reservation's event back to each budget it holds (a refused one holds none)."""
        if reservation.refused is not None:
            return
        if reservation.in_redis:
            self._with_redis(lambda: self.redis.release(reservation.names, reservation.event))
        else:
            self.memory.release(reservation.names, reservation.event)

    def clear(self, scope: str, key: str) -> None:
        """Forget a key's events (a correct password wipes its account's failures)."""
        name = self._name(scope, key)
        self._held.pop(name, None)
        self.memory.clear(name)
        if self.redis is not None:
            self._with_redis(lambda: self.redis.clear(name))

    def reset(self) -> None:
        """Forget every count (tests start each case with full budgets)."""
        self._held.clear()
        self.memory.reset()
        if self.redis is not None:
            self._with_redis(lambda: self.redis.reset(self.prefix + "/"))

    def _check(self, scope: str, key: str, rate: Rate, spend: bool) -> Verdict:
        name = self._name(scope, key)
        if self._redis_usable():
            verdict = self._with_redis(lambda: self.redis.check(name, rate, spend))
            if verdict is not None:
                return verdict
        return self.memory.check(name, rate, spend)

    def _redis_usable(self) -> bool:
        return self.redis is not None and time.monotonic() - self._redis_failed_at > REDIS_RETRY_SECONDS

    def _with_redis(self, call):
        """`call()`, or None once Redis fails (then memory counts for REDIS_RETRY_SECONDS)."""
        try:
            return call()
        except redis.RedisError as exc:
            self._redis_failed_at = time.monotonic()
            log.warning("rate limits counted in memory for %ss: Redis failed (%s)", REDIS_RETRY_SECONDS, exc)
            return None

    def _name(self, scope: str, key: str) -> str:
        return f"{self.prefix}/{scope}/{key}"


def client_address() -> str:
    """The caller's address as ProxyFix resolved it (only the configured proxy hops are trusted)."""
    return "ip:" + (request.remote_addr or "unknown")


def configured_rate(setting: str) -> Rate:
    """A limit read from the config on every request, so tests and operators can change it live."""
    return parse_rate(current_app.config[setting])


def limiter() -> RateLimiter:
    return current_app.extensions["rate_limiter"]


def check_limits(config) -> None:
    """Refuse to start on a limit that does not parse: a typo must not silently turn a limit off."""
    for name in RATE_LIMITS:
        try:
            parse_rate(config[name])
        except ValueError as exc:
            raise RuntimeError(f"{name}={config[name]!r} is not a rate limit like '5 per 15 minutes'") from exc


def init_app(app: Flask) -> RateLimiter:
    """Give `app` its limiter, and wrap the sign-in view in its budgets (the API's are request hooks)."""
    check_limits(app.config)
    app.extensions["rate_limiter"] = RateLimiter(
        app.config.get("REDIS_URL"), app.config.get("RATELIMIT_KEY_PREFIX") or KEY_PREFIX)

    from ..auth.throttle import limit_sign_in

    limit_sign_in(app)
    return app.extensions["rate_limiter"]
