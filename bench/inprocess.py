"""Where a request's time goes, in-process: mean wall time, SQL statements and a cProfile summary.

    .venv/bin/python bench/inprocess.py                    # every route below, 200 requests each
    .venv/bin/python bench/inprocess.py --only "API create" --cprofile 25

A tool for finding per-request overhead, not a benchmark: no network, no gunicorn, one thread.
It uses the database and state bench/load.py made, with the production configuration.
"""
import argparse
import cProfile
import json
import os
import pstats
import re
import secrets
import sys
import time
from pathlib import Path

from sqlalchemy import event

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

from run import SCENARIOS  # noqa: E402  (the same routes the wrk runner measures)


def build_app(state: dict, redis_url: str):
    os.environ.update({
        "DATABASE_URL": state["database_url"], "SECRET_KEY": secrets.token_hex(32),
        "REDIS_URL": redis_url, "API_RATE_LIMIT": "1000000 per minute", "LOG_LEVEL": "warning",
    })
    if not redis_url:
        os.environ.pop("REDIS_URL")
    from webapp import create_app

    # Plain http like the wrk runner: with https the test client would need a Referer for CSRF.
    return create_app({"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False, "PREFERRED_URL_SCHEME": "http"})


def sign_in(client, state: dict) -> str:
    token = CSRF_INPUT.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": state["agent"], "password": state["password"],
                                           "csrf_token": token})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:3000]
    return CSRF_META.search(client.get("/").get_data(as_text=True)).group(1)


def request_args(scenario, state: dict, csrf: str, api_key: str, index: int) -> dict:
    paths = scenario.paths(state)
    headers = dict(scenario.headers)
    if scenario.auth == "api":
        headers["X-Api-Key"] = api_key
    if scenario.auth == "csrf":
        headers["X-CSRFToken"] = csrf
    body = scenario.body(state) if scenario.body else None
    return {"method": scenario.method, "path": paths[index % len(paths)], "headers": headers, "data": body}


def measure(app, client, scenario, state, csrf, count: int, profile: int) -> None:
    statements = []
    engine = None
    with app.app_context():
        from webapp.extensions import db

        engine = db.engine
    listener = lambda *args: statements.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    api_key = state["service"]["api_key"]
    first = client.open(**request_args(scenario, state, csrf, api_key, 0))
    statements.clear()
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for index in range(count):
        client.open(**request_args(scenario, state, csrf, api_key, index + 1))
    if profiler:
        profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    event.remove(engine, "before_cursor_execute", listener)
    print(f"{scenario.name:<24} {first.status_code}  {elapsed / count * 1000:7.2f} ms/request"
          f"  {cpu / count * 1000:7.2f} ms CPU  {len(statements) / count:5.1f} statements/request")
    if profiler:
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "tottime"))
        stats.print_stats(profile)
        if os.environ.get("CALLERS"):
            stats.print_callers(os.environ["CALLERS"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", default=str(BENCH / "out" / "state.json"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--only", action="append", help="scenario name (repeatable)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N costliest functions")
    args = parser.parse_args()
    state = json.loads(Path(args.state).read_text())
    app = build_app(state, args.redis_url)
    client = app.test_client()
    client.environ_base.update({"HTTP_REFERER": "https://localhost/", "wsgi.url_scheme": "https"})
    csrf = sign_in(client, state)
    for scenario in SCENARIOS:
        if not args.only or scenario.name in args.only:
            measure(app, client, scenario, state, csrf, args.count, args.cprofile)


if __name__ == "__main__":
    main()
