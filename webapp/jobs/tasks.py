"""Job entry points for the RQ worker and the embedded mode: thin, idempotent calls into services."""
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from . import DELIVERY_RUN_SECONDS, app_job, enqueue, enqueue_at, forget_pending
from ..services import (
    bulk_jobs, delivery, delivery_run, dispatch, idempotency, mail_run, retention, sweep as sweep_service,
)
from ..services.notify import SEND_MAIL_JOB
from ..services.outbox import DELIVER_DUE_JOB, DISPATCH_JOB

log = logging.getLogger(__name__)
LINGER_PAUSE = 0.1  # seconds between a lingering dispatch run's drains


@app_job
def sweep() -> int:
    """Hourly: close RESOLVED tickets older than AUTO_CLOSE_DAYS."""
    closed = sweep_service.auto_close()
    log.info("auto-close sweep closed %d ticket(s)", closed)
    return closed


@app_job
def dispatch_outbox() -> int:
    """After commits with audit events: turn outbox rows into webhook deliveries (one run drains all).

    While rows keep coming the run lingers up to OUTBOX_LINGER_SECONDS, draining every
    LINGER_PAUSE with its pending mark still set, so those commits queue no job of their own.
    The mark is cleared before the last
    drain, so a commit that found it set is always read.
    """
    total, deadline = 0, time.monotonic() + current_app.config.get("OUTBOX_LINGER_SECONDS", 0)
    while time.monotonic() < deadline and (count := dispatch.dispatch_outbox()):
        total += count
        time.sleep(LINGER_PAUSE)
    forget_pending(DISPATCH_JOB)
    return total + dispatch.dispatch_outbox()


@app_job
def deliver_due() -> int:
    """After a dispatch, and at each retry's time: send every due delivery (one run drains them all).

    The run keeps its pending mark while it sends, so dispatches meanwhile queue no run of their
    own; it clears the mark before its last claims, so a delivery that a dispatch which found the
    mark set made due is always sent. After DELIVERY_RUN_SECONDS it finishes what it has claimed
    and queues a fresh run (other jobs get the worker in between); otherwise it schedules the next
    run for when the next retry falls due.
    """
    run = delivery_run.DeliveryRun.from_config(current_app.config)
    deadline = time.monotonic() + DELIVERY_RUN_SECONDS
    try:
        made = run.drain(deadline)
        forget_pending(DELIVER_DUE_JOB)
        made += run.drain(deadline)
    finally:
        run.close()
    if run.stopped_early:
        enqueue(DELIVER_DUE_JOB)
    elif (next_due := delivery.next_due_at()) is not None:
        enqueue_at(next_due, DELIVER_DUE_JOB)
    return made


@app_job
def send_mail() -> int:
    """After a dispatch that wrote notification mail, and at each retry's time: send the due mail."""
    if not current_app.config.get("SMTP_URL"):
        return 0
    forget_pending(SEND_MAIL_JOB)
    sent = mail_run.send_due()
    if (next_due := mail_run.next_due_at()) is not None:
        enqueue_at(next_due, SEND_MAIL_JOB)
    return sent


@app_job
def send_digests() -> int:
    """Hourly: the daily digest mail of everyone whose digest hour it is."""
    return mail_run.send_digests() if current_app.config.get("SMTP_URL") else 0


@app_job
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt at one delivery (jobs queued before delivery runs existed, and by hand)."""
    status = delivery.deliver(delivery_id)
    return status.value if status else None


@app_job
def requeue_undelivered() -> int:
    """Every minute: re-enqueue what Redis lost, or a delivery run whose time was missed (the safety net)."""
    undispatched, due = delivery.outstanding()
    if undispatched:  # rows wait: whatever the pending mark says, that run was lost or is late
        forget_pending(DISPATCH_JOB)
        enqueue(DISPATCH_JOB)
    if due:  # likewise for deliveries: runs are scheduled for their time, so these were missed
        forget_pending(DELIVER_DUE_JOB)
        enqueue(DELIVER_DUE_JOB)
    mail_due = bool(current_app.config.get("SMTP_URL")) and mail_run.has_due()
    if mail_due:  # and for notification mail
        forget_pending(SEND_MAIL_JOB)
        enqueue(SEND_MAIL_JOB)
    return len(due) + int(undispatched) + int(mail_due)


@app_job
def purge_idempotency_records() -> int:
    """Hourly: forget Idempotency-Key responses older than their 24-hour window."""
    return idempotency.purge_expired()


@app_job
def run_bulk_job(job_id: int) -> str | None:
    """A bulk change too large for one request, from where its last commit left it."""
    job = bulk_jobs.run_job(job_id, workers=current_app.config.get("BULK_WORKERS", 1))
    return job.status if job else None


@app_job
def resume_bulk_jobs() -> int:
    """Every minute: hand bulk jobs whose runner died (or was never started) to a new one."""
    stale = bulk_jobs.resume_stale()
    for job_id in stale:
        enqueue(bulk_jobs.RUN_JOB, job_id)
    return len(stale)


@app_job
def prune_deliveries() -> int:
    """Hourly: delete dispatched outbox rows and finished deliveries past DELIVERY_RETENTION_DAYS."""
    pruned = retention.prune()
    log.info("pruned %d outbox row(s) and %d webhook deliveries", pruned.outbox, pruned.deliveries)
    return pruned.outbox + pruned.deliveries


@dataclass(frozen=True)
class Periodic:
    """A periodic job: `cron` for `rq cron` when given, else every `every` seconds (the embedded timer always uses `every`)."""

    func: Callable
    every: int
    cron: str | None = None

    @property
    def path(self) -> str:
        return f"{self.func.__module__}.{self.func.__name__}"


PERIODIC = (
    Periodic(sweep, every=3600, cron="0 * * * *"),
    Periodic(requeue_undelivered, every=60),
    Periodic(purge_idempotency_records, every=3600, cron="30 * * * *"),
    Periodic(resume_bulk_jobs, every=60),
    Periodic(prune_deliveries, every=3600, cron="45 * * * *"),
    Periodic(send_digests, every=3600, cron="5 * * * *"),
)
