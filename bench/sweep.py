"""Measure the auto-close sweep on many due tickets: its time, or (--memory) its peak Python memory.

    .venv/bin/python bench/sweep.py [--tickets 100000] [--memory] [--database-url postgresql://…/scratch]

Without --database-url it uses a throwaway SQLite file. The database must be empty or disposable:
the script migrates it and fills it with RESOLVED tickets dated 30 days back. Only the sweep is
measured: the after-commit outbox dispatch it requests is counted, not run (the worker does that).
tracemalloc slows Python down several times, so --memory runs report memory, not speed.
"""
import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402

from webapp import create_app, jobs  # noqa: E402
from webapp.extensions import db  # noqa: E402
from webapp.models import AuditEvent, Category, CtiType, Item, Role, Status, Ticket, User  # noqa: E402
from webapp.services import sweep  # noqa: E402
from webapp.db.utc import utcnow  # noqa: E402

CHUNK = 5000


def fill(count: int) -> None:
    """Insert `count` RESOLVED tickets, resolved 30 days ago, straight through Core (fast)."""
    user = User(username="bench", display_name="Bench", role=Role.SERVICE, active=True)
    user.issue_api_key()
    item = Item(type=CtiType(category=Category(name="Bench"), name="Bench"), name="Bench")
    db.session.add_all([user, item])
    db.session.commit()
    resolved = utcnow() - timedelta(days=30)
    for start in range(0, count, CHUNK):
        rows = [
            {"display_id": f"V{n:09d}", "title": f"Bench ticket {n}", "overview": "", "severity": 5,
             "status": Status.RESOLVED, "category_id": item.type.category_id, "type_id": item.type_id,
             "item_id": item.id, "creator_id": user.id, "created_at": resolved, "updated_at": resolved,
             "resolved_at": resolved, "version": 1}
            for n in range(start, min(start + CHUNK, count))
        ]
        db.session.execute(sa.insert(Ticket.__table__), rows)
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--memory", action="store_true", help="trace peak memory (slow)")
    args = parser.parse_args()
    requested = []
    jobs.enqueue = lambda *job: requested.append(job)
    instance = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    url = args.database_url or f"sqlite:///{instance / 'bench.db'}"
    app = create_app({"ENV_VARS": {"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance)},
                      "JOBS_INLINE": True, "EMBEDDED_SCHEDULER": False})
    with app.app_context():
        upgrade()
        fill(args.tickets)
        if args.memory:
            tracemalloc.start()
        started = time.perf_counter()
        closed = sweep.auto_close()
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if args.memory else None
        audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action="auto_close"))
        dialect = db.engine.dialect.name
    measured = f"peak traced memory {peak / 1e6:.1f} MB" if args.memory else f"in {elapsed:.1f} s"
    print(f"{dialect}: closed {closed} tickets ({audited} auto_close audit rows, "
          f"{len(requested)} dispatch requests) {measured}; batch size {sweep.BATCH_SIZE}")


if __name__ == "__main__":
    main()
