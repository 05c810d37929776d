"""Bulk jobs on the two job runners, with real commits: the RQ worker (Redis) and the embedded thread
pool (no Redis); a job whose runner died is handed to the worker again by the minutely resumer."""
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkStatus, Comment, OutboxEvent, Role, Status, Ticket, User
from webapp.services import bulk, bulk_jobs
from webapp.jobs import tasks
from webapp.db.utc import utcnow

from .conftest import CsrfClient
from .factories import Factories
from .jobs_fixtures import committed_app, committed_db, queue_name, redis_url  # noqa: F401
from .test_worker_redis import queued, run_burst


def filed(app, count: int) -> tuple[str, list[int], int]:
    """A service key, `count` tickets in a category of their own, and that category's id."""
    with app.app_context():
        make = Factories()
        robot = make.user("goddard", role=Role.SERVICE)
        cti = make.cti("Backups", "Nightly", "plex")
        ids = [make.ticket(actor=robot, cti=cti).id for _ in range(count)]
        return robot.plain_api_key, ids, cti[0].id


def post_filter(app, key: str, category_id: int, changes: dict):
    app.test_client_class = CsrfClient
    response = app.test_client().post("/api/tickets/bulk", headers={"X-Api-Key": key}, csrf=False,
                                      json={"filter": {"categoryId": category_id}, "changes": changes})
    assert response.status_code == 202, response.data
    return response.get_json()


def read_job(app, key: str, job_id: str) -> dict:
    return app.test_client().get(f"/api/bulk/{job_id}", headers={"X-Api-Key": key}).get_json()


def each_changed_once(app, ids: list[int], status: Status) -> None:
    with app.app_context():
        for ticket_id in ids:
            assert db.session.get(Ticket, ticket_id).status == status
            [event] = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket_id, action="status"))
            assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                     .filter_by(audit_event_id=event.id)) == 1


@pytest.mark.redis
def test_a_filter_job_waits_in_the_queue_until_the_worker_runs_it(committed_app, redis_url, queue_name):
    app = committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name)
    key, ids, category_id = filed(app, 5)
    job = post_filter(app, key, category_id, {"status": "IN_PROGRESS"})
    assert job["status"] == "queued" and job["total"] == 5 and queued(app) >= 1
    run_burst(app)
    done = read_job(app, key, job["id"])
    assert (done["status"], done["done"], done["failedCount"], len(done["updated"])) == ("done", 5, 0, 5)
    each_changed_once(app, ids, Status.IN_PROGRESS)


@pytest.mark.redis
def test_the_minutely_resumer_gives_a_dead_runners_job_to_the_worker(committed_app, redis_url, queue_name):
    app = committed_app(REDIS_URL=redis_url, RQ_QUEUE=queue_name)
    key, ids, _ = filed(app, 3)
    with app.app_context():
        actor = db.session.scalar(sa.select(User).filter_by(username="goddard"))
        refs = [db.session.get(Ticket, ticket_id).display_id for ticket_id in ids]
        job = bulk_jobs.start_job(actor, bulk.clean_changes({"status": "RESOLVED"}),
                                  targets=[bulk.Target(ref) for ref in refs], enqueue=False)
        job_id = job.id
        # A runner took it ten minutes ago and was never heard of again.
        assert bulk_jobs.claim(job_id, as_of=utcnow() - timedelta(minutes=10)) is not None
        assert tasks.resume_bulk_jobs() == 1
    run_burst(app)
    with app.app_context():
        job = db.session.get(BulkJob, job_id)
        assert (job.status, job.done, job.attempts) == (BulkStatus.DONE, 3, 2)
    each_changed_once(app, ids, Status.RESOLVED)


def test_without_redis_a_job_runs_on_the_embedded_pool_not_in_the_request(committed_app):
    app = committed_app(JOBS_INLINE=False)
    key, ids, category_id = filed(app, 4)
    job = post_filter(app, key, category_id, {"status": "RESOLVED"})
    deadline = time.monotonic() + 20
    while (done := read_job(app, key, job["id"]))["status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.02)  # the pool's thread commits chunk by chunk; each read is a new request
    app.extensions["jobs_executor"].shutdown(wait=True)
    assert (done["status"], done["done"], len(done["updated"])) == ("done", 4, 4), done["error"]
    each_changed_once(app, ids, Status.RESOLVED)


@pytest.mark.postgres
def test_on_postgresql_workers_change_chunks_side_by_side_and_each_ticket_once(committed_app, monkeypatch):
    """Moving every ticket to SEV 5 puts it after the reader's cursor: chunks changed by other
    threads come round again and are skipped, never commented on twice."""
    app = committed_app(BULK_WORKERS=3)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer: its jobs run on one connection")
    key, ids, category_id = filed(app, 30)
    monkeypatch.setattr(bulk_jobs, "CHUNK_SIZE", 4)
    threads, apply_one = set(), bulk.apply_one

    def noted(*args):
        threads.add(threading.current_thread().name)
        return apply_one(*args)

    monkeypatch.setattr(bulk, "apply_one", noted)
    job = post_filter(app, key, category_id, {"severity": 5, "comment": "Downgraded: informational."})
    done = read_job(app, key, job["id"])
    assert (done["status"], done["done"], done["failedCount"], len(set(done["updated"]))) == ("done", 30, 0, 30)
    assert len(threads) > 1 and all(name.startswith(f"bulk-{job['id']}-") for name in threads)
    with app.app_context():
        for ticket_id in ids:
            assert db.session.get(Ticket, ticket_id).severity == 5
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment).filter_by(ticket_id=ticket_id)) == 1


def test_parallel_chunks_crossing_on_rollup_cells_never_deadlock(committed_app, monkeypatch, logs):
    """Chunks of tickets of every severity, filed over several days, in a shuffled order: each chunk
    moves many shared report rollup cells. They are written per chunk in one key order, so the
    workers never deadlock (no chunk needs a second attempt) and the rollups equal a recount."""
    import random

    from webapp.services import report_rollups

    app = committed_app(BULK_WORKERS=3)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has one writer: its jobs run on one connection")
        make = Factories()
        robot = make.user("goddard", role=Role.SERVICE)
        routes = [make.cti("Backups", "Nightly", name) for name in ("plex", "nas", "db")]
        refs = [make.ticket(actor=robot, cti=routes[n % 3], severity=n % 5 + 1).display_id for n in range(240)]
        random.Random(7).shuffle(refs)
        monkeypatch.setattr(bulk_jobs, "CHUNK_SIZE", 20)
        job = bulk_jobs.start_job(robot, bulk.clean_changes({"status": "IN_PROGRESS", "severity": 2}),
                                  targets=[bulk.Target(ref) for ref in refs], enqueue=False)
        done = bulk_jobs.run_job(job.id, workers=3)
        assert (done.status, done.done, done.failed) == (BulkStatus.DONE, 240, 0)
        assert not [r for r in logs.records if "crossed another transaction" in r.getMessage()]
        connection = db.session.connection()
        plain = lambda cells: tuple({k: {n: v for n, v in c.items() if v} for k, c in part.items()  # noqa: E731
                                     if any(v for n, v in c.items() if n != "category_id")} for part in cells)
        assert plain(report_rollups.stored(connection)) == plain(report_rollups.recount(connection))


def test_a_chunk_the_database_refuses_for_a_deadlock_runs_again(committed_app, monkeypatch, logs):
    """Should two transactions still cross (PostgreSQL's 40P01), the refused chunk is rolled back
    whole and runs again: every ticket changed once, the job done."""
    from sqlalchemy.exc import OperationalError

    app = committed_app()
    key, ids, _ = filed(app, 6)
    real, refused = bulk_jobs.apply_picked, []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def once_refused(actor, picked, changes):
        results = list(real(actor, picked, changes))  # written, then refused at the end: all rolled back
        if not refused:
            refused.append(True)
            raise OperationalError("UPDATE ...", {}, Deadlock("deadlock detected"))
        return results

    monkeypatch.setattr(bulk_jobs, "apply_picked", once_refused)
    with app.app_context():
        robot = db.session.scalar(sa.select(User).filter_by(username="goddard"))
        refs = [db.session.get(Ticket, ticket_id).display_id for ticket_id in ids]
        job = bulk_jobs.start_job(robot, bulk.clean_changes({"status": "IN_PROGRESS"}),
                                  targets=[bulk.Target(ref) for ref in refs], enqueue=False)
        done = bulk_jobs.run_job(job.id)
        assert (done.status, done.done, done.failed) == (BulkStatus.DONE, 6, 0)
    assert refused and any("crossed another transaction" in r.getMessage() for r in logs.records)
    each_changed_once(app, ids, Status.IN_PROGRESS)
