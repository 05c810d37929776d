"""Prometheus metrics: request latency by endpoint, open tickets, queue depth, outbox backlog,
webhook deliveries and the background processes' heartbeats (background_metrics)."""
import hmac
import ipaddress
import logging
import os
import time

from flask import current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from ..extensions import db
from ..models import ACTIVE_STATUSES, SEVERITY_LABELS, OutboxEvent, Ticket
from ..db.utc import utcnow
from ..jobs import redis_connection
from .background import report_or_error
from .background_metrics import background_families, delivery_families, delivery_stats
from .http import peer_address, was_forwarded

log = logging.getLogger(__name__)
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

# Not registered globally: /metrics builds a registry per scrape (one process, or all of gunicorn's).
REQUEST_LATENCY = Histogram(
    "ticketing_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, endpoint and status.",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)


def init_app(app) -> None:
    app.extensions["ops_metrics_networks"] = parse_networks(app.config["METRICS_ALLOW_CIDRS"])
    app.extensions["ops_metrics_cache"] = {}


def parse_networks(value: str) -> tuple:
    """METRICS_ALLOW_CIDRS, e.g. "127.0.0.1/32,::1/128"; a typo stops the app at start-up."""
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise RuntimeError(f"METRICS_ALLOW_CIDRS: {exc}") from None


def start_timer() -> None:
    """before_request: the moment the request's latency is measured from."""
    g.request_started = time.perf_counter()


def observe(response):
    """after_request: record the request's latency by method, endpoint and status."""
    started = g.pop("request_started", None)
    if started is not None:
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        endpoint = request.endpoint or "unmatched"  # route names, not raw paths: bounded labels
        REQUEST_LATENCY.labels(method, endpoint, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def scrape_allowed() -> bool:
    """A matching bearer token, or a direct (un-proxied) connection from an allowed network."""
    token = current_app.config.get("METRICS_TOKEN")
    supplied = request.headers.get("Authorization", "")
    if token and supplied.startswith("Bearer "):
        return hmac.compare_digest(supplied[7:].strip().encode(), token.encode())
    if was_forwarded():
        return False
    try:
        address = ipaddress.ip_address(peer_address())
    except ValueError:
        return False
    return any(address in network for network in current_app.extensions["ops_metrics_networks"])


def render() -> bytes:
    """The exposition text: this process's (or every gunicorn worker's) histograms plus live stats."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(_StatsCollector(cached_stats()))
    return generate_latest(registry)


def cached_stats() -> dict:
    """Database and queue figures, recomputed at most every METRICS_CACHE_SECONDS per process."""
    cache = current_app.extensions["ops_metrics_cache"]
    now = time.monotonic()
    if "stats" not in cache or now - cache["at"] >= current_app.config["METRICS_CACHE_SECONDS"]:
        cache["stats"] = gather_stats()
        cache["at"] = now
    return cache["stats"]


def gather_stats() -> dict:
    stats = {"up": {}, "open": {}, "outbox_backlog": None, "outbox_oldest_age": None, "queues": {}}
    try:
        stats["open"] = open_ticket_counts()
        stats["outbox_backlog"], stats["outbox_oldest_age"] = outbox_backlog()
        stats["deliveries"] = delivery_stats()
        stats["up"]["database"] = 1
    except Exception:  # the scrape still reports latency and says the database is down
        db.session.rollback()
        log.warning("metrics: database figures unavailable", exc_info=True)
        stats["up"]["database"] = 0
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            stats["queues"] = queue_depths(redis_url)
            stats["up"]["redis"] = 1
        except Exception:  # likewise for Redis
            log.warning("metrics: queue figures unavailable", exc_info=True)
            stats["up"]["redis"] = 0
    stats["background"] = report_or_error(current_app.config, redis_connection())
    return stats


def open_ticket_counts() -> dict:
    """One GROUP BY over the open queue (served by the partial status/severity indexes)."""
    query = (
        select(Ticket.severity, Ticket.status, func.count())
        .where(Ticket.status.in_(ACTIVE_STATUSES))
        .group_by(Ticket.severity, Ticket.status)
    )
    counts = {(severity, str(status)): 0 for severity in SEVERITY_LABELS for status in ACTIVE_STATUSES}
    for severity, status, count in db.session.execute(query):
        counts[(severity, status)] = count
    return counts


def outbox_backlog() -> tuple[int, float]:
    """Undelivered outbox rows and the age of the oldest, both read through the pending index."""
    pending = OutboxEvent.dispatched_at.is_(None)
    count = db.session.scalar(select(func.count()).select_from(OutboxEvent).where(pending))
    oldest = db.session.scalar(select(OutboxEvent.created_at).where(pending).order_by(OutboxEvent.id).limit(1))
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    return count, max(age, 0.0)


def queue_depths(redis_url: str) -> dict:
    """Jobs waiting and jobs failed, for every RQ queue on this Redis (and ours, even before use)."""
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        queues = {queue.name: queue for queue in Queue.all(connection=connection)}
        own = current_app.config.get("RQ_QUEUE")
        if own:
            queues.setdefault(own, Queue(own, connection=connection))
        return {name: (queue.count, queue.failed_job_registry.count) for name, queue in queues.items()}
    finally:
        connection.close()


class _StatsCollector:
    def __init__(self, stats: dict):
        self.stats = stats

    def collect(self):
        up = GaugeMetricFamily("ticketing_dependency_up", "1 when the dependency answered this scrape.",
                               labels=["dependency"])
        for name, value in self.stats["up"].items():
            up.add_metric([name], value)
        yield up
        if self.stats["up"].get("database"):
            yield from self._database_families()
            yield from delivery_families(self.stats["deliveries"])
        if self.stats["queues"]:
            yield from self._queue_families()
        yield from background_families(self.stats["background"])

    def _database_families(self):
        tickets = GaugeMetricFamily("ticketing_tickets_open", "Open tickets by severity and status.",
                                    labels=["severity", "status"])
        for (severity, status), count in sorted(self.stats["open"].items()):
            tickets.add_metric([str(severity), status], count)
        yield tickets
        yield GaugeMetricFamily("ticketing_outbox_backlog", "Audit events not yet handed to webhooks.",
                                value=self.stats["outbox_backlog"])
        yield GaugeMetricFamily("ticketing_outbox_oldest_age_seconds",
                                "Age of the oldest undelivered outbox event (0 when none).",
                                value=self.stats["outbox_oldest_age"])

    def _queue_families(self):
        queued = GaugeMetricFamily("ticketing_queue_jobs", "Jobs waiting in an RQ queue.", labels=["queue"])
        failed = GaugeMetricFamily("ticketing_queue_failed_jobs", "Jobs in an RQ queue's failed registry.",
                                   labels=["queue"])
        for name, (waiting, failures) in sorted(self.stats["queues"].items()):
            queued.add_metric([name], waiting)
            failed.add_metric([name], failures)
        yield queued
        yield failed
