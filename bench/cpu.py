"""CPU time our processes spend, so a scenario's cost per request survives a busy machine.

req/s on a shared machine depends on what the neighbours run; CPU milliseconds per request
(gunicorn and its workers, the RQ worker, and the PostgreSQL backends serving the bench
database) do not, and `cores × 1000 / cpu_ms` is the rate the machine could sustain alone.
"""
import os
from pathlib import Path

import psycopg

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on; the name may hold spaces


def children(root: int) -> list[int]:
    """Live processes whose parent is `root` (RQ's work horses start sessions of their own)."""
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and (fields := _stat(int(entry.name))) and int(fields[1]) == root]


def tree_ms(root: int) -> float:
    """CPU of `root`, of its live children, and of children it has reaped (cutime/cstime)."""
    fields = _stat(root)
    if fields is None:
        return 0.0
    ticks = sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    for pid in children(root):
        if child := _stat(pid):
            ticks += int(child[11]) + int(child[12])
    return ticks * TICK_MS


def backends_ms(database_url: str) -> float:
    """CPU of the client backends serving the bench database (not autovacuum, not this query)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'")]
    total = 0
    for pid in pids:
        fields = _stat(pid)
        total += int(fields[11]) + int(fields[12]) if fields else 0
    return total * TICK_MS


class CpuMeter:
    """app_ms and db_ms spent between start() and stop()."""

    def __init__(self, roots: list[int], database_url: str):
        self.roots, self.database_url = roots, database_url

    def sample(self) -> tuple[float, float]:
        return sum(tree_ms(pid) for pid in self.roots), backends_ms(self.database_url)

    def start(self) -> None:
        self.before = self.sample()

    def stop(self) -> tuple[float, float]:
        after = self.sample()
        return after[0] - self.before[0], after[1] - self.before[1]
