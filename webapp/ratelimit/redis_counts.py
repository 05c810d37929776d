"""The moving-window budgets in Redis, shared by every web process, with leases for busy keys.

Each event is a member of the key's sorted set, scored with its time (Redis's clock). One script
call checks and counts. A key that spends fast, against a budget far from its end, takes a lease
instead of one event: up to LEASE_MAX events at once, which this process then spends without
asking Redis for LEASE_SECONDS, so a busy automation key costs Redis a call per lease, not per request.

Leases never let more than the budget through. A leased event is counted from the moment it is
granted and scored at the latest time it may be spent (grant + LEASE_SECONDS), so it leaves the
window no earlier than the real event would. A lease takes at most 1/LEASE_SHARE of what is left
of the budget, so budgets under 2 × LEASE_SHARE (the default 300 per minute, sign-in limits) are
counted one event per call exactly as before, and near its end any budget is. Events a lease did
not spend are given back with the key's next call from this process; until then (at most the
window) they count as spent, so a key may be refused a little early, never late.

A reservation (RESERVE) is never leased: one script call checks several keys and counts one event,
under a name of its own, in all of them or in none; giving it back removes that name.
"""
import os
import secrets
import threading
import time
from dataclasses import dataclass
from itertools import count

import redis

from . import Rate, Verdict

LEASE_MAX = 32          # events one lease may hold
LEASE_SECONDS = 0.1     # how long this process may spend a lease's events
LEASE_SHARE = 256       # a lease takes at most this fraction of the budget still free
GIVE_BACK_MAX = 256     # unspent names kept to give back per key; older ones just age out
FORGET_EVERY = 1024     # calls between sweeps of idle keys' leases

# KEYS[1]: the key's sorted set of event times (ms). ARGV: window ms, limit, spend (1) or peek (0),
# a lease name no other has, the most events wanted, the lease's ms, LEASE_SHARE, then unspent
# events of this process's earlier leases to give back.
# Returns {allowed, remaining, retry ms, reset ms (Unix), events taken}.
LEASED_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local window, limit, spend = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local name, want, lease_ms, share = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if #ARGV > 7 then
    redis.call('ZREM', KEYS[1], unpack(ARGV, 8))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used >= limit then
    local freeing = redis.call('ZRANGE', KEYS[1], used - limit, used - limit, 'WITHSCORES')
    local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    return {0, 0, math.max(0, tonumber(freeing[2]) + window - now), tonumber(newest[2]) + window, 0}
end
if spend == 1 then
    local take = math.max(1, math.min(want, math.floor((limit - used) / share)))
    local at = now
    if take > 1 then
        at = now + lease_ms
    end
    local events = {}
    for i = 1, take do
        events[#events + 1] = at
        events[#events + 1] = name .. ':' .. i
    end
    redis.call('ZADD', KEYS[1], unpack(events))
    redis.call('PEXPIRE', KEYS[1], window + lease_ms)
    return {1, limit - used - take, 0, at + window, take}
end
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
return {1, limit - used, 0, newest[2] and tonumber(newest[2]) + window or now, 0}
"""


# KEYS: the budgets' sorted sets. ARGV: the event's name (no other has it), then each budget's window
# ms and limit. Counts the event in every budget, or in none if one is spent.
# Returns {0} or, refused, {the budget's number from 1, retry ms, reset ms (Unix)}.
RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
for i, key in ipairs(KEYS) do
    local window, limit = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    local used = redis.call('ZCARD', key)
    if used >= limit then
        local freeing = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
        local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
        return {i, math.max(0, tonumber(freeing[2]) + window - now), tonumber(newest[2]) + window}
    end
end
for i, key in ipairs(KEYS) do
    redis.call('ZADD', key, now, ARGV[1])
    redis.call('PEXPIRE', key, tonumber(ARGV[2 * i]))
end
return {0}
"""


@dataclass
class Lease:
    """Events granted to this process for one key: `taken` of them, `spent` so far, spendable until
    `until` (monotonic). `remaining` and `reset_at` are what Redis said when it granted them."""
    name: str
    rate: Rate
    taken: int
    until: float
    remaining: int
    reset_at: float
    spent: int = 1

    def unspent_names(self) -> list[str]:
        return [f"{self.name}:{i}" for i in range(self.spent + 1, self.taken + 1)]

    def next_want(self, rate: Rate, now: float) -> int:
        """Spent before it ran out: ask for twice as many; else for as many as were spent."""
        if rate != self.rate:
            return 1
        if now < self.until:
            return min(LEASE_MAX, self.taken * 2)
        return max(1, self.spent)


class RedisCounts:
    """The moving window in Redis: one script call per check, or per lease for a busy key."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._script = self.client.register_script(LEASED_WINDOW)
        self._reserve = self.client.register_script(RESERVE)
        self._token = secrets.token_hex(4)  # with the pid (forked workers share the token): unique
        self._serial = count()
        self._lock = threading.Lock()
        self._leases: dict[str, Lease] = {}
        self._give_back: dict[str, list[str]] = {}
        self._calls = 0

    def check(self, key: str, rate: Rate, spend: bool) -> Verdict:
        if not spend:
            return self._call(key, rate, False, 1, [])[0]
        now = time.monotonic()
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease.rate == rate and lease.spent < lease.taken and now < lease.until:
                lease.spent += 1
                return Verdict(True, rate.amount, lease.remaining + lease.taken - lease.spent, 0.0, lease.reset_at)
            want = 1
            if lease is not None:
                want = lease.next_want(rate, now)
                self._queue_give_back(key, lease.unspent_names())
                lease.taken = lease.spent  # given back: no other thread may spend or return them
            give_back = self._give_back.pop(key, [])
        verdict, name, taken = self._call(key, rate, True, want, give_back)
        if taken:
            self._keep(key, Lease(name, rate, taken, now + LEASE_SECONDS, verdict.remaining - taken + 1,
                                  verdict.reset_at))
        return verdict

    def reserve(self, budgets: list[tuple[str, Rate]]):
        """(None, the event's name) once it is counted in every budget; ((index, verdict), name) if one is spent."""
        name = self._new_name()
        args = [name, *(n for _, rate in budgets for n in (rate.seconds * 1000, rate.amount))]
        answer = self._reserve(keys=[key for key, _ in budgets], args=args)
        if not answer[0]:
            return None, name
        index, retry_ms, reset_ms = answer
        rate = budgets[index - 1][1]
        return (index - 1, Verdict(False, rate.amount, 0, retry_ms / 1000, reset_ms / 1000)), name

    def release(self, keys: tuple[str, ...], name: str) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.zrem(key, name)
            pipe.execute()

    def _new_name(self) -> str:
        return f"{self._token}-{os.getpid()}-{next(self._serial)}"

    def _call(self, key: str, rate: Rate, spend: bool, want: int, give_back: list[str]):
        """One script call: (verdict, lease name, events taken)."""
        name = self._new_name()
        allowed, remaining, retry_ms, reset_ms, taken = self._script(
            keys=[key], args=[rate.seconds * 1000, rate.amount, int(spend), name, want,
                              int(LEASE_SECONDS * 1000), LEASE_SHARE, *give_back])
        remaining = int(remaining) + max(0, int(taken) - 1)  # this call spends one; the rest are ours
        return Verdict(bool(allowed), rate.amount, remaining, retry_ms / 1000, reset_ms / 1000), name, int(taken)

    def _keep(self, key: str, lease: Lease) -> None:
        """Make `lease` the key's current one; another thread's lease it replaces gives its unspent back."""
        with self._lock:
            old = self._leases.get(key)
            if old is not None and old.spent < old.taken:
                self._queue_give_back(key, old.unspent_names())
            self._leases[key] = lease
            self._calls += 1
            if self._calls % FORGET_EVERY == 0:
                self._forget_idle(time.monotonic())

    def _queue_give_back(self, key: str, names: list[str]) -> None:
        queued = self._give_back.setdefault(key, [])
        queued.extend(names[:max(0, GIVE_BACK_MAX - len(queued))])

    def _forget_idle(self, now: float) -> None:
        """Drop leases that ran out a while ago, so passing keys do not pile up; their unspent events
        (if any) age out of the window by themselves."""
        for key in [key for key, lease in self._leases.items() if now - lease.until > lease.rate.seconds]:
            del self._leases[key]
            self._give_back.pop(key, None)

    def clear(self, key: str) -> None:
        with self._lock:
            self._leases.pop(key, None)
            self._give_back.pop(key, None)
        self.client.delete(key)

    def reset(self, prefix: str) -> None:
        with self._lock:
            self._leases.clear()
            self._give_back.clear()
        for key in self.client.scan_iter(match=prefix + "*", count=1000):
            self.client.delete(key)
