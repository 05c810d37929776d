"""PostgreSQL stops while the app runs: pages, API calls and /readyz answer a quick, clear 503, and
the same process serves normally once the database is back (no restart).

The cluster stopped here is a throwaway one of this module's own (initdb into a temporary directory,
on a free port), never the machine's shared server. Skipped where PostgreSQL's server binaries are
not installed (GitHub CI runs PostgreSQL as a service container, with client tools only).
"""
import glob
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from webapp.extensions import db
from webapp.models import Role

from ..conftest import make_app
from ..factories import PASSWORD, Factories
from ..ops_support import free_port
from ..web.conftest import PARTIAL

QUICK = 8.0  # seconds a request may take while the database is down (connect_timeout is 5)


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL server's bin directory, if initdb and pg_ctl are there."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists() and (d / "postgres").exists()]
    return max(found, key=lambda d: int(d.parent.name), default=None) if found else None


class ThrowawayPostgres:
    """A cluster in a temporary directory, run as the `postgres` user when we are root."""

    def __init__(self, bin_dir: Path):
        self.bin_dir, self.port = bin_dir, free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ticketing-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin_dir / tool), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "--no-locale",
                  "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -F"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    bin_dir = server_binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed under /usr/lib/postgresql; "
                    "apt-get install postgresql to run the outage test")
    pg = ThrowawayPostgres(bin_dir)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        pg.remove()


class Browser:
    """Real HTTP to the served app, keeping cookies like a browser; never raises on 4xx/5xx."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def __call__(self, path, data=None, headers=None):
        body = json.dumps(data).encode() if isinstance(data, dict) else data
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=30) as response:
                status, head, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            status, head, text = error.code, error.headers, error.read().decode()
        return status, head, text, time.monotonic() - started


@pytest.fixture(scope="module")
def served(cluster):
    """The app on the throwaway cluster, behind a real threaded WSGI server; an agent signed in."""
    app = make_app(cluster.url, WTF_CSRF_ENABLED=False)
    with app.app_context():
        upgrade()
        make = Factories()
        make.user("agent")
        key = make.user("monitor", role=Role.SERVICE).plain_api_key
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    browser = Browser(f"http://127.0.0.1:{server.server_port}")
    status, *_ = browser("/login", f"username=agent&password={PASSWORD.replace(' ', '+')}".encode())
    assert status == 200  # followed the redirect to the dashboard
    try:
        yield browser, {"X-Api-Key": key}
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgres
def test_database_down_means_quick_clear_503s_and_back_up_means_service(cluster, served):
    browser, api_key = served
    assert browser("/")[0] == 200
    assert browser("/api/tickets", headers=api_key)[0] == 200
    assert browser("/readyz")[0] == 200

    cluster.stop()
    try:
        status, head, page, took = browser("/")
        assert (status, head.get_content_type()) == (503, "text/html"), page
        assert "database" in page.lower() and took < QUICK
        assert head["Retry-After"].isdigit()

        status, head, text, took = browser("/api/tickets", headers=api_key)
        assert (status, head.get_content_type()) == (503, "application/json"), text
        error = json.loads(text)["error"]
        assert error["code"] == "database_unavailable" and "database" in error["message"].lower()
        assert head["Retry-After"].isdigit() and took < QUICK

        status, _, fragment, _ = browser("/", headers=PARTIAL)  # htmx: the card, where the action was
        assert status == 503 and fragment.lstrip().startswith('<section class="card error-page"')
        json_headers = {**api_key, "Content-Type": "application/json"}
        # A whole ticket, so the answer needs the database: the caller may be kept from a moment ago
        # (services.recent), and an incomplete body is refused with 422 before any query.
        ticket = {"title": "Disk full", "severity": 2, "categoryId": 1, "typeId": 1, "itemId": 1}
        status, _, text, _ = browser("/api/tickets", ticket, json_headers)
        assert status == 503 and json.loads(text)["error"]["code"] == "database_unavailable"

        status, _, text, took = browser("/readyz")
        assert status == 503 and json.loads(text)["failing"][0] == "database" and took < QUICK
        assert browser("/healthz")[0] == 200  # liveness: no restart for a database outage
    finally:
        cluster.start()

    assert browser("/")[0] == 200  # the same process, its pool refilled
    assert browser("/api/tickets", headers=api_key)[0] == 200
    assert browser("/readyz")[0] == 200


def test_an_unreachable_database_is_a_503_not_a_500_in_every_mode(caplog):
    """The handler alone, on any machine: a PostgreSQL URL whose port nothing listens on."""
    logging.getLogger("webapp.http.errors").disabled = False  # an earlier upgrade()'s alembic fileConfig disables it
    app = make_app(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:" + "x" * 43  # a signed-in agent's sign-in: the page must load it from the database
    page = client.get("/")
    assert (page.status_code, page.mimetype) == (503, "text/html") and b"database cannot be reached" in page.data
    assert b"Sign out" not in page.data  # rendered as anonymous, without asking the database again
    api = client.post("/api/tickets", json={"title": "x"}, headers={"X-Api-Key": "sk_" + "x" * 43})
    assert (api.status_code, api.json["error"]["code"]) == (503, "database_unavailable")
    assert api.headers["Retry-After"].isdigit()
    assert any("database unavailable on POST /api/tickets" in r.getMessage() for r in caplog.records)
    with app.app_context():
        db.engine.dispose()
