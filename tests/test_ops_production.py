"""The production entrypoint for real: gunicorn on 127.0.0.1 against PostgreSQL and Redis.

Each test run gets a database of its own and a private redis-server on a free port, so nothing
here touches shared data; processes are stopped by their own process group id.
"""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from webapp import create_app

from .conftest import TEST_SECRET
from .ops_support import free_port, metric_value, one_time_secret, require

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.postgres


class Process:
    """A child process in its own session, logging to a file, stopped by its process-group id."""

    def __init__(self, args, env, log: Path):
        self.log = log
        self._file = log.open("wb")
        self.popen = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._file, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._file.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http(url, method="GET", data=None, headers=None, timeout=10):
    """(status, headers, body text) without following redirects or raising on 4xx/5xx."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def wait_until(condition, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def answers(url) -> bool:
    try:
        return http(url, timeout=3)[0] == 200
    except OSError:
        return False


def ready(base_url):
    return lambda: answers(base_url + "/readyz")


def admin_engine(server_url):
    url = sa.make_url(server_url).set(drivername="postgresql+psycopg", database="postgres")
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def base_env(tmp: Path, database_url: str, redis_url: str | None, port: int) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEST_", "PYTEST"))}
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "INSTANCE_PATH": str(tmp / "instance"),
        "FLASK_APP": "wsgi",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"prometheus-{port}"),
        "PROXY_FIX_X_FOR": "1",
        "PROXY_FIX_X_PROTO": "1",
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        "WAIT_TIMEOUT": "60",
        "DB_CONNECT_TIMEOUT": "2",
        "METRICS_CACHE_SECONDS": "0",
    })
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@pytest.fixture(scope="module")
def pg_server():
    return require(os.environ.get("TEST_DATABASE_URL"),
                   "set TEST_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/postgres) for the gunicorn tests")


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    """A redis-server of this module's own, so stopping it hurts nobody."""
    binary = require(shutil.which("redis-server"), "redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    log = tmp_path_factory.mktemp("redis") / "redis.log"
    process = Process([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                      dict(os.environ), log)
    from redis import Redis

    client = Redis(port=port)
    wait_until(lambda: _pings(client), 10, "redis-server")
    yield process, f"redis://127.0.0.1:{port}/0"
    client.close()
    process.stop()


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


@pytest.fixture(scope="module")
def database(pg_server):
    name = f"ticketing_ops_{os.getpid()}_{secrets.token_hex(3)}"
    engine = admin_engine(pg_server)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield name, sa.make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(scope="module")
def server(database, private_redis, tmp_path_factory):
    """`python -m webapp.serve.entrypoint web` (migrate, then gunicorn), seeded with `flask seed`."""
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = base_env(tmp, database[1], private_redis[1], port)
    process = Process([sys.executable, "-m", "webapp.serve.entrypoint", "web"], env, tmp / "web.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(ready(url), 60, f"/readyz on {url}; log:\n{process.output()[-3000:]}")
        seeded = subprocess.run([sys.executable, "-m", "webapp.serve.entrypoint", "flask", "seed"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60, check=True).stdout
        yield {
            "url": url, "env": env, "process": process, "database": database, "tmp": tmp,
            "admin_password": one_time_secret(seeded, "admin password"),  # stdout is a pipe: in a file
            "api_key": one_time_secret(seeded, "goddard API key"),
        }
    finally:
        process.stop()


def test_readyz_is_green_with_database_migrations_and_redis(server):
    status, headers, body = http(server["url"] + "/readyz")
    assert status == 200
    report = json.loads(body)
    assert report["status"] == "ready"
    assert {name for name, check in report["checks"].items() if check["ok"]} == {"database", "migrations", "redis"}
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_an_agent_signs_in_through_gunicorn_behind_an_https_proxy(server):
    https = {"X-Forwarded-Proto": "https"}
    status, headers, page = http(server["url"] + "/login", headers=https)
    assert status == 200 and headers["Strict-Transport-Security"].startswith("max-age=")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    cookie = SimpleCookie(headers["Set-Cookie"])
    assert cookie["session"]["secure"] and cookie["session"]["httponly"]
    form = urlencode({"csrf_token": token, "username": "admin", "password": server["admin_password"]})
    status, headers, _ = http(server["url"] + "/login", "POST", form.encode(), {
        **https, "Cookie": f"session={cookie['session'].value}",
        "Referer": server["url"].replace("http:", "https:") + "/login",  # CSRF checks it over https
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and headers["Location"] == "/"
    signed_in = SimpleCookie(headers["Set-Cookie"])["session"].value
    status, _, dashboard = http(server["url"] + "/", headers={**https, "Cookie": f"session={signed_in}"})
    assert status == 200 and "Open tickets" in dashboard


def test_automation_uses_the_api_through_gunicorn(server):
    key = {"X-Api-Key": server["api_key"], "Content-Type": "application/json"}
    routes = {rule.rule for rule in create_app({"ENV_VARS": server["env"]}).url_map.iter_rules()}
    if "/api/tickets" not in routes:  # the ticket API lands with its own issue; until then, /api/me
        status, _, body = http(server["url"] + "/api/me", headers=key)
        assert status == 200 and json.loads(body)["username"] == "goddard"
        return
    engine = sa.create_engine(sa.make_url(server["database"][1]).set(drivername="postgresql+psycopg"))
    with engine.connect() as conn:
        ids = conn.execute(sa.text(
            "SELECT c.id, t.id, i.id, u.id FROM category c JOIN cti_type t ON t.category_id = c.id "
            "JOIN item i ON i.type_id = t.id, \"user\" u WHERE c.name = 'TheWrightServer' "
            "AND t.name = 'Automation' AND i.name = 'Backup' AND u.username = 'goddard'")).one()
    payload = {"title": "[Plex] Backup - 2026-03-30T02:00:00", "overview": "Automated nightly Plex backup.",
               "severity": 5, "categoryId": str(ids[0]), "typeId": str(ids[1]), "itemId": str(ids[2]),
               "assigneeId": str(ids[3])}
    status, _, body = http(server["url"] + "/api/tickets", "POST", json.dumps(payload).encode(), key)
    assert status == 201, body
    created = json.loads(body)
    assert re.fullmatch(r"V\d{9}", created["displayId"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT title FROM ticket WHERE display_id = :d"),
                            {"d": created["displayId"]}).scalar_one() == payload["title"]
    engine.dispose()


def test_access_log_is_json_and_carries_the_request_id(server):
    request_id = f"e2e-{secrets.token_hex(6)}"
    status, headers, _ = http(server["url"] + "/healthz?probe=1", headers={"X-Request-Id": request_id})
    assert status == 200 and headers["X-Request-Id"] == request_id

    def logged():
        for line in server["process"].output().splitlines():
            if request_id in line:
                return json.loads(line)
        return None

    entry = wait_until(logged, 10, "the access log line")
    assert entry["logger"] == "gunicorn.access" and entry["request_id"] == request_id
    assert entry["path"] == "/healthz" and entry["query"] == "probe=1" and entry["status"] == 200
    assert entry["duration_ms"] >= 0 and entry["time"].endswith("+00:00")


def test_metrics_add_up_across_gunicorn_workers(server):
    def healthz_count():
        status, _, text = http(server["url"] + "/metrics")
        assert status == 200
        return metric_value(text, "ticketing_http_request_duration_seconds_count",
                            method="GET", endpoint="ops.healthz", status="200") or 0, text

    before, _ = healthz_count()
    for _ in range(24):
        assert http(server["url"] + "/healthz")[0] == 200
    after, text = healthz_count()
    assert after - before == 24  # every worker process's requests, none lost or doubled
    assert metric_value(text, "ticketing_dependency_up", dependency="redis") == 1
    assert list(Path(server["env"]["PROMETHEUS_MULTIPROC_DIR"]).glob("histogram_*.db"))
    forwarded = http(server["url"] + "/metrics", headers={"X-Forwarded-For": "127.0.0.1"})
    assert forwarded[0] == 403


def bundled_proxy_config(upstream_port: int, listen_port: int, tmp: Path) -> Path:
    """compose.yaml's nginx config, pointed at this gunicorn, wrapped in a runnable nginx.conf."""
    compose = (ROOT / "compose.yaml").read_text()
    block = compose.split("NGINX_CONF: |\n", 1)[1].split("\n    command:", 1)[0]
    server = textwrap.dedent(block).replace("$$", "$")
    server = server.replace("http://web:3080", f"http://127.0.0.1:{upstream_port}")
    server = server.replace("listen 3080;", f"listen 127.0.0.1:{listen_port};")
    temp = "".join(f"{kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = tmp / "nginx.conf"
    config.write_text(f"daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log; worker_processes 1;\n"
                      f"events {{}}\nhttp {{ access_log off; {temp}\n{server}\n}}\n")
    return config


def test_the_bundled_proxy_fronts_gunicorn(server, tmp_path):
    """The nginx config from compose.yaml: request ids at the edge, forwarded headers, no metrics leak."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if not nginx:
        pytest.skip("nginx is not installed (.ci/run installs nginx-light when it can)")
    port = free_port()
    config = bundled_proxy_config(int(server["url"].rsplit(":", 1)[1]), port, tmp_path)
    checked = subprocess.run([nginx, "-t", "-c", str(config), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    proxy = Process([nginx, "-c", str(config), "-p", str(tmp_path)], dict(os.environ), tmp_path / "nginx.out")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(url + "/healthz"), 15, f"nginx:\n{proxy.output()}")
        status, headers, _ = http(url + "/login", headers={"X-Forwarded-Proto": "https"})
        assert status == 200 and re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"])  # nginx's $request_id
        assert headers["Strict-Transport-Security"].startswith("max-age=")  # NPM's https passed through
        assert http(url + "/healthz", headers={"X-Request-Id": "from-npm-1"})[1]["X-Request-Id"] == "from-npm-1"
        assert http(url + "/metrics")[0] == 403  # proxied: not a direct scrape, even from loopback
        assert http(server["url"] + "/metrics")[0] == 200
    finally:
        proxy.stop()


def test_readyz_fails_clearly_while_the_database_is_unreachable_and_recovers(server, pg_server):
    name = server["database"][0]
    engine = admin_engine(pg_server)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        status, _, body = http(server["url"] + "/readyz")
        assert status == 503
        report = json.loads(body)
        assert report["status"] == "unavailable" and "database" in report["failing"]
        assert report["checks"]["database"] == {"ok": False, "error": "unreachable (OperationalError)"}
        assert "127.0.0.1" not in body and name not in body
        assert http(server["url"] + "/healthz")[0] == 200  # alive, just not ready
    finally:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        engine.dispose()
    wait_until(ready(server["url"]), 15, "readiness after the database came back")


def test_the_worker_and_cron_processes_start_from_the_same_entrypoint(server, private_redis, tmp_path):
    from redis import Redis
    from rq import Worker
    from rq.cron import CronScheduler

    connection = Redis.from_url(private_redis[1])
    schedule = tmp_path / "schedule.py"
    schedule.write_text("from rq import cron\ncron.register(print, queue_name='ops-e2e', interval=3600)\n")
    worker = Process([sys.executable, "-m", "webapp.serve.entrypoint", "worker"], server["env"], tmp_path / "w.log")
    cron = Process([sys.executable, "-m", "webapp.serve.entrypoint", "cron", str(schedule)], server["env"],
                   tmp_path / "c.log")
    try:
        wait_until(lambda: len(Worker.all(connection=connection)) == 1, 30, f"an RQ worker:\n{worker.output()}")
        wait_until(lambda: len(CronScheduler.all(connection)) == 1, 30, f"rq cron:\n{cron.output()}")
    finally:
        worker.stop()
        cron.stop()
        connection.close()


def post_chunked(url: str, path: str, size: int, headers: dict) -> tuple[int, str, str]:
    """POST `size` bytes with Transfer-Encoding: chunked (no Content-Length): (status, type, body)."""
    host, port = url.removeprefix("http://").split(":")
    piece = b"x" * 65536
    pieces = [piece] * (size // len(piece)) + [piece[:size % len(piece)]]
    connection = HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("POST", path, body=iter(pieces), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.headers["Content-Type"], response.read().decode()
    finally:
        connection.close()


def test_a_chunked_body_over_the_cap_is_a_413_through_gunicorn(server):
    """gunicorn frames chunked bodies itself; past MAX_CONTENT_LENGTH (1 MiB here) the app says 413."""
    over = 1024 * 1024 + 70_000
    status, kind, body = post_chunked(server["url"], "/api/tickets", over,
                                      {"Content-Type": "application/json", "X-Api-Key": server["api_key"]})
    assert (status, kind) == (413, "application/json")
    assert json.loads(body)["error"]["code"] == "request_entity_too_large"
    status, kind, body = post_chunked(server["url"], "/login", over,
                                      {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413 and kind.startswith("text/html") and "Too large" in body
    status, kind, body = post_chunked(server["url"], "/api/tickets", 1000,
                                      {"Content-Type": "application/json", "X-Api-Key": server["api_key"]})
    assert status == 400 and json.loads(body)["error"]["code"] == "malformed_json"  # read whole, parsed


def test_readyz_fails_when_redis_goes_away(server, private_redis):
    private_redis[0].stop()
    status, _, body = http(server["url"] + "/readyz")
    assert status == 503 and json.loads(body)["failing"] == ["redis"]


def test_replicas_wait_for_the_database_then_migrate_one_at_a_time(pg_server, tmp_path):
    """Two web replicas started before PostgreSQL has their database: both wait, one migrates."""
    name = f"ticketing_ops_late_{os.getpid()}_{secrets.token_hex(3)}"
    url = sa.make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    ports = [free_port(), free_port()]
    replicas = [Process([sys.executable, "-m", "webapp.serve.entrypoint", "web"],
                        base_env(tmp_path, url, None, port), tmp_path / f"web-{port}.log") for port in ports]
    engine = admin_engine(pg_server)
    try:
        wait_until(lambda: all("waiting for the database" in r.output() for r in replicas), 30, "both to wait")
        assert all(r.popen.poll() is None for r in replicas)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        for port, replica in zip(ports, replicas):
            wait_until(ready(f"http://127.0.0.1:{port}"), 60, f"replica {port}:\n{replica.output()[-3000:]}")
    finally:
        for replica in replicas:
            replica.stop()
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def test_the_entrypoint_gives_up_when_the_database_never_comes(tmp_path):
    env = base_env(tmp_path, "postgresql://ticketing:pw@127.0.0.1:9/nowhere", None, free_port())
    env["WAIT_TIMEOUT"] = "2"
    process = Process([sys.executable, "-m", "webapp.serve.entrypoint", "web"], env, tmp_path / "web.log")
    try:
        assert process.popen.wait(timeout=30) == 1
    finally:
        process.stop()
    assert "giving up" in process.output() and "the database" in process.output()
