"""On real Redis: an RQ worker in burst mode runs the jobs, rq cron schedules them, and a Redis outage loses nothing.

Needs TEST_REDIS_URL (CI: redis://127.0.0.1:6379/15); skipped without it, except under CI=true.
Each test uses a queue of its own and removes its keys; nothing flushes the database.
"""
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from rq.cron import CronScheduler

import worker
from webapp import jobs
from webapp.extensions import db
from webapp.models import (
    AuditEvent, Category, CtiType, DeliveryStatus, Item, JobRun, OutboxEvent, Role, Status, Ticket, User,
    WebhookDelivery,
)
from webapp.services import webhooks
from webapp.services.comments import add_comment
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow

from .conftest import LOOPBACK_NETWORK, CsrfClient, make_app
from .factories import PASSWORD, Factories
from .jobs_fixtures import (  # noqa: F401
    closed_port_url, committed_app, committed_db, dispatch_jobs_waiting, dispose, queue_name, receiver, redis_url,
    run_burst, verify_signature,
)

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[1]
SECRET = "redis-test-secret-0123456789"


@pytest.fixture
def rq_app(committed_app, redis_url, queue_name):
    return committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)


def queued(app) -> int:
    with app.app_context():
        return Queue(jobs.queue_name(), connection=jobs.redis_connection()).count


def test_worker_in_burst_mode_delivers_a_signed_event(rq_app, receiver):
    with rq_app.app_context():
        make = Factories()
        admin, agent, cti = make.user(role=Role.ADMIN), make.user(), make.cti()
        webhooks.create_webhook(admin, name="n8n", url=receiver.url, secret=SECRET, events=["create"])
        ticket = make.ticket(actor=agent, cti=cti)
        display_id = ticket.display_id
    assert receiver.requests == []  # nothing ran in the web process: it was queued
    assert queued(rq_app) >= 1
    run_burst(rq_app)
    [request] = receiver.requests
    assert verify_signature(SECRET, request.headers, request.body)
    assert request.json["ticket"]["displayId"] == display_id
    assert queued(rq_app) == 0
    with rq_app.app_context():
        [status] = db.session.scalars(sa.select(WebhookDelivery.status)).all()
        assert status == DeliveryStatus.DELIVERED
        # the worker's runs are its heartbeat (job_run), the after-commit ones included
        ran = {run.name: run.ok for run in db.session.scalars(sa.select(JobRun))}
        assert ran == {"dispatch_outbox": True, "deliver_due": True}


def test_sweep_job_runs_on_the_worker(rq_app):
    with rq_app.app_context():
        make = Factories()
        ticket = make.ticket()
        change_status(ticket.creator, ticket, Status.RESOLVED)
        ticket.resolved_at = utcnow() - timedelta(days=15)
        db.session.commit()
        ticket_id = ticket.id
        jobs.enqueue("webapp.jobs.tasks.sweep")
    run_burst(rq_app)
    with rq_app.app_context():
        assert db.session.get(Ticket, ticket_id).status == Status.CLOSED
        event = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket_id, action="auto_close")).one()
        assert event.actor_id is None


def load_schedule(redis_url: str, queue_name: str, monkeypatch) -> CronScheduler:
    """What `rq cron --url $REDIS_URL webapp.jobs.schedule` loads, with RQ_QUEUE set as for the worker."""
    monkeypatch.setenv("RQ_QUEUE", queue_name)
    scheduler = CronScheduler(connection=Redis.from_url(redis_url))
    scheduler.load_config_from_file("webapp.jobs.schedule")
    return scheduler


def test_rq_cron_schedules_the_hourly_sweep_and_purge_and_the_minutely_requeue(redis_url, queue_name, monkeypatch):
    scheduled = {job.func_name: job for job in load_schedule(redis_url, queue_name, monkeypatch).get_jobs()}
    assert set(scheduled) == {"webapp.jobs.tasks.sweep", "webapp.jobs.tasks.requeue_undelivered",
                              "webapp.jobs.tasks.purge_idempotency_records", "webapp.jobs.tasks.prune_deliveries",
                              "webapp.jobs.tasks.resume_bulk_jobs", "webapp.jobs.tasks.send_digests"}
    digests = scheduled["webapp.jobs.tasks.send_digests"]
    assert (digests.cron, digests.queue_name) == ("5 * * * *", queue_name)
    purge = scheduled["webapp.jobs.tasks.purge_idempotency_records"]
    assert (purge.cron, purge.queue_name) == ("30 * * * *", queue_name)
    prune = scheduled["webapp.jobs.tasks.prune_deliveries"]
    assert (prune.cron, prune.queue_name) == ("45 * * * *", queue_name)
    assert (scheduled["webapp.jobs.tasks.sweep"].cron, scheduled["webapp.jobs.tasks.sweep"].queue_name) == ("0 * * * *", queue_name)
    assert (scheduled["webapp.jobs.tasks.requeue_undelivered"].interval,
            scheduled["webapp.jobs.tasks.requeue_undelivered"].queue_name) == (60, queue_name)
    assert (scheduled["webapp.jobs.tasks.resume_bulk_jobs"].interval,
            scheduled["webapp.jobs.tasks.resume_bulk_jobs"].queue_name) == (60, queue_name)


def test_redis_down_then_up_loses_nothing(committed_app, redis_url, queue_name, receiver, monkeypatch):
    app = committed_app(REDIS_URL=closed_port_url("redis", "/0"), RQ_QUEUE=queue_name,
                        WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)
    with app.app_context():
        make = Factories()
        make.user("admin", role=Role.ADMIN)
        agent_id, cti_ids = make.user().id, [row.id for row in make.cti()]
    app.test_client_class = CsrfClient
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    response = client.post("/admin/webhooks/new", data={
        "name": "n8n", "url": receiver.url, "secret": SECRET, "active": "on",
    })
    assert response.status_code == 303  # a web action succeeds with Redis down
    with app.app_context():
        agent = db.session.get(User, agent_id)
        cti = [db.session.get(model, ident) for model, ident in zip((Category, CtiType, Item), cti_ids)]
        ticket = make.ticket(actor=agent, cti=cti)
        change_status(agent, ticket, Status.IN_PROGRESS)
        add_comment(agent, ticket, "Still on it while Redis is away.")
        audit_ids = sorted(db.session.scalars(sa.select(AuditEvent.id)))
        since_webhook = sorted(db.session.scalars(
            sa.select(AuditEvent.id).where(AuditEvent.id >= _webhook_created_event_id())))
        assert _undispatched() == len(audit_ids)  # everything waits in the outbox
    assert receiver.requests == [] and len(since_webhook) == 4

    app.config["REDIS_URL"] = redis_url  # Redis is back: the cron's requeue job finds the backlog
    load_schedule(redis_url, queue_name, monkeypatch).enqueue_jobs()  # interval jobs are due at once
    run_burst(app)
    with app.app_context():
        assert _undispatched() == 0
        statuses = set(db.session.scalars(sa.select(WebhookDelivery.status)))
    delivered = sorted(int(r.headers["X-Ticketing-Event-Id"]) for r in receiver.requests)
    assert delivered == since_webhook  # every event since the webhook existed, each exactly once
    assert statuses == {DeliveryStatus.DELIVERED}
    assert all(verify_signature(SECRET, r.headers, r.body) for r in receiver.requests)


def test_redis_wiped_mid_run_loses_nothing(committed_app, redis_url, queue_name, receiver, monkeypatch):
    """Redis holds nothing that cannot be rebuilt: with every queued job and mark gone (as after a
    restart without persistence), the cron's requeue finds the backlog in the database."""
    app = committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name, WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)
    with app.app_context():
        make = Factories()
        webhooks.create_webhook(make.user(role=Role.ADMIN), name="n8n", url=receiver.url, secret=SECRET)
        agent = make.user()
        ticket = make.ticket(actor=agent)
        change_status(agent, ticket, Status.IN_PROGRESS)
        add_comment(agent, ticket, "Written while Redis still had its jobs.")
        since_webhook = sorted(db.session.scalars(
            sa.select(AuditEvent.id).where(AuditEvent.id >= _webhook_created_event_id())))
    assert queued(app) >= 1 and receiver.requests == []
    connection = Redis.from_url(redis_url)  # wipe what this app wrote (the suite shares the server)
    wiped = [*connection.scan_iter(match=f"rq:*{queue_name}*"), *connection.scan_iter(match=f"ticketing:*{queue_name}*")]
    connection.delete(*wiped, *(f"rq:job:{job_id}" for job_id in Queue(queue_name, connection=connection).job_ids))
    connection.close()
    assert queued(app) == 0

    load_schedule(redis_url, queue_name, monkeypatch).enqueue_jobs()
    run_burst(app)
    delivered = sorted(int(r.headers["X-Ticketing-Event-Id"]) for r in receiver.requests)
    assert delivered == since_webhook  # every event, each exactly once
    with app.app_context():
        assert _undispatched() == 0


def _webhook_created_event_id() -> int:
    return db.session.scalar(sa.select(AuditEvent.id).filter_by(action="webhook_create"))


def _undispatched() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).filter_by(dispatched_at=None))


def test_the_cron_and_worker_processes_run_as_documented(committed_db, redis_url, queue_name, receiver, tmp_path):
    """`python -m webapp.jobs.cron` (what compose runs) enqueues the requeue job; `python worker.py --burst`
    runs it; both log one JSON object per line, as the web does."""
    env = {**os.environ, "DATABASE_URL": committed_db, "SECRET_KEY": "process-test", "REDIS_URL": redis_url,
           "RQ_QUEUE": queue_name, "INSTANCE_PATH": str(tmp_path), "WEBHOOK_ALLOWED_NETWORKS": LOOPBACK_NETWORK,
           "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    env.pop("TEST_DATABASE_URL", None)
    app = make_app(committed_db, REDIS_URL=closed_port_url("redis", "/0"),  # the web process, Redis down
                   WEBHOOK_ALLOWED_NETWORKS=LOOPBACK_NETWORK)
    with app.app_context():
        make = Factories()
        webhooks.create_webhook(make.user(role=Role.ADMIN), name="n8n", url=receiver.url, secret=SECRET)
        make.ticket()
        owed = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.id >= _webhook_created_event_id()))
    dispose(app)
    cron = subprocess.Popen([sys.executable, "-m", "webapp.jobs.cron"], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        connection = Redis.from_url(redis_url)
        deadline = time.monotonic() + 20
        while Queue(queue_name, connection=connection).count == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        cron.terminate()
        cron_log = cron.communicate(timeout=10)[1].decode()
    assert Queue(queue_name, connection=connection).count >= 1, cron_log
    result = subprocess.run([sys.executable, "worker.py", "--burst"], env=env, cwd=ROOT, capture_output=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    assert len(receiver.wait_for(owed)) == owed == 3  # webhook_create, the ticket creator's user_create, create
    cron_lines, worker_lines = _json_log_lines(cron_log), _json_log_lines(result.stderr.decode())
    assert any("requeue_undelivered" in line["message"] for line in cron_lines), cron_log
    assert any(line["logger"].startswith("rq.") for line in worker_lines)
    assert {line["level"] for line in cron_lines + worker_lines} <= {"DEBUG", "INFO", "WARNING"}


def _json_log_lines(stderr: str) -> list[dict]:
    """Every line a process logged, each one JSON object with time, level, logger and message."""
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines), stderr
    return lines


def test_worker_refuses_to_start_without_redis(committed_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", committed_db)
    monkeypatch.setenv("SECRET_KEY", "worker-test")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert worker.main(["--burst"]) == 2
    assert "REDIS_URL is not set" in capsys.readouterr().err


def test_many_commits_queue_one_dispatch_job_that_drains_them_all(rq_app, receiver):
    with rq_app.app_context():
        make = Factories()
        admin, agent, cti = make.user(role=Role.ADMIN), make.user(), make.cti()
        webhooks.create_webhook(admin, name="n8n", url=receiver.url, secret=SECRET, events=["create"])
        for _ in range(5):
            make.ticket(actor=agent, cti=cti)
        agent_name, cti_names = agent.username, (cti[0].name, cti[1].name)
    assert dispatch_jobs_waiting(rq_app) == 1
    run_burst(rq_app)
    assert len(receiver.requests) == 5
    with rq_app.app_context():  # after a run started, a commit queues a fresh one
        make = Factories()
        agent = db.session.scalar(sa.select(User).filter_by(username=agent_name))
        make.ticket(actor=agent, cti=make.cti(*cti_names))
    assert dispatch_jobs_waiting(rq_app) == 1
    run_burst(rq_app)
    assert len(receiver.requests) == 6


def test_the_minutely_requeue_replaces_a_lost_dispatch_job(rq_app, receiver):
    with rq_app.app_context():
        make = Factories()
        admin = make.user(role=Role.ADMIN)
        webhooks.create_webhook(admin, name="n8n", url=receiver.url, secret=SECRET, events=["create"])
        make.ticket()
        Queue(jobs.queue_name(), connection=jobs.redis_connection()).empty()  # Redis lost the job...
    assert dispatch_jobs_waiting(rq_app) == 0  # ...while its pending mark still says one is waiting
    with rq_app.app_context():
        jobs.enqueue("webapp.jobs.tasks.dispatch_outbox")
    assert dispatch_jobs_waiting(rq_app) == 0
    with rq_app.app_context():
        jobs.enqueue("webapp.jobs.tasks.requeue_undelivered")
    run_burst(rq_app)
    assert len(receiver.requests) == 1
