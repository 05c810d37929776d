"""Live pages under load: many open dashboards and ticket pages polling with their ETags.

    .venv/bin/python bench/live.py                      # 200 dashboards + 50 ticket pages, 60 s idle
    .venv/bin/python bench/live.py --dashboards 400 --seconds 30

Serves the app as bench/run.py does (gunicorn, the production settings, an RQ worker, on the
database bench/load.py made), opens the pages once each to get their ETags, then polls them as
static/js/live.js does (a conditional GET every POLL seconds, start times spread over one interval).
Phase 1, idle: nothing changes; reports the CPU of gunicorn, the worker and the PostgreSQL backends
as a share of one core, and the answers (all should be 304). Phase 2: one API call changes each
watched ticket; reports how long until every page got its 200 (the change reaching it).
Only 127.0.0.1 is ever contacted.
"""
import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from client import Client  # noqa: E402
from cpu import CpuMeter  # noqa: E402
from run import DEFAULT_REDIS, DEFAULT_STATE, Server, app_env  # noqa: E402


class Watcher(threading.Thread):
    """One open page: a conditional GET every `every` seconds on one kept-alive connection, as a
    browser sends them (gunicorn keeps it open for GUNICORN_KEEPALIVE, 5 s); notes each 200 after
    `changed_at`."""

    def __init__(self, client: Client, path: str, headers: dict, etag: str, every: float, stop: threading.Event):
        super().__init__(daemon=True)
        self.client, self.path, self.headers, self.etag, self.every, self.stop = \
            client, path, headers, etag, every, stop
        self.answers: Counter = Counter()
        self.changed_at: float | None = None
        self.reached: float | None = None

    def run(self) -> None:
        time.sleep(random.uniform(0, self.every))
        conn = None
        while not self.stop.is_set():
            conn = conn or http.client.HTTPConnection("127.0.0.1", self.client.port, timeout=30)
            try:
                conn.request("GET", self.path, headers={**self.headers, "If-None-Match": self.etag})
                answer = conn.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None  # the server closed the kept-alive connection: open another, as a browser does
                self.stop.wait(0.05)
                continue
            self.answers[answer.status] += 1
            self.etag = answer.headers.get("ETag", self.etag)
            if answer.status == 200:
                if self.changed_at is not None and self.reached is None:
                    self.reached = time.monotonic() - self.changed_at
            self.stop.wait(self.every)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--dashboards", type=int, default=200)
    parser.add_argument("--ticket-pages", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=10, help="distinct tickets the ticket pages show")
    parser.add_argument("--poll", type=float, default=4.0, help="seconds between a page's polls (live.js: 4)")
    parser.add_argument("--seconds", type=float, default=60.0, help="idle phase length")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)
    args.threads, args.port, args.rq_worker = None, 0, True
    state = json.loads(args.state.read_text())
    with Server(args, app_env(args, state)) as server:
        client = Client(server.base)
        client.login(state["agent"], state["password"])
        cookie = {"Cookie": client.cookie_header()}
        tickets = state["page_tickets"][:args.tickets]
        paths = ["/"] * args.dashboards + [f"/tickets/{tickets[n % len(tickets)]}" for n in range(args.ticket_pages)]
        stop = threading.Event()
        watchers = []
        for path in paths:
            first = client.request("GET", path, headers=cookie)
            watchers.append(Watcher(Client(server.base), path, {**cookie, "X-Presence": "viewing"},
                                    first.headers.get("ETag", ""), args.poll, stop))
        meter = CpuMeter([p.pid for p in server.processes], state["database_url"])
        for watcher in watchers:
            watcher.start()
        time.sleep(args.poll + 1)  # every page has polled once: presence settled
        for watcher in watchers:
            watcher.answers.clear()
        meter.start()
        started = time.monotonic()
        time.sleep(args.seconds)
        app_ms, db_ms = meter.stop()
        elapsed = time.monotonic() - started
        idle = Counter()
        for watcher in watchers:
            idle.update(watcher.answers)
        core_pct = (app_ms + db_ms) / (elapsed * 1000) * 100
        polls = sum(idle.values())
        print(f"{args.dashboards} dashboards + {args.ticket_pages} ticket pages ({len(tickets)} tickets), "
              f"a poll every {args.poll:g} s, {elapsed:.0f} s idle")
        print(f"idle: {polls} polls ({polls / elapsed:.1f}/s), answers {dict(idle)}; CPU app {app_ms:.0f} ms + "
              f"db {db_ms:.0f} ms = {core_pct:.1f} % of one core ({(app_ms + db_ms) / max(polls, 1):.2f} ms a poll)")
        api = {"X-Api-Key": state["service"]["api_key"], "Content-Type": "application/json"}
        changed_at = time.monotonic()
        for watcher in watchers:
            watcher.changed_at = changed_at
        for display_id in tickets:
            body = json.dumps({"body": "live bench: a change every open page must see"})
            answer = client.request("POST", f"/api/tickets/{display_id}/comments", headers=api, body=body)
            if answer.status != 201:
                raise SystemExit(f"the change failed: {answer.status} {answer.body[:200]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(w.reached is None for w in watchers):
            time.sleep(0.1)
        stop.set()
        reached = sorted(w.reached for w in watchers if w.reached is not None)
        missing = len(watchers) - len(reached)
        if reached:
            print(f"change: reached {len(reached)}/{len(watchers)} pages; p50 {reached[len(reached) // 2]:.2f} s, "
                  f"max {reached[-1]:.2f} s{f'; {missing} never within 30 s' if missing else ''}")
        else:
            print("change: reached no page within 30 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
