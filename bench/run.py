"""Serve the app under gunicorn (production configuration) on 127.0.0.1 and measure it with wrk.

    .venv/bin/python bench/run.py                          # the database bench/load.py made
    .venv/bin/python bench/run.py --tickets 10000,1000000  # load each size, measure, compare p50s
    .venv/bin/python bench/run.py --sweep                  # plus the auto-close sweep over 100k due

Prints req/s, p50, p99 and the non-2xx count per scenario; a scenario whose URL answers 404
(or 405) on a probe is skipped with a note, so the runner works while routes are still landing.
Results also go to bench/out/results-<time>.json.
"""
import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from dataclasses import asdict, dataclass, field
from pathlib import Path

import wrk
from client import Client, free_port
from calibrate import calibrate
from cpu import CpuMeter, children
from load import DEFAULT_STATE, DEFAULT_URL, busy_percent, machine_jiffies, psycopg_url

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"  # a database of its own, never the suite's: emptied at each start


def n8n_body(state: dict) -> str:
    """The call a real n8n workflow makes (DESIGN.md), ids as the strings n8n sends."""
    return json.dumps({
        "title": "[Plex] Backup - 2026-03-30T02:00:00",
        "overview": "Automated nightly Plex backup completed.",
        "severity": 5, **state["n8n"],
    })


def comment_body(_state: dict) -> str:
    return "body=Checked+the+logs+on+%60web-01%60%3A+the+backup+finished+at+02%3A14.+**Closing+soon.**"


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str            # formatted with the state, plus {ticket} from `tickets`
    auth: str            # none | session | csrf (session + X-CSRFToken) | api (X-Api-Key)
    measures: str
    tickets: str = ""    # state key of display ids the requests rotate over
    headers: dict = field(default_factory=dict)
    body: object = None  # function(state) -> request body

    def paths(self, state: dict) -> list[str]:
        tickets = state[self.tickets] if self.tickets else [""]
        return [self.path.format(ticket=ticket, **report_dates(), **state) for ticket in tickets]


def report_dates() -> dict:
    """{year_ago}: the first day of the longest report range (366 days) ending today, UTC."""
    today = datetime.now(timezone.utc).date()
    return {"year_ago": (today - timedelta(days=365)).isoformat()}


HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}  # what htmx 4 sends for a swap
SCENARIOS = (
    Scenario("login page", "GET", "/login", "none", "the smallest full page: template and CSRF token, no query"),
    Scenario("dashboard", "GET", "/", "session", "first page of the open queue, SEV 1 first, oldest first"),
    Scenario("dashboard: assignee me", "GET", "/?assignee=me", "session", "the signed-in agent's open tickets"),
    Scenario("dashboard: category", "GET", "/?queue={category_id}", "session", "open tickets of one category"),
    Scenario("ticket page", "GET", "/tickets/{ticket}", "session", "full page of a ticket with 20 comments",
             tickets="page_tickets"),
    Scenario("tab fragment", "GET", "/tickets/{ticket}/comments", "session",
             "the comments tab alone, as htmx asks for it", tickets="page_tickets", headers=HTMX),
    Scenario("search: common word", "GET", "/?q={search[common]}", "session",
             "the dashboard searched for a word in about half the tickets, best matches first"),
    Scenario("search: rare word", "GET", "/?q={search[rare]}", "session",
             "the dashboard searched for a request id that one overview in corpus.FACTS holds"),
    Scenario("search: IP address", "GET", "/?q={search[ip]}", "session",
             "an IP, a phrase of four numbers that are each in many tickets"),
    Scenario("API me", "GET", "/api/me", "api", "the cheapest API call: key lookup and a JSON body"),
    Scenario("API list 25", "GET", "/api/tickets?limit=25", "api", "first page of 25 tickets as JSON"),
    Scenario("API search: common word", "GET", "/api/tickets?q={search[common]}&limit=25", "api",
             "25 best matches of a word in about half the tickets, with snippets"),
    Scenario("API search: rare word", "GET", "/api/tickets?q={search[rare]}&limit=25", "api",
             "the best matches of a rare request id, with snippets"),
    Scenario("API create", "POST", "/api/tickets", "api", "the n8n workflow's create: validate, insert, audit, outbox",
             headers={"Content-Type": "application/json"}, body=n8n_body),
    Scenario("reports page", "GET", "/reports", "session",
             "every report (default: the last 30 days), charts and tables drawn"),
    Scenario("reports page: 1 year", "GET", "/reports?from={year_ago}&by=week", "session",
             "every report over the longest range (366 days), by week"),
    Scenario("reports page: category", "GET", "/reports?category={category_id}&severity=3&from={year_ago}", "session",
             "every report of one category and severity over 366 days"),
    Scenario("API report open-by-age", "GET", "/api/reports/open-by-age", "api",
             "open tickets by severity and age: the index count over the open queue"),
    Scenario("API reports 1 year", "GET", "/api/reports?from={year_ago}", "api",
             "every report as JSON over 366 days"),
    Scenario("comment post", "POST", "/tickets/{ticket}/comments", "csrf",
             "an htmx comment post (form, CSRF header), spread over 200 open tickets", tickets="comment_tickets",
             headers={"Content-Type": "application/x-www-form-urlencoded", **HTMX}, body=comment_body),
    Scenario("comment post: 50 watchers", "POST", "/tickets/{ticket}/comments", "csrf",
             "the same post on 200 tickets each watched by 50 agents (the fan-out runs in the worker)",
             tickets="watched_tickets",
             headers={"Content-Type": "application/x-www-form-urlencoded", **HTMX}, body=comment_body),
)


class Server:
    """gunicorn (and an RQ worker when Redis is configured), started and stopped by us."""

    def __init__(self, args, env: dict):
        self.args, self.env = args, env
        self.port = args.port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen] = []

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "gunicorn"]
        if (REPO / "webapp" / "serve" / "gunicorn_conf.py").exists():
            command += ["-c", "python:webapp.serve.gunicorn_conf"]  # the production settings, when they exist
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.args.workers)]
        if self.args.threads:
            command += ["--threads", str(self.args.threads)]
        return command + ["wsgi:app"]

    def __enter__(self):
        OUT.mkdir(exist_ok=True)
        if self.env.get("REDIS_URL"):
            self._empty_redis()
        self.log = open(OUT / "server.log", "w")
        self._start(self.command())
        if self.env.get("REDIS_URL") and self.args.rq_worker:
            self._start([sys.executable, "worker.py"])
        Client(self.base).wait_ready(timeout=60, alive=lambda: self.processes[0].poll() is None)
        return self

    def _empty_redis(self) -> None:
        """Start from an empty Redis database (the bench's own): a job or a dispatch mark that the
        last run's stopped worker left behind would hold off outbox dispatching for up to five
        minutes (the mark's life), so some scenarios would be measured without that work."""
        import redis

        redis.Redis.from_url(self.env["REDIS_URL"]).flushdb()

    def _start(self, command: list[str]) -> None:
        self.processes.append(subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True))

    def __exit__(self, *exc):
        horses = [pid for process in self.processes for pid in children(process.pid)]
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)  # the group we started with start_new_session
                process.wait()
        for pid in horses:  # a work horse left mid-job (it has its own session): not after us
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.log.close()


def app_env(args, state: dict) -> dict:
    """Production mode: PostgreSQL, a secret key, Redis for jobs unless disabled."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "INSTANCE_PATH", "SQLALCHEMY_ECHO")}
    env.update(DATABASE_URL=state["database_url"], SECRET_KEY=secrets.token_hex(32),
               GUNICORN_WORKERS=str(args.workers), PYTHONUNBUFFERED="1",
               # One bench key sends thousands of requests a second: keep the limiter's cost
               # (it still counts every request) but not its 429s.
               API_RATE_LIMIT="10000000 per minute",
               # No worker recycling while measuring: a recycled worker's PostgreSQL backend
               # exits and takes its CPU count along. Recycling costs one 0.6 s boot per
               # GUNICORN_MAX_REQUESTS (10,000) requests per worker: under 0.1 ms a request.
               GUNICORN_MAX_REQUESTS="0")
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def background_cpu(seconds: float = 1.0) -> float:
    """Busy share of all cores while our server sits idle: what the rest of the machine is using."""
    before = machine_jiffies()
    time.sleep(seconds)
    return busy_percent(before, machine_jiffies())


def headers_for(scenario: Scenario, client: Client, state: dict) -> dict:
    headers = dict(scenario.headers)
    if scenario.auth in ("session", "csrf"):
        headers["Cookie"] = client.cookie_header()
    if scenario.auth == "csrf":
        headers["X-CSRFToken"] = client.csrf_token
    if scenario.auth == "api":
        headers["X-Api-Key"] = state["service"]["api_key"]
    return headers


def measure(scenario: Scenario, server: Server, client: Client, state: dict, args) -> dict:
    """Probe once, then warm up and measure with wrk; a 404/405 probe means 'not built yet'."""
    paths = scenario.paths(state)
    headers = headers_for(scenario, client, state)
    body = scenario.body(state) if scenario.body else None
    probe = client.request(scenario.method, paths[0], headers=headers, body=body)
    status = probe.status
    row = {"scenario": scenario.name, "method": scenario.method, "path": paths[0], "probe": status,
           "background_cpu": background_cpu()}
    if status in (404, 405):
        return {**row, "note": f"skipped: {status} on probe (not built yet)"}
    if (status == 401 or 300 <= status < 400) and "/login" in (probe.headers.get("Location") or "") + (
            probe.headers.get("HX-Redirect") or ""):
        return {**row, "note": f"skipped: {status} to /login on probe (session not accepted)"}
    lua = OUT / f"scenario-{scenario.name.replace(' ', '-').replace(':', '')}.lua"
    lua.write_text(wrk.script(scenario.method, paths, headers, body))
    if args.warmup:
        wrk.run(server.base, lua, threads=args.wrk_threads, connections=args.connections, duration=f"{args.warmup}s")
    meter = CpuMeter([process.pid for process in server.processes], state["database_url"])
    meter.start()
    result = wrk.run(server.base, lua, threads=args.wrk_threads, connections=args.connections, duration=args.duration)
    app_ms, db_ms = meter.stop()
    requests = max(result.requests, 1)
    cpu = {"app_cpu_ms": round(app_ms / requests, 2), "db_cpu_ms": round(db_ms / requests, 2),
           "capacity_rps": round((os.cpu_count() or 1) * 1000 / max((app_ms + db_ms) / requests, 0.001), 1)}
    return {**row, **asdict(result), **cpu, "note": "" if status < 300 else f"probe answered {status}"}


def run_size(args, size: int | None) -> dict:
    """Optionally (re)load the database, then serve and measure every selected scenario."""
    if size is not None:
        subprocess.run([sys.executable, str(BENCH / "load.py"), "--database-url", args.database_url,
                        "--state", str(args.state), "--tickets", str(size)], check=True)
    state = json.loads(args.state.read_text())
    print(header(args, state["tickets"]), flush=True)
    chosen = [s for s in SCENARIOS if not args.only or any(o.lower() in s.name.lower() for o in args.only)]
    rows = []
    with Server(args, app_env(args, state)) as server:
        client = Client(server.base)
        client.login(state["agent"], state["password"])
        for scenario in chosen:
            rows.append(measure(scenario, server, client, state, args))
            print(format_row(rows[-1]), flush=True)
    return {"tickets": state["tickets"], "rows": rows}


def format_row(row: dict) -> str:
    if "rps" not in row:
        return f"{row['scenario']:<24} {'-':>9} {'-':>8} {'-':>8} {'-':>8} {'-':>7}  {row['note']}"
    notes = [row["note"]] + [f"{count}× {code}" for code, count in sorted(row["statuses"].items())]
    if row["socket_errors"]:
        notes.append(f"{row['socket_errors']} socket errors")
    note = "; ".join(n for n in notes if n)
    return (f"{row['scenario']:<24} {row['rps']:>9,.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} "
            f"{row['non2xx']:>8} {row['background_cpu']:>6.0f}% {row['app_cpu_ms']:>7.2f} {row['db_cpu_ms']:>6.2f} "
            f"{row['capacity_rps']:>9,.0f}  {note}")


def header(args, tickets: int) -> str:
    threads = args.threads or "config default"
    return (f"\n== {tickets:,} tickets · gunicorn {args.workers} workers, threads {threads} · "
            f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration} · {os.cpu_count()} cores ==\n"
            f"{'scenario':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'bg cpu':>7} "
            f"{'app ms':>7} {'db ms':>6} {'capacity':>9}  note")


def comparison(sizes: list[dict]) -> str:
    """Side by side per scenario, with p50 at the largest size over p50 at the smallest."""
    first, last = sizes[0], sizes[-1]
    lines = [f"\n== p50 growth: {first['tickets']:,} -> {last['tickets']:,} tickets ==",
             f"{'scenario':<24} {'req/s small':>12} {'req/s large':>12} {'p50 small':>10} {'p50 large':>10} {'ratio':>6}"]
    for small, large in zip(first["rows"], last["rows"]):
        if "rps" in small and "rps" in large:
            ratio = large["p50_ms"] / small["p50_ms"] if small["p50_ms"] else float("nan")
            lines.append(f"{small['scenario']:<24} {small['rps']:>12,.1f} {large['rps']:>12,.1f} "
                         f"{small['p50_ms']:>10.2f} {large['p50_ms']:>10.2f} {ratio:>6.2f}")
    return "\n".join(lines)


def calibration_line(c: dict) -> str:
    return (f"machine: raw ticket+audit inserts {c['raw_inserts_per_s']:,}/s on 4 connections "
            f"(issue 9's reference machine: {c['reference_inserts_per_s']:,}/s, factor {c['machine_factor']}); "
            f"CPython loop {c['python_loop_s']} s")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(int(memory) / 1024 / 1024, 1),
            "python": platform.python_version(), "load_average": os.getloadavg()}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--tickets", type=lambda text: [int(n) for n in text.split(",")], default=None,
                        help="comma-separated sizes to load (fresh) and measure in turn, e.g. 10000,1000000")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=None, help="gunicorn threads per worker")
    parser.add_argument("--duration", default="15s", help="wrk -d (default 15s)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (0: none)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS,
                        help="a database the bench owns (emptied at each start); '' runs jobs in-process")
    parser.add_argument("--no-rq-worker", dest="rq_worker", action="store_false",
                        help="do not start worker.py beside gunicorn")
    parser.add_argument("--only", action="append", help="run scenarios whose name contains this (repeatable)")
    parser.add_argument("--sweep", action="store_true", help="then load due tickets and time `flask sweep`")
    parser.add_argument("--sweep-due", type=int, default=100_000)
    parser.add_argument("--no-calibrate", dest="calibrate", action="store_false",
                        help="skip measuring the machine against issue 9's raw-insert reference")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.database_url = psycopg_url(args.database_url)
    results = {"started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": machine(),
               "settings": {k: str(v) for k, v in vars(args).items()}, "sizes": []}
    for size in args.tickets or [None]:
        if size is None and not args.state.exists():
            sys.exit(f"{args.state} not found: run bench/load.py first, or pass --tickets N")
        results["sizes"].append(run_size(args, size))
    if len(results["sizes"]) > 1:
        print(comparison(results["sizes"]))
    if args.sweep:
        from timed_sweep import run_sweep

        results["sweep"] = run_sweep(args, app_env(args, json.loads(args.state.read_text())))
    if args.calibrate:  # after the loads: the bench database exists, and the machine is as measured
        results["calibration"] = calibrate(args.database_url)
        print("\n" + calibration_line(results["calibration"]), flush=True)
    path = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nresults in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
