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
import signal
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


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (a delivery's timeout) is the test's subject, not noise


class Receiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers with scripted statuses.

    `keep_alive`: answer in HTTP/1.1 and keep connections open. It counts the TCP connections it
    accepted and the most requests it held at once; `hold()` makes it keep each request unanswered
    until `release()` (or for `answer_first` more requests answered at once first).
    """

    def __init__(self, keep_alive: bool = False):
        self.requests: list[Received] = []
        self.connections = 0
        self.most_at_once = 0
        self._at_once = 0
        self._sockets: list[socket.socket] = []
        self._statuses: list[int] = []
        self._body = b"receiver says no"
        self._lock = threading.Lock()
        self._held = threading.Event()
        self._held.set()
        self._answer_first = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self):
                super().setup()
                receiver._connected(self.connection)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, wait = receiver._record(Received(self.path, dict(self.headers), body))
                try:
                    if wait:
                        receiver._held.wait(30)
                finally:
                    receiver._done()
                answer = b"ok" if status < 300 else receiver._body
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
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

    def hold(self, answer_first: int = 0) -> None:
        """Keep requests unanswered until release(), after answering the next `answer_first` at once."""
        with self._lock:
            self._answer_first = answer_first
            self._held.clear()

    def release(self) -> None:
        self._held.set()

    def close_connections(self) -> None:
        """Close every connection from the receiver's side, as an idle timeout would."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _connected(self, sock: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._sockets.append(sock)

    def _record(self, request: Received) -> tuple[int, bool]:
        with self._lock:
            self.requests.append(request)
            self._at_once += 1
            self.most_at_once = max(self.most_at_once, self._at_once)
            wait = not self._held.is_set() and not self._answer_first
            self._answer_first = max(0, self._answer_first - 1)
            if not self._statuses:
                return 200, wait
            status = self._statuses.pop(0) if len(self._statuses) > 1 else self._statuses[0]
            return status, wait

    def _done(self) -> None:
        with self._lock:
            self._at_once -= 1

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


def start_receiver(**options) -> Receiver:
    server = Receiver(**options)
    server._thread.start()
    return server


def stop_receiver(server: Receiver) -> None:
    server.release()
    server._server.shutdown()
    server.close_connections()
    server._server.server_close()


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    stop_receiver(server)


@pytest.fixture
def receivers():
    """Start keep-alive (or other) receivers: `receivers(keep_alive=True)`; all stopped afterwards."""
    started = []

    def start(**options) -> Receiver:
        started.append(start_receiver(**options))
        return started[-1]

    yield start
    for server in started:
        stop_receiver(server)


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


def run_burst(app, with_scheduler: bool = False) -> None:
    """worker.py's worker, in burst mode: fork a work horse per job until the queue is empty (and,
    `with_scheduler`, first queue the scheduled jobs that are due, as worker.py's scheduler does)."""
    import worker

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.build_worker(app).work(burst=True, with_scheduler=with_scheduler)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def dispatch_jobs_waiting(app) -> int:
    """Outbox dispatch runs waiting in the app's RQ queue."""
    with app.app_context():
        queue = Queue(jobs.queue_name(), connection=jobs.redis_connection())
        return sum(job.func_name == "webapp.jobs.tasks.dispatch_outbox" for job in queue.get_jobs())
