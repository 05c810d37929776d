"""/metrics: request latency, open tickets, outbox backlog and queue depth, for allowed scrapers only."""
import os
import secrets
from datetime import timedelta

import pytest
from rq import Queue

from webapp.extensions import db
from webapp.models import OutboxEvent, Status
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow

from .conftest import make_app
from .ops_support import metric_value, require

REMOTE = {"REMOTE_ADDR": "10.20.30.40"}


@pytest.fixture
def scrape(app, client):
    """GET /metrics as a direct local scraper, with the per-process cache off."""
    app.config["METRICS_CACHE_SECONDS"] = 0
    app.extensions["ops_metrics_cache"].clear()

    def get(**kwargs):
        response = client.get("/metrics", **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        return response.get_data(as_text=True)

    return get


def test_request_latency_is_recorded_per_endpoint_not_per_path(client, scrape):
    before = metric_value(scrape(), "ticketing_http_request_duration_seconds_count",
                          method="GET", endpoint="ops.healthz", status="200") or 0
    for _ in range(3):
        client.get("/healthz")
    client.get("/no/such/page/unrouted-path-marker")
    text = scrape()
    assert metric_value(text, "ticketing_http_request_duration_seconds_count",
                        method="GET", endpoint="ops.healthz", status="200") == before + 3
    assert metric_value(text, "ticketing_http_request_duration_seconds_bucket",
                        method="GET", endpoint="ops.healthz", status="200", le="+Inf") == before + 3
    assert metric_value(text, "ticketing_http_request_duration_seconds_count",
                        method="GET", endpoint="unmatched", status="404") >= 1
    assert "unrouted-path-marker" not in text  # letters: a timestamp cannot match by chance


def test_open_tickets_are_counted_by_severity_and_status(scrape, make):
    agent = make.user()
    before = scrape()
    make.ticket(actor=agent, severity=1)
    make.ticket(actor=agent, severity=1)
    working = make.ticket(actor=agent, severity=4)
    change_status(agent, working, Status.IN_PROGRESS)
    done = make.ticket(actor=agent, severity=4)
    change_status(agent, done, Status.IN_PROGRESS)
    change_status(agent, done, Status.RESOLVED)
    after = scrape()

    def delta(severity, status):
        def value(text):
            return metric_value(text, "ticketing_tickets_open", severity=severity, status=status)
        return value(after) - value(before)

    assert delta(1, "OPEN") == 2 and delta(1, "IN_PROGRESS") == 0
    assert delta(4, "IN_PROGRESS") == 1 and delta(4, "OPEN") == 0
    assert metric_value(after, "ticketing_tickets_open", severity=2, status="OPEN") is not None  # zeros too
    assert metric_value(after, "ticketing_tickets_open", status="RESOLVED") is None
    assert metric_value(after, "ticketing_dependency_up", dependency="database") == 1


def test_outbox_backlog_counts_undelivered_events_and_the_oldest_age(scrape, make):
    make.ticket()
    make.ticket()
    events = db.session.scalars(db.select(OutboxEvent).order_by(OutboxEvent.id)).all()
    for event in events:
        event.dispatched_at = None  # whatever a dispatcher did meanwhile: all pending now
    events[0].created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    text = scrape()
    assert metric_value(text, "ticketing_outbox_backlog") == len(events) >= 2
    assert 7200 <= metric_value(text, "ticketing_outbox_oldest_age_seconds") < 7260
    events[0].dispatched_at = utcnow()
    db.session.commit()
    text = scrape()
    assert metric_value(text, "ticketing_outbox_backlog") == len(events) - 1
    assert metric_value(text, "ticketing_outbox_oldest_age_seconds") < 60


def test_figures_are_cached_between_scrapes(app, client, scrape, make):
    first = scrape()
    app.config["METRICS_CACHE_SECONDS"] = 300
    cached = client.get("/metrics").get_data(as_text=True)
    make.ticket(severity=2)
    again = client.get("/metrics").get_data(as_text=True)
    assert metric_value(again, "ticketing_tickets_open", severity=2, status="OPEN") == metric_value(
        cached, "ticketing_tickets_open", severity=2, status="OPEN")
    app.config["METRICS_CACHE_SECONDS"] = 0
    fresh = client.get("/metrics").get_data(as_text=True)
    assert metric_value(fresh, "ticketing_tickets_open", severity=2, status="OPEN") == metric_value(
        first, "ticketing_tickets_open", severity=2, status="OPEN") + 1


def test_a_remote_address_is_refused(client):
    response = client.get("/metrics", environ_base=REMOTE)
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json["error"]["message"]


def test_a_proxied_request_is_refused_even_from_loopback(client):
    """A reverse proxy on this host connects from 127.0.0.1 on behalf of anyone."""
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_the_bearer_token_admits_any_address(app, client, scrape):
    token = secrets.token_urlsafe(24)
    app.config["METRICS_TOKEN"] = token
    try:
        ok = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "ticketing_tickets_open" in ok.get_data(as_text=True)
        wrong = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
        assert client.get("/metrics", environ_base=REMOTE).status_code == 401
        wrong_local = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong_local.status_code == 401  # a wrong token is never rescued by the address
    finally:
        app.config["METRICS_TOKEN"] = None


def test_allowed_networks_are_configurable_and_checked_at_start_up(database_url):
    app = make_app(database_url, METRICS_ALLOW_CIDRS="10.20.0.0/16")
    client = app.test_client()
    assert client.get("/metrics", environ_base=REMOTE).status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback no longer listed
    with pytest.raises(RuntimeError, match="METRICS_ALLOW_CIDRS"):
        make_app(database_url, METRICS_ALLOW_CIDRS="10.20.0.0/99")


def test_a_database_outage_still_answers_and_says_so(tmp_path):
    app = make_app("postgresql://ticketing:pw@127.0.0.1:9/nowhere")
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert metric_value(text, "ticketing_dependency_up", dependency="database") == 0
    assert "ticketing_tickets_open" not in text
    assert "ticketing_http_request_duration_seconds" in text


def test_redis_down_is_reported(database_url, _app):
    app = make_app(database_url, REDIS_URL="redis://127.0.0.1:9/0")
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert metric_value(text, "ticketing_dependency_up", dependency="redis") == 0
    assert metric_value(text, "ticketing_dependency_up", dependency="database") == 1


@pytest.mark.redis
def test_queue_depth_per_rq_queue(database_url, _app):
    url = require(os.environ.get("TEST_REDIS_URL"), "set TEST_REDIS_URL to measure queue depth on Redis")
    name = f"ops-test-{secrets.token_hex(4)}"
    app = make_app(database_url, REDIS_URL=url, RQ_QUEUE=name)
    from redis import Redis

    connection = Redis.from_url(url)
    queue = Queue(name, connection=connection)
    try:
        text = app.test_client().get("/metrics").get_data(as_text=True)
        assert metric_value(text, "ticketing_queue_jobs", queue=name) == 0  # our queue, even unused
        queue.enqueue("os.getcwd")
        queue.enqueue("os.getcwd")
        app.extensions["ops_metrics_cache"].clear()
        text = app.test_client().get("/metrics").get_data(as_text=True)
        assert metric_value(text, "ticketing_queue_jobs", queue=name) == 2
        assert metric_value(text, "ticketing_queue_failed_jobs", queue=name) == 0
        assert metric_value(text, "ticketing_dependency_up", dependency="redis") == 1
    finally:
        queue.delete(delete_jobs=True)
        connection.close()
