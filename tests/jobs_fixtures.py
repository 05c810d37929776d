"""Fixtures for background-work tests: a local webhook receiver, and databases with real commits.

Import them into a test module (`from .jobs_fixtures import receiver, committed_app`). A test that
spans threads, worker processes or Redis cannot live in the rolled-back `app` transaction, so it
builds its app on a database of its own: a copy of a migrated template (SQLite file copy, or
PostgreSQL `CREATE DATABASE … TEMPLATE`), dropped afterwards.
"""
import hashlib
import hmac
import itertools
import json
import os
import secrets
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from redis import Redis
from rq import Queue

from webapp import jobs
from webapp.extensions import db
from webapp.jobs.tasks import PERIODIC

from .conftest import make_app

_clones = itertools.count(1)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers with scripted statuses."""

    def __init__(self):
        self.requests: list[Received] = []
        self._statuses: list[int] = []
        self._body = b"receiver says no"
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._record(Received(self.path, dict(self.headers), body))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else receiver._body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer(self, *statuses: int, body: bytes | None = None) -> None:
        """Answer the next requests with these statuses in turn (the last one repeats), and errors with `body`."""
        with self._lock:
            self._statuses = list(statuses)
            self._body = self._body if body is None else body

    def _record(self, request: Received) -> int:
        with self._lock:
            self.requests.append(request)
            if not self._statuses:
                return 200
            return self._statuses.pop(0) if len(self._statuses) > 1 else self._statuses[0]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


def verify_signature(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """The receiver-side check documented in docs/webhooks.md."""
    timestamp = headers.get("X-Ticketing-Timestamp", "")
    signature = headers.get("X-Ticketing-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("sha256=" + expected, signature)


def closed_port_url(scheme: str = "http", path: str = "") -> str:
    """A 127.0.0.1 URL on a port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}{path}"


@pytest.fixture
def receiver():
    server = Receiver()
    server._thread.start()
    yield server
    server._server.shutdown()
    server._server.server_close()


def _admin_engine(url: str):
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _admin_sql(url: str, sql: str) -> None:
    engine = _admin_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def dispose(app) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


_templates: dict[str, str] = {}


def _template(database_url: str, tmp_path_factory, config) -> str:
    """A migrated database to copy from, built once per run (whichever module asks first)."""
    if database_url in _templates:
        return _templates[database_url]
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('committed') / 'template.db'}"
    else:
        base = sa.make_url(database_url)
        url = base.set(database=base.database + "_tpl").render_as_string(hide_password=False)
        _admin_sql(url, f'CREATE DATABASE "{sa.make_url(url).database}"')
        config.add_cleanup(lambda: _admin_sql(url, f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)'))
    app = make_app(url)
    with app.app_context():
        upgrade()
    dispose(app)
    _templates[database_url] = url
    return url


@pytest.fixture
def committed_db(database_url, tmp_path_factory, tmp_path, pytestconfig):
    """A fresh migrated database for this test alone; its commits are real."""
    template = sa.make_url(_template(database_url, tmp_path_factory, pytestconfig))
    if template.drivername.startswith("sqlite"):
        path = tmp_path / "committed.db"
        shutil.copyfile(template.database, path)
        yield f"sqlite:///{path}"
        return
    name = f"{template.database[:-4]}_c{next(_clones)}"
    url = template.set(database=name).render_as_string(hide_password=False)
    _admin_sql(url, f'CREATE DATABASE "{name}" TEMPLATE "{template.database}"')
    yield url
    _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def committed_app(committed_db):
    """Build apps (with config overrides) on this test's own database; engines closed afterwards."""
    apps = []

    def build(**overrides):
        app = make_app(committed_db, **overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        dispose(app)


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("TEST_REDIS_URL must be set in CI (e.g. redis://127.0.0.1:6379/15)")
        pytest.skip("set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to run the RQ tests")
    return url


@pytest.fixture
def queue_name(redis_url):
    """A queue of this test's own; its keys are removed afterwards (never FLUSHDB)."""
    name = f"test-{secrets.token_hex(6)}"
    yield name
    connection = Redis.from_url(redis_url)
    queue = Queue(name, connection=connection)
    for registry in (queue.finished_job_registry, queue.failed_job_registry):
        for job_id in registry.get_job_ids():
            connection.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")
    queue.delete(delete_jobs=True)
    for key in connection.scan_iter(match=f"rq:*{name}*"):
        connection.delete(key)
    cron_names = [periodic.path for periodic in PERIODIC]  # left by CronScheduler.enqueue_jobs
    connection.zrem("rq:cron_jobs", *cron_names)
    connection.delete(*(f"rq:cron_job:{cron_name}:jobs" for cron_name in cron_names))
    connection.close()


def dispatch_jobs_waiting(app) -> int:
    """Outbox dispatch runs waiting in the app's RQ queue."""
    with app.app_context():
        queue = Queue(jobs.queue_name(), connection=jobs.redis_connection())
        return sum(job.func_name == "webapp.jobs.tasks.dispatch_outbox" for job in queue.get_jobs())
