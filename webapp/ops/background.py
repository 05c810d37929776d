"""The health of the background processes, as /readyz, /metrics and `flask health` report it.

Three signals, each read where it is kept: the RQ worker and cron processes' own heartbeats (RQ's
registries in Redis: is a process alive?), each job's last run (`job_run`: is the work getting
done?), and the age of the oldest job waiting in our queue (is the work keeping up?). A stale
signal becomes a named warning; none of them makes the web process unready, since a web replica
serves pages whatever the worker is doing.
"""
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from ..db.utc import utcnow
from ..services import job_runs

log = logging.getLogger(__name__)

# How long each periodic job may go without a run before it is reported late: its interval and
# some slack (cron runs the hourly ones on the hour; the minutely safety net every minute).
JOB_DEADLINES = {"sweep": 2 * 3600, "prune_deliveries": 2 * 3600, "purge_idempotency_records": 2 * 3600,
                 "requeue_undelivered": 5 * 60, "resume_bulk_jobs": 5 * 60, "send_digests": 2 * 3600}
# Jobs shown by name: the periodic ones and the two that move webhooks (asked for after commits;
# recorded when a worker runs them, not in the embedded mode, where they run in the web process).
REPORTED_JOBS = (*JOB_DEADLINES, "dispatch_outbox", "deliver_due", "send_mail")


@dataclass(frozen=True)
class Processes:
    """Live processes of one role (worker or cron) and the age of the newest heartbeat among them."""

    alive: int
    newest_heartbeat_age: float | None


def report(config: dict, redis, now: datetime | None = None) -> dict:
    """Jobs, processes and queue age with warnings; `redis` is None in the embedded mode (no processes)."""
    now = now or utcnow()
    jobs = {name: _job(run, now) for name, run in job_runs.latest().items() if name in REPORTED_JOBS}
    warnings = [f"job {name} has not run for over {JOB_DEADLINES[name] // 60} minutes"
                for name in JOB_DEADLINES if _late(jobs.get(name), JOB_DEADLINES[name])]
    warnings += [f"job {name} failed its last run" for name, job in sorted(jobs.items()) if not job["ok"]]
    result = {"mode": "embedded" if redis is None else "rq", "jobs": jobs, "warnings": warnings}
    if redis is None:
        return result
    stale_after = config["HEARTBEAT_STALE_SECONDS"]
    queue = config["RQ_QUEUE"]
    result["processes"] = {}
    for role, found in (("worker", workers(redis, queue, now)), ("cron", cron_schedulers(redis, now))):
        result["processes"][role] = {"alive": found.alive, "newestHeartbeatAgeSeconds": found.newest_heartbeat_age}
        if found.newest_heartbeat_age is None or found.newest_heartbeat_age > stale_after:
            warnings.append(f"no {role} process has sent a heartbeat in the last {stale_after} seconds")
    result["queueOldestJobAgeSeconds"] = age = oldest_job_age(redis, queue, now)
    if age is not None and age > config["QUEUE_AGE_WARNING_SECONDS"]:
        warnings.append(f"the oldest job in queue {queue} has waited {age:.0f} seconds")
    return result


def report_or_error(config: dict, redis) -> dict:
    """`report`, or what could not be read (database or Redis down) instead of an exception."""
    from ..extensions import db

    try:
        return report(config, redis)
    except Exception as exc:  # /readyz and /metrics still answer, naming the failure
        db.session.rollback()
        log.warning("background health unavailable: %s", exc)
        return {"error": f"unavailable ({type(exc).__name__})", "warnings": ["background health unavailable"]}


def _job(run, now: datetime) -> dict:
    return {"lastRunAt": run.finished_at.isoformat(), "ageSeconds": _age(run.finished_at, now), "ok": run.ok,
            "result": run.result, "durationMs": run.duration_ms,
            "lastOkAt": run.last_ok_at.isoformat() if run.last_ok_at else None}


def _late(job: dict | None, deadline: int) -> bool:
    """A job that never ran is not late (a fresh install); one that ran and then stopped is."""
    return job is not None and job["ageSeconds"] > deadline


def _age(moment: datetime, now: datetime) -> float:
    return round(max((now - _aware(moment)).total_seconds(), 0.0), 1)


def workers(redis, queue: str, now: datetime, hostname: str | None = None) -> Processes:
    """RQ workers listening on `queue` (on `hostname` only, if given), by their own heartbeats."""
    from rq import Queue, Worker

    found = [worker for worker in Worker.all(queue=Queue(queue, connection=redis))
             if hostname is None or worker.hostname == hostname]
    beats = [worker.last_heartbeat for worker in found if worker.last_heartbeat]
    return _processes(len(found), beats, now)


def cron_schedulers(redis, now: datetime, hostname: str | None = None) -> Processes:
    """RQ cron schedulers (`rq cron`, webapp.jobs.cron), by the heartbeats their loop sends."""
    from rq.cron import CronScheduler

    found = [cron for cron in CronScheduler.all(redis) if hostname is None or cron.hostname == hostname]
    beats = [beat for cron in found if (beat := cron.last_heartbeat)]
    return _processes(len(found), beats, now)


def _processes(alive: int, beats: list[datetime], now: datetime) -> Processes:
    return Processes(alive, _age(max(beats, key=_aware), now) if beats else None)


def _aware(moment: datetime) -> datetime:
    """RQ's datetimes (heartbeats, enqueued_at) as aware UTC, whichever way an RQ version returns them."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def oldest_job_age(redis, queue: str, now: datetime) -> float | None:
    """Seconds the job at the head of `queue` has waited; None when the queue is empty."""
    from rq import Queue
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    head = Queue(queue, connection=redis).get_job_ids(0, 1)
    try:
        job = Job.fetch(head[0], connection=redis) if head else None
    except NoSuchJobError:  # taken (or expired) between the two reads: nothing waits at the head
        return None
    return _age(job.enqueued_at, now) if job is not None and job.enqueued_at else None
