"""Every process reports its health: job heartbeats (job_run), worker and cron heartbeats (RQ's
registries), the queue's age, in /readyz, /metrics, `flask health` and the containers' healthchecks."""
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.utils import utcformat

from webapp import jobs
from webapp.extensions import db
from webapp.jobs import tasks
from webapp.models import DeliveryStatus, JobRun, Role, Status, WebhookDelivery
from webapp.ops.health import probe
from webapp.services import job_runs
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow

from .delivery_support import due_deliveries, new_webhook
from .jobs_fixtures import queue_name, redis_url  # noqa: F401
from .ops_support import metric_value

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scrape(app, client):
    app.config["METRICS_CACHE_SECONDS"] = 0
    app.extensions["ops_metrics_cache"].clear()
    return lambda: client.get("/metrics").get_data(as_text=True)


@pytest.fixture
def on_redis(app, redis_url, queue_name, monkeypatch):
    """The app reading heartbeats from Redis, on a queue of this test's own; yields the connection."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "RQ_QUEUE", queue_name)
    connection = Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_a_job_run_is_recorded_with_its_result_and_duration(app, make):
    agent = make.user()
    ticket = make.ticket(actor=agent)
    change_status(agent, ticket, Status.IN_PROGRESS)
    change_status(agent, ticket, Status.RESOLVED)
    ticket.resolved_at = utcnow() - timedelta(days=20)
    db.session.commit()
    assert tasks.sweep() == 1
    run = db.session.get(JobRun, "sweep")
    assert (run.ok, run.result) == (True, 1) and run.duration_ms >= 0
    assert run.last_ok_at == run.finished_at and (utcnow() - run.finished_at).total_seconds() < 60


def test_in_process_after_commit_runs_write_no_heartbeat(app, make):
    """Without Redis a dispatch follows every commit in the web process: no extra write for it there."""
    make.ticket(actor=make.user())
    assert db.session.get(JobRun, "dispatch_outbox") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0


def test_a_failed_run_is_recorded_and_keeps_the_time_of_the_last_good_one(app):
    good = utcnow() - timedelta(hours=3)
    job_runs.record("flaky", ok=True, result=5, duration_ms=3, now=good)

    @jobs.app_job
    def flaky():
        db.session.execute(sa.text("SELECT no_such_column FROM job_run"))

    with pytest.raises(sa.exc.DBAPIError):
        flaky()
    db.session.expire_all()
    run = db.session.get(JobRun, "flaky")
    assert (run.ok, run.result, run.last_ok_at) == (False, None, good) and run.finished_at > good


@pytest.mark.postgres  # on SQLite the test's held transaction locks out /readyz's own connection
def test_readyz_shows_the_jobs_in_the_embedded_mode_and_warns_of_a_late_or_failed_one(app, client):
    now = utcnow()
    job_runs.record("sweep", ok=True, result=2, duration_ms=40, now=now - timedelta(hours=3))
    job_runs.record("requeue_undelivered", ok=True, result=0, duration_ms=1, now=now)
    job_runs.record("dispatch_outbox", ok=False, result=None, duration_ms=9, now=now)
    response = client.get("/readyz")
    assert response.status_code == 200, response.json  # background warnings never make the web replica unready
    background = response.json["background"]
    assert background["mode"] == "embedded" and "processes" not in background
    assert background["jobs"]["sweep"]["result"] == 2 and background["jobs"]["sweep"]["ageSeconds"] >= 3 * 3600
    assert background["warnings"] == ["job sweep has not run for over 120 minutes",
                                      "job dispatch_outbox failed its last run"]


def test_a_fresh_install_has_no_warnings(client):
    assert client.get("/readyz").json["background"] == {"mode": "embedded", "jobs": {}, "warnings": []}


def test_metrics_count_pending_and_failed_deliveries_and_the_oldest_ones_age(app, make, scrape):
    webhook = new_webhook(make.user(role=Role.ADMIN), "http://hooks.example.test/in", "n8n")
    pending = due_deliveries(webhook.id, 3)
    db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == pending[0])
                       .values(status=DeliveryStatus.FAILED, attempts=10))
    db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == pending[1])
                       .values(attempts=2, created_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    text = scrape()
    assert metric_value(text, "ticketing_webhook_deliveries", status="pending") == 2
    assert metric_value(text, "ticketing_webhook_deliveries", status="failed") == 1
    assert metric_value(text, "ticketing_webhook_deliveries_retrying") == 1
    assert metric_value(text, "ticketing_webhook_delivery_pending_attempts") == 2
    assert 600 <= metric_value(text, "ticketing_webhook_delivery_oldest_pending_age_seconds") < 700


def test_metrics_show_each_jobs_last_run_and_the_sweeps_closed_count(app, scrape):
    finished = utcnow() - timedelta(minutes=5)
    job_runs.record("sweep", ok=True, result=7, duration_ms=12, now=finished)
    job_runs.record("prune_deliveries", ok=False, result=None, duration_ms=1, now=finished)
    text = scrape()
    assert metric_value(text, "ticketing_job_last_run_timestamp_seconds", job="sweep") == pytest.approx(
        finished.timestamp(), abs=0.01)
    assert metric_value(text, "ticketing_job_last_run_ok", job="sweep") == 1
    assert metric_value(text, "ticketing_job_last_run_ok", job="prune_deliveries") == 0
    assert metric_value(text, "ticketing_sweep_last_closed") == 7
    assert metric_value(text, "ticketing_background_warnings") == 1
    assert metric_value(text, "ticketing_processes", role="worker") is None  # embedded: no processes


def _worker(connection, queue: str, heartbeat_age: float = 0) -> Worker:
    """A worker registered as worker.py's is, whose last heartbeat was `heartbeat_age` seconds ago."""
    worker = Worker([Queue(queue, connection=connection)], connection=connection)
    worker.register_birth()
    connection.hset(worker.key, "last_heartbeat", utcformat(utcnow() - timedelta(seconds=heartbeat_age)))
    return worker


def _cron(connection, heartbeat_age: float = 0) -> CronScheduler:
    cron = CronScheduler(connection=connection, name=f"test-cron-{os.getpid()}-{heartbeat_age}")
    cron.register_birth()
    connection.zadd("rq:cron_schedulers", {cron.name: (utcnow() - timedelta(seconds=heartbeat_age)).timestamp()})
    return cron


@pytest.mark.redis
def test_readyz_and_metrics_show_live_worker_and_cron_heartbeats(app, client, on_redis, queue_name, scrape):
    worker, cron = _worker(on_redis, queue_name, heartbeat_age=5), _cron(on_redis, heartbeat_age=5)
    try:
        background = client.get("/readyz").json["background"]
        assert background["mode"] == "rq" and background["warnings"] == []
        assert background["processes"]["worker"]["alive"] == 1
        assert 5 <= background["processes"]["worker"]["newestHeartbeatAgeSeconds"] < 30
        assert background["processes"]["cron"]["alive"] >= 1
        assert background["queueOldestJobAgeSeconds"] is None
        text = scrape()
        assert metric_value(text, "ticketing_processes", role="worker") == 1
        assert 5 <= metric_value(text, "ticketing_process_heartbeat_age_seconds", role="cron") < 30
        assert metric_value(text, "ticketing_queue_oldest_job_age_seconds") == 0
    finally:
        worker.register_death()
        cron.register_death()


@pytest.mark.redis
def test_a_stale_worker_a_missing_cron_and_an_old_queued_job_are_warnings(app, client, on_redis, queue_name):
    worker = _worker(on_redis, queue_name, heartbeat_age=600)
    job = Queue(queue_name, connection=on_redis).enqueue("webapp.jobs.tasks.sweep")
    on_redis.hset(job.key, "enqueued_at", utcformat(utcnow() - timedelta(hours=1)))
    stale = CronScheduler.all(on_redis)  # other tests' schedulers are not ours to see
    try:
        background = client.get("/readyz").json["background"]
        assert "no worker process has sent a heartbeat in the last 120 seconds" in background["warnings"]
        assert f"the oldest job in queue {queue_name} has waited 3600 seconds" in background["warnings"]
        assert 3600 <= background["queueOldestJobAgeSeconds"] < 3700
        if not stale:
            assert "no cron process has sent a heartbeat in the last 120 seconds" in background["warnings"]
    finally:
        worker.register_death()


@pytest.mark.redis
def test_the_container_probe_checks_this_hosts_process_only(on_redis, queue_name):
    host = socket.gethostname()
    assert probe("worker", on_redis, queue_name, 120) == (False, f"no worker on {host} is registered with Redis")
    worker = _worker(on_redis, queue_name, heartbeat_age=10)
    try:
        healthy, why = probe("worker", on_redis, queue_name, 120)
        assert healthy and why.startswith(f"worker on {host}: newest heartbeat 1")
        assert probe("worker", on_redis, queue_name, 120, hostname="another-container")[0] is False
        on_redis.hset(worker.key, "last_heartbeat", utcformat(utcnow() - timedelta(seconds=300)))
        healthy, why = probe("worker", on_redis, queue_name, 120)
        assert not healthy and why.endswith("(over 120s)")
    finally:
        worker.register_death()


@pytest.mark.redis
def test_the_healthcheck_command_exits_0_only_for_a_live_process(on_redis, redis_url, queue_name):
    env = {**os.environ, "REDIS_URL": redis_url, "RQ_QUEUE": queue_name}

    def check(role):
        return subprocess.run([sys.executable, "-m", "webapp.ops.health", role], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    missing = check("worker")
    assert missing.returncode == 1 and "no worker on" in missing.stderr
    worker = _worker(on_redis, queue_name)
    try:
        live = check("worker")
        assert live.returncode == 0, live.stderr
        assert "newest heartbeat" in live.stdout
    finally:
        worker.register_death()
    down = subprocess.run([sys.executable, "-m", "webapp.ops.health", "worker"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**env, "REDIS_URL": "redis://127.0.0.1:9/0"})
    assert down.returncode == 1 and "cannot read heartbeats from Redis" in down.stderr


def test_flask_health_prints_the_jobs_and_exits_1_on_a_warning(app):
    runner = app.test_cli_runner()
    job_runs.record("sweep", ok=True, result=3, duration_ms=8, now=utcnow() - timedelta(minutes=10))
    result = runner.invoke(args=["health"])
    assert result.exit_code == 0, result.output
    assert "job sweep: last run 600s ago, ok, result 3" in result.output and result.output.endswith("healthy\n")
    job_runs.record("sweep", ok=False, result=None, duration_ms=8)
    result = runner.invoke(args=["health", "--json"])
    assert result.exit_code == 1
    assert '"warnings": [\n    "job sweep failed its last run"\n  ]' in result.output
