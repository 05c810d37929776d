"""Time a bulk status change of 10,000 tickets on PostgreSQL, every audit and outbox row written.

    .venv/bin/python bench/bulk.py --load 100000          # make the bench database (bench/load.py), then time
    .venv/bin/python bench/bulk.py                        # time again on the database already loaded
    .venv/bin/python bench/bulk.py --workers 1 --tickets 2000
    .venv/bin/python bench/bulk.py --mode inline --tickets 100

It picks `--tickets` OPEN tickets in queue order and moves them to IN_PROGRESS through the bulk
service, in-process: `--mode job` (the default) as a job over their display ids, claimed and run as
the worker runs it (webapp.services.bulk_jobs.run_job, `--workers` connections side by side);
`--mode inline` as a request changes a few listed tickets (bulk_jobs.change_now: one connection).
It prints the seconds, this process's CPU seconds, the rows written (one `status` audit event and
one outbox row per ticket), the SQL statements sent, the outbox dispatches asked for (counted, not
run: the worker does that) and this process's RSS before, after each chunk and after. Each run
moves other tickets (those it moved are no longer OPEN); the loader's mix keeps 40 % of tickets OPEN.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from webapp import create_app, jobs  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import AuditEvent, BulkJobItem, OutboxEvent, Ticket, User  # noqa: E402
from webapp.services import bulk, bulk_jobs  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketing_bench_bulk"  # not the HTTP benchmarks' database
STATE = BENCH / "out" / "state-bulk.json"


def rss_mb() -> float:
    """This process's resident set now, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def open_tickets(limit: int) -> list[str]:
    """The first `limit` OPEN tickets in queue order (SEV 1 first, then oldest)."""
    query = (sa.select(Ticket.display_id).where(Ticket.status == "OPEN")
             .order_by(Ticket.severity, Ticket.created_at, Ticket.id).limit(limit))
    return list(db.session.scalars(query))


def sample_rss_per_chunk(samples: list[float]) -> None:
    """Note the RSS each time a chunk of tickets has been loaded (both modes load one per chunk)."""
    load = bulk_jobs.load_targets

    def loaded(chunk):
        samples.append(rss_mb())
        return load(chunk)

    bulk_jobs.load_targets = loaded


def run(args) -> dict:
    dispatches = []
    jobs.enqueue = lambda *job: dispatches.append(job)  # the worker's part; not measured here
    app = create_app({"ENV_VARS": {"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-bulk"},
                      "EMBEDDED_SCHEDULER": False})
    with app.app_context():
        actor = db.session.scalar(sa.select(User).filter_by(username="agent01"))
        refs = open_tickets(args.tickets)
        before = {"events": count(AuditEvent), "outbox": count(OutboxEvent)}
        changes = bulk.clean_changes({"status": "IN_PROGRESS"})
        targets = [bulk.Target(ref) for ref in refs]
        db.session.commit()
        samples: list[float] = []
        sample_rss_per_chunk(samples)
        statements = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *_: statements.append(1))
        rss_before = rss_mb()
        started, cpu_started = time.perf_counter(), time.process_time()
        if args.mode == "inline":  # one transaction per chunk, one after the other, in this session
            job, outcome = bulk_jobs.change_now(actor, changes, targets)
            updated, failed = len(outcome.updated), len(outcome.failed)
        else:
            job = bulk_jobs.start_job(actor, changes, targets=targets, enqueue=False)
            job = bulk_jobs.run_job(job.id, workers=args.workers)
            updated, failed = job.done - job.failed, job.failed
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rss_after = rss_mb()
        written = {"events": count(AuditEvent) - before["events"], "outbox": count(OutboxEvent) - before["outbox"]}
        items = count(BulkJobItem)
    return {"mode": args.mode, "tickets": len(refs), "updated": updated, "failed": failed, "seconds": seconds, "cpu": cpu,
            "written": written, "dispatches": len(dispatches), "rss": (rss_before, samples, rss_after),
            "job_items_in_db": items, "statements": len(statements)}


def report(result: dict) -> None:
    if not result["tickets"]:
        sys.exit("no OPEN tickets left to move: load the database again (--load N)")
    before, samples, after = result["rss"]
    tenth = samples[len(samples) // 10:] or samples
    print(f"{result['mode']}: {result['updated']:,} of {result['tickets']:,} tickets moved to IN_PROGRESS "
          f"({result['failed']} refused) in {result['seconds']:.2f} s "
          f"({result['tickets'] / result['seconds']:,.0f} tickets/s; this process's CPU {result['cpu']:.2f} s); "
          f"chunk size {bulk.CHUNK_SIZE}, {result['workers']} worker(s)")
    print(f"written: {result['written']['events']:,} audit events, {result['written']['outbox']:,} outbox rows; "
          f"{result['dispatches']} outbox dispatches asked for; {result['statements']:,} SQL statements")
    print(f"RSS: {before:.0f} MB before, {min(tenth):.0f}–{max(tenth):.0f} MB over chunks "
          f"{len(samples) // 10 + 1}–{len(samples)} (first chunk {samples[0]:.0f} MB), {after:.0f} MB after")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--load", type=int, metavar="N", help="first (re)make the database with N tickets (bench/load.py)")
    parser.add_argument("--tickets", type=int, default=bulk.BULK_MAX, help="tickets to change (default 10000)")
    parser.add_argument("--mode", choices=("job", "inline"), default="job")
    parser.add_argument("--workers", type=int, default=3, help="connections the job changes chunks on (default 3)")
    args = parser.parse_args()
    if args.load is not None:
        subprocess.run([sys.executable, str(BENCH / "load.py"), "--database-url", args.database_url,
                        "--tickets", str(args.load), "--state", str(STATE)], check=True)
    result = run(args)
    result["workers"] = args.workers if args.mode == "job" else 1
    report(result)


if __name__ == "__main__":
    main()
