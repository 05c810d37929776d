"""The rate limiter's rule, the same in memory and in Redis: at most N events in any window of W
seconds, peeking counts nothing, clearing forgets, and a Redis failure falls back to memory."""
import time

import pytest

from webapp import ratelimit
from webapp.ratelimit import Rate, RateLimiter, parse_rate


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request):
    if request.param == "memory":
        return RateLimiter(None, "unused")
    url, prefix = request.getfixturevalue("redis_keyspace")
    return RateLimiter(url, prefix)


@pytest.mark.parametrize("text, rate", [
    ("300 per minute", Rate(300, 60)), ("5 per 15 minutes", Rate(5, 900)), ("2 per 1 second", Rate(2, 1)),
    ("10/hour", Rate(10, 3600)), (" 1 PER DAY ", Rate(1, 86400)),
])
def test_rates_parse(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["five a day", "0 per minute", "3 per 0 minutes", "3 per fortnight", "", "3"])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_a_budget_allows_its_amount_then_refuses_until_the_oldest_leaves(limiter):
    rate = Rate(3, 60)
    verdicts = [limiter.spend("s", "k", rate) for _ in range(4)]
    assert [(v.allowed, v.remaining) for v in verdicts] == [(True, 2), (True, 1), (True, 0), (False, 0)]
    assert 59 < verdicts[-1].retry_after <= 60
    assert time.time() + 59 < verdicts[-1].reset_at <= time.time() + 61
    assert limiter.spend("s", "other key", rate).allowed
    assert limiter.spend("other scope", "k", rate).allowed


def test_the_window_moves_no_burst_across_its_edge(limiter):
    """A fixed window would allow 2 at its end and 2 more at the next one's start; this never does."""
    rate = Rate(2, 1)
    assert limiter.spend("s", "k", rate).allowed
    time.sleep(0.6)
    assert limiter.spend("s", "k", rate).allowed
    refused = limiter.spend("s", "k", rate)
    assert not refused.allowed and 0.2 < refused.retry_after <= 0.45
    time.sleep(refused.retry_after + 0.05)
    assert limiter.spend("s", "k", rate).allowed  # the first left the window; the second has not
    assert not limiter.spend("s", "k", rate).allowed


def test_peeking_counts_nothing(limiter):
    rate = Rate(2, 60)
    assert all(limiter.peek("s", "k", rate).allowed for _ in range(5))
    limiter.spend("s", "k", rate)
    assert limiter.peek("s", "k", rate).remaining == 1
    limiter.spend("s", "k", rate)
    assert not limiter.peek("s", "k", rate).allowed


def test_clearing_forgets_a_keys_events(limiter):
    rate = Rate(1, 60)
    limiter.spend("s", "k", rate)
    limiter.spend("s", "kept", rate)
    limiter.clear("s", "k")
    assert limiter.spend("s", "k", rate).allowed
    assert not limiter.spend("s", "kept", rate).allowed


def test_a_lowered_limit_applies_at_once(limiter):
    for _ in range(5):
        limiter.spend("s", "k", Rate(10, 60))
    assert not limiter.spend("s", "k", Rate(3, 60)).allowed
    assert limiter.spend("s", "k", Rate(6, 60)).remaining == 0


@pytest.mark.redis
def test_events_in_the_same_millisecond_each_count(redis_keyspace):
    """Every event is its own member of the sorted set, even from one process in one instant."""
    url, prefix = redis_keyspace
    first, second = RateLimiter(url, prefix), RateLimiter(url, prefix)
    rate = Rate(50, 60)
    for _ in range(20):
        first.spend("s", "k", rate)
        second.spend("s", "k", rate)
    assert first.peek("s", "k", rate).remaining == 10


def test_redis_failing_counts_in_memory_then_tries_redis_again(monkeypatch):
    limiter = RateLimiter("redis://127.0.0.1:9/0", "down")
    calls = []
    real_check = limiter.redis.check
    monkeypatch.setattr(limiter.redis, "check", lambda *args: calls.append(args) or real_check(*args))
    rate = Rate(2, 60)
    assert [limiter.spend("s", "k", rate).allowed for _ in range(3)] == [True, True, False]
    assert len(calls) == 1  # one failure, then memory for REDIS_RETRY_SECONDS
    monkeypatch.setattr(ratelimit, "REDIS_RETRY_SECONDS", 0.0)
    limiter.spend("s", "k", rate)
    assert len(calls) == 2
