"""The rate limiter's rule, the same in memory and in Redis: at most N events in any window of W
seconds, peeking counts nothing, clearing forgets, and a Redis failure falls back to memory."""
import threading
import time

import pytest

from webapp import ratelimit
from webapp.ratelimit import redis_counts as ratelimit_redis
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


def test_a_reservation_counts_in_every_budget_or_in_none(limiter):
    small, large = Rate(1, 60), Rate(5, 60)
    first = limiter.reserve([("a", "k", large), ("b", "k", small)])
    assert first.refused is None
    assert limiter.peek("a", "k", large).remaining == 4 and not limiter.peek("b", "k", small).allowed
    second = limiter.reserve([("a", "k", large), ("b", "k", small)])
    index, verdict = second.refused
    assert index == 1 and not verdict.allowed and 59 < verdict.retry_after <= 60
    assert limiter.peek("a", "k", large).remaining == 4  # the budget that allowed it holds nothing for it
    limiter.release(second)  # a refused reservation gives back nothing
    assert limiter.peek("a", "k", large).remaining == 4


def test_a_released_reservation_gives_its_event_back_and_only_its_own(limiter):
    rate = Rate(3, 60)
    kept, given_back = (limiter.reserve([("s", "k", rate), ("t", "k", rate)]) for _ in range(2))
    limiter.release(given_back)
    assert limiter.peek("s", "k", rate).remaining == limiter.peek("t", "k", rate).remaining == 2
    limiter.clear("s", "k")
    limiter.release(kept)  # after a clear: nothing left to give back, and no error
    assert limiter.peek("s", "k", rate).remaining == 3 and limiter.peek("t", "k", rate).remaining == 3


def test_parallel_reservations_never_pass_a_budget_together(limiter):
    rate, start, held = Rate(5, 60), threading.Barrier(40), []

    def reserve():
        start.wait(timeout=10)
        held.append(limiter.reserve([("s", "k", rate), ("t", "k", Rate(100, 60))]).refused is None)

    threads = [threading.Thread(target=reserve) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(held) == 40 and sum(held) == 5
    assert limiter.peek("t", "k", Rate(100, 60)).remaining == 95


def test_without_redis_each_process_counts_its_own_budget():
    """SECURITY.md: while Redis cannot be reached, N processes let N budgets through, each its own."""
    processes = [RateLimiter("redis://127.0.0.1:9/0", "down") for _ in range(3)]
    rate = Rate(2, 60)
    held = [process.reserve([("s", "k", rate)]).refused is None for _ in range(3) for process in processes]
    assert held == [True] * 6 + [False] * 3


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


def _script_calls(limiter, monkeypatch) -> list:
    """Record each call of the limiter's Redis script (its args), still making it."""
    calls, script = [], limiter.redis._script
    monkeypatch.setattr(limiter.redis, "_script", lambda **kw: calls.append(kw["args"]) or script(**kw))
    return calls


@pytest.mark.redis
def test_a_busy_key_with_a_large_budget_takes_its_events_from_redis_a_few_at_a_time(redis_keyspace, monkeypatch):
    url, prefix = redis_keyspace
    monkeypatch.setattr(ratelimit_redis, "LEASE_SECONDS", 5.0)  # however slow the machine, no lease runs out
    limiter = RateLimiter(url, prefix)
    calls = _script_calls(limiter, monkeypatch)
    verdicts = [limiter.spend("s", "k", Rate(100_000, 60)) for _ in range(200)]
    assert all(v.allowed for v in verdicts)
    assert [v.remaining for v in verdicts] == list(range(99_999, 99_799, -1))
    assert len(calls) == 11  # leases of 1, 2, 4, 8 and 16 (31 events), then six of 32 at most


@pytest.mark.redis
def test_small_budgets_still_ask_redis_for_every_event(redis_keyspace, monkeypatch):
    url, prefix = redis_keyspace
    limiter = RateLimiter(url, prefix)
    calls = _script_calls(limiter, monkeypatch)
    assert all(limiter.spend("s", "k", Rate(511, 60)).allowed for _ in range(20))
    assert len(calls) == 20


@pytest.mark.redis
def test_leases_let_exactly_the_budget_through_across_processes(redis_keyspace, monkeypatch):
    url, prefix = redis_keyspace
    monkeypatch.setattr(ratelimit_redis, "LEASE_SECONDS", 5.0)
    processes = [RateLimiter(url, prefix) for _ in range(3)]
    rate = Rate(3000, 60)
    allowed = sum(process.spend("s", "k", rate).allowed for _ in range(1100) for process in processes)
    assert allowed == 3000
    assert not any(process.spend("s", "k", rate).allowed for process in processes)


@pytest.mark.redis
def test_a_lease_counts_from_its_grant_to_its_last_moment_then_gives_back_what_it_did_not_spend(
        redis_keyspace, monkeypatch):
    url, prefix = redis_keyspace
    monkeypatch.setattr(ratelimit_redis, "LEASE_SECONDS", 0.2)
    limiter, observer = RateLimiter(url, prefix), RateLimiter(url, prefix)
    rate, name = Rate(100_000, 60), f"{prefix}/s/k"
    for _ in range(3):
        limiter.spend("s", "k", rate)  # a lease of 1, then one of 2, both spent
    seconds, micros = limiter.redis.client.time()
    granted_ms = seconds * 1000 + micros // 1000
    limiter.spend("s", "k", rate)  # spent fast: a lease of 4, 3 of them unspent
    assert observer.peek("s", "k", rate).remaining == 100_000 - 7
    scores = [score for _, score in limiter.redis.client.zrange(name, 0, -1, withscores=True)]
    assert all(score >= granted_ms + 200 for score in sorted(scores)[-4:])  # none leaves the window early
    time.sleep(0.25)
    limiter.spend("s", "k", rate)  # the lease ran out: its 3 go back, a new lease of 1 is taken
    assert observer.peek("s", "k", rate).remaining == 100_000 - 5
