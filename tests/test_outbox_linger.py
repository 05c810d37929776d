"""On real Redis: a dispatch run lingers while commits keep coming, so a busy minute queues a few runs, not one per commit.

The run keeps its pending mark while it lingers (commits meanwhile queue nothing) and clears it
before its last drain (a commit that found the mark set is still read). Requests hand their asks
for a run to one thread per process, which checks the mark once for all of them.
"""
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from webapp.jobs import tasks
from webapp.extensions import db
from webapp.models import OutboxEvent, User
from webapp.services.tickets import create_ticket

from .factories import Factories
from .jobs_fixtures import committed_app, committed_db, dispatch_jobs_waiting, queue_name, redis_url  # noqa: F401

pytestmark = pytest.mark.redis


@pytest.fixture
def lingering(committed_app, redis_url, queue_name):
    """An app on Redis whose dispatch runs linger, with one ticket committed (its run queued)."""
    app = committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name, OUTBOX_LINGER_SECONDS=30)
    with app.app_context():
        make = Factories()
        agent, cti = make.user(), make.cti()
        make.ticket(actor=agent, cti=cti)
        ids = {"agent": agent.id, "cti": [node.id for node in cti]}

    def commit_ticket():
        """A commit from another request, in an app context (and session) of its own."""
        with app.app_context():
            category_id, type_id, item_id = ids["cti"]
            create_ticket(db.session.get(User, ids["agent"]), title="Meanwhile", overview="", severity=3,
                          category_id=category_id, type_id=type_id, item_id=item_id)

    app.commit_ticket = commit_ticket
    return app


def undispatched(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(OutboxEvent.dispatched_at.is_(None)))


def test_commits_while_a_run_lingers_are_drained_by_it_and_queue_no_run_of_their_own(lingering, monkeypatch):
    naps = []

    def nap(seconds):
        naps.append(seconds)
        if len(naps) <= 2:
            lingering.commit_ticket()

    monkeypatch.setattr(tasks, "time", SimpleNamespace(monotonic=time.monotonic, sleep=nap))
    assert dispatch_jobs_waiting(lingering) == 1
    waiting = undispatched(lingering)  # the ticket's event, and those of the setup (people, CTI)
    with lingering.app_context():
        assert tasks.dispatch_outbox() == waiting + 2
    assert naps == [tasks.LINGER_PAUSE] * 3  # drained the backlog, 1, 1, then found nothing and stopped
    assert dispatch_jobs_waiting(lingering) == 1  # only the run the first commit queued
    assert undispatched(lingering) == 0


def test_a_commit_that_found_the_mark_set_is_read_by_the_last_drain(lingering, monkeypatch):
    forget = tasks.forget_pending

    def commit_then_forget(path):
        lingering.commit_ticket()  # after the lingering drains, while the mark still says "a run waits"
        assert dispatch_jobs_waiting(lingering) == 1
        forget(path)

    monkeypatch.setattr(tasks, "forget_pending", commit_then_forget)
    monkeypatch.setattr(tasks, "time", SimpleNamespace(monotonic=time.monotonic, sleep=lambda seconds: None))
    waiting = undispatched(lingering)
    with lingering.app_context():
        assert tasks.dispatch_outbox() == waiting + 1
    assert undispatched(lingering) == 0


def test_a_run_stops_lingering_at_its_deadline(lingering, monkeypatch):
    clock = iter(range(0, 1000, 10))  # each look at the clock is 10 s later: the 30 s deadline passes
    naps = []

    def nap(seconds):
        naps.append(seconds)
        lingering.commit_ticket()  # commits never stop coming

    monkeypatch.setattr(tasks, "time", SimpleNamespace(monotonic=lambda: next(clock), sleep=nap))
    waiting = undispatched(lingering)
    with lingering.app_context():
        assert tasks.dispatch_outbox() == waiting + len(naps)
    assert len(naps) == 2  # looked at 10 s and 20 s, then stopped at 30 s
    assert undispatched(lingering) == 0
    with lingering.app_context():
        lingering.commit_ticket()
    assert dispatch_jobs_waiting(lingering) == 2  # the mark is cleared: the next commit queues a new run


def coalescing_app(committed_app, redis_url, queue_name, delay: float):
    """An app on Redis whose requests hand their asks for a dispatch run to a per-process thread,
    with a user and a CTI chain committed and nothing left queued or marked by that setup."""
    app = committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name, OUTBOX_MARK_DELAY_SECONDS=delay)
    with app.app_context():
        make = Factories()
        app.actor_id, app.cti_ids = make.user().id, [node.id for node in make.cti()]
    connection = Redis.from_url(redis_url)
    Queue(queue_name, connection=connection).empty()
    for key in connection.scan_iter(match=f"ticketing:pending:{queue_name}:*"):
        connection.delete(key)
    connection.close()
    return app


@pytest.fixture
def coalescing(committed_app, redis_url, queue_name):
    return coalescing_app(committed_app, redis_url, queue_name, delay=30)


def create_in_a_request(app) -> None:
    with app.test_request_context("/api/tickets", method="POST"):
        category_id, type_id, item_id = app.cti_ids
        create_ticket(db.session.get(User, app.actor_id), title="From a request", overview="", severity=3,
                      category_id=category_id, type_id=type_id, item_id=item_id)


def test_requests_ask_for_a_dispatch_run_once_per_delay_after_their_commits(coalescing, monkeypatch):
    marks = []
    real_set = Redis.set
    monkeypatch.setattr(Redis, "set", lambda self, name, *args, **kwargs: (
        marks.append(name), real_set(self, name, *args, **kwargs))[1])
    for _ in range(5):
        create_in_a_request(coalescing)
    assert marks == [] and dispatch_jobs_waiting(coalescing) == 0  # noted, not yet taken to Redis
    asks = coalescing.extensions["coalesced_asks"]
    asks.flush()  # what the thread does OUTBOX_MARK_DELAY_SECONDS after the first ask
    assert len(marks) == 1 and dispatch_jobs_waiting(coalescing) == 1
    asks.flush()  # nothing asked since: no round trip
    assert len(marks) == 1
    create_in_a_request(coalescing)  # the mark still says a run waits: marked, nothing more queued
    asks.flush()
    assert len(marks) == 2 and dispatch_jobs_waiting(coalescing) == 1
    with coalescing.app_context():
        assert tasks.dispatch_outbox() >= 6
    assert undispatched(coalescing) == 0


def test_the_process_thread_takes_the_asks_to_redis_by_itself(committed_app, redis_url, queue_name):
    app = coalescing_app(committed_app, redis_url, queue_name, delay=0.05)
    create_in_a_request(app)
    deadline = time.monotonic() + 5
    while dispatch_jobs_waiting(app) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert dispatch_jobs_waiting(app) == 1


def test_jobs_and_commands_ask_at_once(coalescing):
    with coalescing.app_context():  # no request: e.g. the sweep job or `flask sweep`
        category_id, type_id, item_id = coalescing.cti_ids
        create_ticket(db.session.get(User, coalescing.actor_id), title="From a job", overview="", severity=3,
                      category_id=category_id, type_id=type_id, item_id=item_id)
    assert dispatch_jobs_waiting(coalescing) == 1 and "coalesced_asks" not in coalescing.extensions
