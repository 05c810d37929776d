"""Retries come at their time: attempt n+1 falls due base·2^(n-1) (capped at an hour) ± the jitter
after attempt n, and a delivery run is scheduled for that moment (RQ's scheduler, or the embedded
mode's timer), not left to the minutely requeue. Time and the jitter's draws are injected."""
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from rq import Queue

from webapp import jobs
from webapp.extensions import db
from webapp.jobs import embedded, tasks
from webapp.models import Role, WebhookDelivery
from webapp.services import delivery
from webapp.services.outbox import DELIVER_DUE_JOB
from webapp.db.utc import utcnow

from .conftest import LOOPBACK_NETWORK
from .delivery_support import due_deliveries, new_webhook, rows
from .factories import Factories
from .jobs_fixtures import committed_app, committed_db, queue_name, receiver, redis_url, run_burst  # noqa: F401

JITTER = 0.1


class Clock:
    """The time the delivery code reads, moved by the test."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    at = Clock(utcnow().replace(microsecond=250_000) + timedelta(seconds=1))
    monkeypatch.setattr(delivery, "utcnow", at)
    monkeypatch.setattr(embedded, "utcnow", at)
    return at


@pytest.fixture
def draws(monkeypatch):
    """The jitter's random draws, in turn (the last repeats); the bounds it asked for are kept."""
    chosen, asked = [], []

    def uniform(low, high):
        asked.append((low, high))
        return chosen.pop(0) if len(chosen) > 1 else chosen[0]

    monkeypatch.setattr(delivery, "uniform", uniform)
    uniform.chosen, uniform.asked = chosen, asked
    return uniform


def scheduled(app) -> datetime | None:
    return app.extensions.get("jobs_scheduled", {}).pop(DELIVER_DUE_JOB, None)


def whole_second_after(moment: datetime) -> datetime:
    return moment.replace(microsecond=0) + timedelta(seconds=1 if moment.microsecond else 0)


def test_each_retry_falls_due_on_the_schedule_within_its_jitter_and_a_run_is_scheduled_for_it(
        app, make, receiver, loopback_allowed, monkeypatch, clock, draws):
    monkeypatch.setitem(app.config, "WEBHOOK_BACKOFF_JITTER", JITTER)
    receiver.answer(500)
    webhook = new_webhook(make.user("admin", role=Role.ADMIN), receiver.url, "n8n")
    due_deliveries(webhook.id, 1)
    draws.chosen[:] = [-JITTER, JITTER, 0.0, -0.05, 0.07, JITTER, -JITTER, 0.02, -0.01]
    expected_draws = list(draws.chosen)
    for attempt in range(1, 10):
        scheduled(app)
        assert tasks.deliver_due() == 1
        [row] = rows(webhook.id)
        assert (row.status, row.attempts) == ("PENDING", attempt)
        base = min(30 * 2 ** (attempt - 1), 3600)
        wait = (row.next_attempt_at - clock.now).total_seconds()
        assert wait == pytest.approx(base * (1 + expected_draws[attempt - 1]), abs=1e-3)
        assert base * (1 - JITTER) - 1e-3 <= wait <= base * (1 + JITTER) + 1e-3
        assert scheduled(app) == whole_second_after(row.next_attempt_at)  # the run that makes attempt n+1
        clock.now = row.next_attempt_at - timedelta(seconds=1)
        assert tasks.deliver_due() == 0 and len(receiver.requests) == attempt  # never early
        clock.now = row.next_attempt_at
    assert draws.asked == [(-JITTER, JITTER)] * 9
    scheduled(app)
    assert tasks.deliver_due() == 1
    [row] = rows(webhook.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("FAILED", 10, None)
    assert scheduled(app) is None  # nothing left to wake up for


def test_failures_at_one_moment_come_back_spread_over_the_jitter(app, make, receiver, loopback_allowed,
                                                                 monkeypatch, clock):
    monkeypatch.setitem(app.config, "WEBHOOK_BACKOFF_JITTER", JITTER)
    receiver.answer(503)
    webhook = new_webhook(make.user("admin", role=Role.ADMIN), receiver.url, "n8n")
    due_deliveries(webhook.id, 30)
    assert tasks.deliver_due() == 30
    waits = [(row.next_attempt_at - clock.now).total_seconds() for row in rows(webhook.id)]
    assert all(27 <= wait <= 33 for wait in waits)
    assert len(set(waits)) > 20  # not one moment again
    assert scheduled(app) == whole_second_after(clock.now + timedelta(seconds=min(waits)))


def test_the_embedded_timer_runs_the_retry_at_its_time(committed_app, receiver, monkeypatch, clock, draws):
    app = committed_app(JOBS_INLINE=False, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK, WEBHOOK_BACKOFF_JITTER=JITTER)
    timers = []
    app.extensions["jobs_wakeups"] = embedded.WakeUps(app, start_timer=lambda *timer: timers.append(timer))
    draws.chosen[:] = [JITTER]
    receiver.answer(500, 204)
    with app.app_context():
        webhook_id = new_webhook(Factories().user("admin", role=Role.ADMIN), receiver.url, "n8n").id
        due_deliveries(webhook_id, 1)
        jobs.enqueue(DELIVER_DUE_JOB)
        receiver.wait_for(1)
        [row] = _wait_until(lambda: [r for r in rows(webhook_id) if r.last_status_code == 500])
        assert (row.next_attempt_at - clock.now).total_seconds() == pytest.approx(33, abs=1e-3)
        [(delay, fire, job)] = _wait_until(lambda: timers)
        assert job == DELIVER_DUE_JOB
        assert clock.now + timedelta(seconds=delay) == whole_second_after(row.next_attempt_at)
        clock.now = whole_second_after(row.next_attempt_at)  # the timer's moment has come
        fire(job)
        [row] = _wait_until(lambda: [r for r in rows(webhook_id) if r.status == "DELIVERED"])
    assert row.attempts == 2 and len(receiver.requests) == 2
    app.extensions["jobs_executor"].shutdown(wait=True)


def _wait_until(found, timeout: float = 10.0):
    """What `found()` returns once it is something (the job threads are at work meanwhile)."""
    deadline = time.monotonic() + timeout
    while not (result := found()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return result


def test_the_embedded_timer_keeps_the_earliest_wake_up(app):
    timers = []

    class Timer:
        def __init__(self, delay, function, *args):
            self.delay, self.cancelled = delay, False
            timers.append(self)

        def cancel(self):
            self.cancelled = True

    wakeups = embedded.WakeUps(app, start_timer=Timer)
    now = utcnow()
    wakeups.at(now + timedelta(seconds=60), DELIVER_DUE_JOB)
    wakeups.at(now + timedelta(seconds=90), DELIVER_DUE_JOB)  # later: the run at 60 s asks again
    wakeups.at(now + timedelta(seconds=30), DELIVER_DUE_JOB)  # earlier: replaces it
    assert [(round(t.delay), t.cancelled) for t in timers] == [(60, True), (30, False)]
    assert wakeups.due(DELIVER_DUE_JOB) == now + timedelta(seconds=30)


@pytest.mark.redis
def test_on_rq_a_failed_attempt_schedules_the_run_that_retries_it(committed_app, redis_url, queue_name, receiver,
                                                                   monkeypatch, draws):
    app = committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK,
                        WEBHOOK_BACKOFF_JITTER=JITTER)
    draws.chosen[:] = [-JITTER]  # the work horse is forked from this process: it draws this too
    receiver.answer(500, 204)
    with app.app_context():
        webhook_id = new_webhook(Factories().user("admin", role=Role.ADMIN), receiver.url, "n8n").id
        due_deliveries(webhook_id, 1)
        jobs.enqueue(DELIVER_DUE_JOB)
    run_burst(app)
    with app.app_context():
        [row] = rows(webhook_id)
        assert (row.attempts, row.last_status_code) == (1, 500)
        registry = Queue(queue_name, connection=jobs.redis_connection()).scheduled_job_registry
        [job_id] = registry.get_job_ids()
        at = registry.get_scheduled_time(job_id)
        assert at == whole_second_after(row.next_attempt_at)
        assert 26 <= (at - row.created_at).total_seconds() <= 29  # 30 s less 10 %, from the failed attempt
        # Time passes (nothing sleeps): the row falls due, and so does the scheduled run.
        db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                           .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        registry.schedule(registry.job_class.fetch(job_id, connection=registry.connection),
                          datetime.now(timezone.utc) - timedelta(seconds=1))
    run_burst(app, with_scheduler=True)  # as worker.py runs it: its scheduler queues the run, which sends
    with app.app_context():
        [row] = rows(webhook_id)
    assert (row.status, row.attempts) == ("DELIVERED", 2)

