"""Delivery runs: due deliveries claimed in batches, sent by a few threads over kept-alive
connections, each exactly once, a slow receiver holding only its share; in-process and embedded."""
import json
import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from webapp import jobs
from webapp.extensions import db
from webapp.jobs import tasks
from webapp.models import AuditEvent, OutboxEvent, Role
from webapp.ops.logs import JsonFormatter
from webapp.services import delivery_run, http_sender
from webapp.services.outbox import DISPATCH_JOB
from webapp.db.utc import utcnow

from .conftest import LOOPBACK_NETWORK, make_app
from .delivery_support import SECRET, delivery_ids, due_deliveries, new_webhook, outgoing, rows
from .factories import Factories
from .jobs_fixtures import committed_app, committed_db, receiver, receivers  # noqa: F401


@pytest.fixture
def admin(make):
    return make.user("admin", role=Role.ADMIN)


def test_deliveries_to_one_receiver_share_a_few_kept_alive_connections(app, admin, receivers, loopback_allowed):
    receiver = receivers(keep_alive=True)
    webhook = new_webhook(admin, receiver.url, "n8n")
    due = due_deliveries(webhook.id, 60)
    assert tasks.deliver_due() == 60
    assert sorted(delivery_ids(receiver)) == due  # each once
    assert 1 <= receiver.connections <= 4  # DELIVERY_CONCURRENCY_PER_WEBHOOK: half of 8
    assert {(row.status, row.attempts) for row in rows(webhook.id)} == {("DELIVERED", 1)}


def test_without_keep_alive_each_delivery_has_a_connection_of_its_own(app, admin, receivers, loopback_allowed,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_KEEP_ALIVE", False)
    receiver = receivers(keep_alive=True)
    webhook = new_webhook(admin, receiver.url, "n8n")
    due_deliveries(webhook.id, 12)
    assert tasks.deliver_due() == 12
    assert receiver.connections == 12
    assert {request.headers["Connection"] for request in receiver.requests} == {"close"}


def test_a_kept_connection_the_receiver_closed_is_replaced_without_sending_twice(app, receivers, loopback_allowed,
                                                                                 monkeypatch):
    receiver = receivers(keep_alive=True)
    connections = http_sender.Connections(timeout=5)
    checked = http_sender.check_targets([receiver.url])[receiver.url]
    assert connections.send(outgoing(receiver.url, 1), checked).status_code == 200
    receiver.close_connections()  # as an idle timeout at the receiver would
    assert connections.send(outgoing(receiver.url, 2), checked).status_code == 200  # seen closed: a new one
    receiver.close_connections()
    monkeypatch.setattr(http_sender, "_still_open", lambda conn: True)  # closed just after the look
    assert connections.send(outgoing(receiver.url, 3), checked).status_code == 200  # unanswered: sent again
    connections.close()
    assert delivery_ids(receiver) == [1, 2, 3] and receiver.connections == 3


def test_a_webhook_starts_with_one_delivery_at_a_time_until_it_answers(app, admin, receivers, loopback_allowed):
    """A down receiver is tried with one delivery, not a volley; once one is answered the rest share it."""
    receiver = receivers(keep_alive=True)
    receiver.answer(503, 200)
    webhook = new_webhook(admin, receiver.url, "n8n")
    due = due_deliveries(webhook.id, 20)
    assert tasks.deliver_due() == 20
    assert delivery_ids(receiver)[:2] == due[:2]  # the 503, then the first to be answered, alone
    assert receiver.most_at_once <= 4
    assert [row.status for row in rows(webhook.id)] == ["PENDING"] + ["DELIVERED"] * 19


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(app, admin, receivers, loopback_allowed,
                                                                    monkeypatch, logs):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.2)
    receiver = receivers(keep_alive=True)
    receiver.hold()
    webhook = new_webhook(admin, receiver.url, "n8n")
    [due] = due_deliveries(webhook.id, 1)
    tasks.deliver_due()
    [row] = rows(webhook.id)
    assert (row.status, row.attempts, row.last_status_code) == ("PENDING", 1, None)
    assert row.last_error == "TimeoutError: timed out"
    assert 25 < (row.next_attempt_at - utcnow()).total_seconds() <= 30
    [line] = [r.getMessage() for r in logs.records if r.name == "webapp.services.delivery"]
    assert line.startswith(f"webhook {webhook.id}: delivery {due} of event {row.audit_event_id} failed (attempt 1, ")
    assert line.endswith("TimeoutError: timed out")


def test_failures_are_logged_with_webhook_event_and_reason_but_no_body_secret_or_url(app, admin, receivers,
                                                                                   loopback_allowed, logs):
    receiver = receivers(keep_alive=True)
    receiver.answer(500, body=b"stack trace with INTERNAL-DETAIL")
    webhook = new_webhook(admin, receiver.url + "?token=url-token-in-query", "n8n")
    [due] = due_deliveries(webhook.id, 1)
    tasks.deliver_due()
    [row] = rows(webhook.id)
    assert "INTERNAL-DETAIL" in row.last_error  # the excerpt is kept for the admin page …
    [line] = [r.getMessage() for r in logs.records if r.name == "webapp.services.delivery"]
    assert f"webhook {webhook.id}" in line and f"delivery {due}" in line and f"event {row.audit_event_id}" in line
    assert line.endswith("HTTP 500 Internal Server Error") and "next try in 30s" in line
    assert all(text not in line for text in ("INTERNAL-DETAIL", SECRET, "url-token", "/hook"))  # … never logged
    [record] = [r for r in logs.records if r.name == "webapp.services.delivery"]
    entry = json.loads(JsonFormatter().format(record))  # as the worker's JSON log line carries it
    assert {key: entry[key] for key in ("webhook_id", "delivery_id", "event_id", "attempt", "reason", "given_up")} \
        == {"webhook_id": webhook.id, "delivery_id": due, "event_id": row.audit_event_id, "attempt": 1,
            "reason": "HTTP 500 Internal Server Error", "given_up": False}


def test_a_claimed_delivery_that_cannot_start_within_its_lease_is_handed_back_unsent(app, admin, receivers,
                                                                                    loopback_allowed):
    receiver = receivers(keep_alive=True)
    webhook = new_webhook(admin, receiver.url, "n8n")
    due_deliveries(webhook.id, 1)
    run = delivery_run.DeliveryRun(concurrency=2, per_webhook=1, timeout=1)
    assert run._claim() == 1
    [[lane_row]] = [lane.waiting for lane in run._lanes.values()]
    outgoing, target, claimed_at = lane_row
    run._lanes[webhook.id].waiting[0] = (outgoing, target, claimed_at - 3600)  # it waited an hour for its turn
    assert run.drain(deadline=0) == 0  # past its deadline: only what it holds, and that goes back
    run.close()
    [row] = rows(webhook.id)
    assert (row.status, row.attempts, row.last_error) == ("PENDING", 0, None)  # the attempt not counted
    assert row.next_attempt_at <= utcnow() and receiver.requests == []  # due again, nothing sent


def _send_in_thread(app, results: list, start: threading.Barrier | None = None) -> threading.Thread:
    def run():
        with app.app_context():
            if start:
                start.wait()
            results.append(tasks.deliver_due())

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_slow_receiver_holds_only_its_share_while_other_webhooks_are_delivered(committed_app, receivers):
    app = committed_app(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK, DELIVERY_CONCURRENCY=4,
                        DELIVERY_CONCURRENCY_PER_WEBHOOK=2)
    slow, fast = receivers(keep_alive=True), receivers(keep_alive=True)
    slow.hold(answer_first=1)  # answers once (so the webhook gets its full share), then hangs
    with app.app_context():
        admin = Factories().user("admin", role=Role.ADMIN)
        slow_hook, fast_hook = new_webhook(admin, slow.url, "slow").id, new_webhook(admin, fast.url, "fast").id
        due_deliveries(slow_hook, 10, overdue=5)  # older: claimed first
        due_deliveries(fast_hook, 30)
    results = []
    thread = _send_in_thread(app, results)
    try:
        assert len(fast.wait_for(30)) == 30  # all of them while the slow receiver still hangs
        assert slow.most_at_once == 2 and len(slow.requests) == 3
    finally:
        slow.release()
        thread.join(30)
    assert results == [40] and slow.most_at_once == 2
    with app.app_context():
        assert {row.status for row in rows()} == {"DELIVERED"}


@pytest.mark.postgres
def test_two_runs_at_once_send_each_due_delivery_exactly_once(committed_app, receivers, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two workers side by side: PostgreSQL's row locks (SQLite has one writer at a time)")
    app = committed_app(WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)
    receiver = receivers(keep_alive=True)
    with app.app_context():
        admin = Factories().user("admin", role=Role.ADMIN)
        webhook_id = new_webhook(admin, receiver.url, "n8n").id
        due = due_deliveries(webhook_id, 400)
    results, start = [], threading.Barrier(2)
    threads = [_send_in_thread(app, results, start) for _ in range(2)]
    for thread in threads:
        thread.join(60)
    sent = Counter(delivery_ids(receiver))
    assert sorted(sent) == due and set(sent.values()) == {1}
    assert sum(results) == 400 and min(results) > 0  # both runs sent some
    with app.app_context():
        assert {(row.status, row.attempts) for row in rows()} == {("DELIVERED", 1)}


def test_the_embedded_mode_drains_a_burst_on_its_job_threads(committed_app, receivers):
    """A sweep's worth of events written at once: dispatched and delivered off the request, no Redis."""
    app = committed_app(JOBS_INLINE=False, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)
    receiver = receivers(keep_alive=True)
    with app.app_context():
        make = Factories()
        new_webhook(make.user("admin", role=Role.ADMIN), receiver.url, "n8n")
        ticket = make.ticket()
        now = utcnow()
        events = db.session.scalars(sa.insert(AuditEvent).returning(AuditEvent.id), [
            {"ticket_id": ticket.id, "action": "comment_add", "after": {"n": n}, "created_at": now}
            for n in range(300)]).all()
        db.session.execute(sa.insert(OutboxEvent), [{"audit_event_id": e, "created_at": now} for e in events])
        db.session.commit()
        jobs.enqueue(DISPATCH_JOB)
        assert len(receiver.wait_for(300, timeout=60)) == 300
        deadline = time.monotonic() + 10
        while {row.status for row in rows()} != {"DELIVERED"} and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(rows()) == 300 and {row.status for row in rows()} == {"DELIVERED"}, [(r.id, r.attempts, r.last_error) for r in rows() if r.status != "DELIVERED"][:5]
    assert sorted(int(r.headers["X-Ticketing-Event-Id"]) for r in receiver.requests) == sorted(events)
    assert receiver.connections <= 4
    app.extensions["jobs_executor"].shutdown(wait=True)


@pytest.mark.parametrize("setting", [{"DELIVERY_CONCURRENCY": 0}, {"DELIVERY_CONCURRENCY_PER_WEBHOOK": -1},
                                     {"WEBHOOK_BACKOFF_JITTER": 0.8}, {"WEBHOOK_BACKOFF_JITTER": -0.1}])
def test_nonsensical_delivery_settings_stop_the_app(database_url, setting):
    with pytest.raises(RuntimeError, match=next(iter(setting))):
        make_app(database_url, **setting)
