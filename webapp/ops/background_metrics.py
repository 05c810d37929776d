"""/metrics families for webhook deliveries and the background processes (jobs, worker, cron, queue age)."""
from datetime import datetime

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily

from ..db.utc import utcnow
from ..extensions import db
from ..models import DeliveryStatus, WebhookDelivery

_PENDING = WebhookDelivery.status == DeliveryStatus.PENDING.value


def delivery_stats(now: datetime | None = None) -> dict:
    """Pending and failed deliveries, the attempts the pending ones have used, the oldest one's age.

    Counted through ix_webhook_delivery_due (status first): delivered rows, the bulk of the table
    until retention prunes them, are never read.
    """
    now = now or utcnow()
    counts = dict(db.session.execute(
        sa.select(WebhookDelivery.status, sa.func.count())
        .where(WebhookDelivery.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value]))
        .group_by(WebhookDelivery.status)).all())
    retrying, attempts = db.session.execute(
        sa.select(sa.func.count().filter(WebhookDelivery.attempts > 0),
                  sa.func.coalesce(sa.func.sum(WebhookDelivery.attempts), 0)).where(_PENDING)).one()
    oldest = db.session.scalar(sa.select(sa.func.min(WebhookDelivery.created_at)).where(_PENDING))  # aware (UTCDateTime)
    return {"pending": counts.get(DeliveryStatus.PENDING.value, 0), "failed": counts.get(DeliveryStatus.FAILED.value, 0),
            "retrying": retrying, "pending_attempts": int(attempts),
            "oldest_pending_age": max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0}


def delivery_families(stats: dict):
    by_status = GaugeMetricFamily("ticketing_webhook_deliveries", "Webhook deliveries waiting (pending) or given up (failed).",
                                  labels=["status"])
    by_status.add_metric(["pending"], stats["pending"])
    by_status.add_metric(["failed"], stats["failed"])
    yield by_status
    yield GaugeMetricFamily("ticketing_webhook_deliveries_retrying",
                            "Pending deliveries that failed at least once and wait for a retry.", value=stats["retrying"])
    yield GaugeMetricFamily("ticketing_webhook_delivery_pending_attempts",
                            "Attempts already spent on the deliveries still pending.", value=stats["pending_attempts"])
    yield GaugeMetricFamily("ticketing_webhook_delivery_oldest_pending_age_seconds",
                            "Age of the oldest pending delivery (0 when none).", value=stats["oldest_pending_age"])


def background_families(report: dict):
    """Each job's last run (and the sweep's closed count), live processes, their heartbeats, queue age."""
    if "error" in report:
        return
    last_run = GaugeMetricFamily("ticketing_job_last_run_timestamp_seconds", "When the job last finished (Unix time).",
                                 labels=["job"])
    last_ok = GaugeMetricFamily("ticketing_job_last_run_ok", "1 when the job's last run succeeded.", labels=["job"])
    for name, job in sorted(report["jobs"].items()):
        last_run.add_metric([name], datetime.fromisoformat(job["lastRunAt"]).timestamp())
        last_ok.add_metric([name], 1 if job["ok"] else 0)
    yield last_run
    yield last_ok
    sweep = report["jobs"].get("sweep")
    if sweep is not None and sweep["result"] is not None:
        yield GaugeMetricFamily("ticketing_sweep_last_closed", "Tickets the last auto-close sweep closed.",
                                value=sweep["result"])
    yield GaugeMetricFamily("ticketing_background_warnings", "Stale, late or failing background parts (flask health).",
                            value=len(report["warnings"]))
    yield from _process_families(report)


def _process_families(report: dict):
    if "processes" not in report:  # the embedded mode: jobs run inside the web process
        return
    alive = GaugeMetricFamily("ticketing_processes", "Worker and cron processes registered with Redis.", labels=["role"])
    beat = GaugeMetricFamily("ticketing_process_heartbeat_age_seconds",
                             "Age of the newest heartbeat among a role's processes.", labels=["role"])
    for role, seen in sorted(report["processes"].items()):
        alive.add_metric([role], seen["alive"])
        if seen["newestHeartbeatAgeSeconds"] is not None:
            beat.add_metric([role], seen["newestHeartbeatAgeSeconds"])
    yield alive
    yield beat
    age = report.get("queueOldestJobAgeSeconds")
    yield GaugeMetricFamily("ticketing_queue_oldest_job_age_seconds",
                            "How long the job at the head of our queue has waited (0 when empty).", value=age or 0.0)
