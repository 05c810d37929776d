"""Each background job's last run, kept in `job_run`: the heartbeat of the worker and cron processes.

A job that finishes (ok or not) upserts its row in a transaction of its own, after its work
committed or rolled back, so a heartbeat never holds up or undoes the work it reports. The table
has one row per job name, so reading every heartbeat is one small scan whatever the load.
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..db.utc import utcnow
from ..extensions import db
from ..models import JobRun

_TABLE = JobRun.__table__


def record(name: str, *, ok: bool, result: int | None, duration_ms: int, now: datetime | None = None) -> None:
    """Note that job `name` just finished; `result` is its count (closed, sent, ...) when it returns one."""
    now = now or utcnow()
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    values = {"name": name, "finished_at": now, "ok": ok, "result": result, "duration_ms": duration_ms,
              "last_ok_at": now if ok else None}
    statement = dialect.insert(_TABLE).values(values)
    changes = {column: statement.excluded[column] for column in ("finished_at", "ok", "result", "duration_ms")}
    # a failed run keeps the time of the last good one: "failing since" is what an operator needs
    changes["last_ok_at"] = sa.func.coalesce(statement.excluded.last_ok_at, _TABLE.c.last_ok_at)
    db.session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=changes))
    db.session.commit()


def latest() -> dict[str, JobRun]:
    """Every job's last run, by name."""
    return {run.name: run for run in db.session.scalars(sa.select(JobRun))}
