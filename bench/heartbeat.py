"""What the job heartbeat costs the worker: one `job_run` upsert per finished job, in-process.

    .venv/bin/python bench/heartbeat.py                 # on the database bench/load.py made
    .venv/bin/python bench/heartbeat.py --runs 5000

Times, on one connection, N runs of (a) `services.job_runs.record` alone, (b) the outbox dispatch
job with nothing to send (the worker's most frequent run: one after every burst of commits) with
its heartbeat, as the worker runs it (`webapp.jobs.app_job`), and (c) the same dispatch without the
heartbeat (the wrapped function called directly). Prints mean wall and this process's CPU per run
and the heartbeat's share. Only 127.0.0.1 is contacted.
"""
import argparse
import json
import secrets
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from run import DEFAULT_STATE  # noqa: E402


def timed(label: str, runs: int, action) -> tuple[float, float]:
    for _ in range(min(200, runs)):
        action()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(runs):
        action()
    wall, cpu = (time.perf_counter() - wall) / runs * 1000, (time.process_time() - cpu) / runs * 1000
    print(f"{label:52s} {wall:7.3f} ms wall {cpu:7.3f} ms CPU a run")
    return wall, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args(argv)
    state = json.loads(args.state.read_text())
    from webapp import create_app
    from webapp.jobs import tasks
    from webapp.services import job_runs

    app = create_app({"SQLALCHEMY_DATABASE_URI": state["database_url"].replace("postgresql://", "postgresql+psycopg://"),
                      "SECRET_KEY": secrets.token_hex(32), "REDIS_URL": None, "EMBEDDED_SCHEDULER": False})
    with app.app_context():
        record = timed("heartbeat alone (job_runs.record)", args.runs,
                       lambda: job_runs.record("bench_heartbeat", ok=True, result=0, duration_ms=1))
        beating = timed("empty outbox dispatch, with its heartbeat", args.runs, tasks.dispatch_outbox)
        bare = timed("empty outbox dispatch, without", args.runs, tasks.dispatch_outbox.__wrapped__)
    print(f"heartbeat share of an empty dispatch run: {(beating[0] - bare[0]) / beating[0] * 100:.0f} % of its wall time, "
          f"{(beating[1] - bare[1]) / beating[1] * 100:.0f} % of its CPU; alone {record[0]:.3f} ms wall, {record[1]:.3f} ms CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
