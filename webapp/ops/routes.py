"""Probe and metrics endpoints for load balancers, compose healthchecks and Prometheus."""
from flask import current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST

from ..auth.access import PUBLIC, access
from ..extensions import db
from ..jobs import redis_connection
from . import bp
from .background import report_or_error
from .checks import readiness
from .metrics import render, scrape_allowed

NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@access(PUBLIC)
def healthz():
    """Liveness: the process answers; it touches nothing else, so a database outage never restarts it."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
@access(PUBLIC)
def readyz():
    """Readiness: 200 when every dependency is usable, else 503 naming what failed; with the
    background processes' health beside it (their warnings never make this replica unready)."""
    report = readiness(db.engine, current_app.config.get("REDIS_URL"))
    report["background"] = report_or_error(current_app.config, redis_connection())
    return jsonify(report), 503 if report["failing"] else 200, NO_STORE


@bp.get("/metrics")
@access(PUBLIC)  # guarded below: a bearer token (METRICS_TOKEN) or a direct allowed address
def metrics():
    if not scrape_allowed():
        headers = dict(NO_STORE)
        if current_app.config.get("METRICS_TOKEN"):
            headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        body = {"error": {"code": "forbidden", "fields": {},
                          "message": "Metrics need METRICS_TOKEN or a direct connection from METRICS_ALLOW_CIDRS."}}
        return jsonify(body), 401 if "WWW-Authenticate" in headers else 403, headers
    return render(), 200, {"Content-Type": CONTENT_TYPE_LATEST, **NO_STORE}
