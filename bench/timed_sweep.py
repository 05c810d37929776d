"""The auto-close sweep benchmark: add N due tickets, time `flask sweep`, report seconds and peak RSS."""
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def timed(command: list[str], env: dict, log) -> dict:
    """Wall time, exit code and peak RSS of one child, from its own rusage (wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(time.perf_counter() - started, 2), "exit": process.returncode,
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def due_count(url: str, days: int) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FROM ticket WHERE status = 'RESOLVED' AND resolved_at < now() - make_interval(days => %s)",
            (days,)).fetchone()[0]


def run_sweep(args, env: dict) -> dict:
    """Time the sweep over `args.sweep_due` freshly loaded due tickets, if the command exists yet."""
    out = BENCH / "out"
    with open(out / "sweep.log", "w") as log:
        idle = timed(FLASK + ["sweep", "--help"], env, log)  # loads the app: the memory baseline
        if idle["exit"] != 0:
            print("\nsweep: `flask sweep` is not available yet; nothing timed (see bench/out/sweep.log)")
            return {"available": False}
        days = int(env.get("AUTO_CLOSE_DAYS") or 14)
        # The loaded history already holds some overdue RESOLVED tickets (about 2 % of a load):
        # top them up to exactly `sweep_due`, the backlog issue 9's target names.
        missing = max(0, args.sweep_due - due_count(args.database_url, days))
        subprocess.run([sys.executable, str(BENCH / "load.py"), "--database-url", args.database_url,
                        "--state", str(args.state), "--append", "--tickets", "0",
                        "--sweep-due", str(missing)], check=True)
        before = due_count(args.database_url, days)
        result = timed(FLASK + ["sweep"], env, log)
        after = due_count(args.database_url, days)
    report = {"available": True, "due_before": before, "due_after": after, **result,
              "idle_app_rss_mb": idle["peak_rss_mb"]}
    print(f"\nsweep: {before - after:,} of {before:,} due tickets closed in {result['seconds']:.2f}s "
          f"(exit {result['exit']}); peak RSS {result['peak_rss_mb']:.0f} MB "
          f"vs {idle['peak_rss_mb']:.0f} MB for the idle app")
    return report
