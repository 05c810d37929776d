"""How fast is this machine, measured the way issue 9 gives its reference figure.

    .venv/bin/python bench/calibrate.py            # raw insert rate on 4 connections + CPython score

The issue's targets are absolute req/s "on this 2-core machine", and it gives one figure to
compare machines by: a raw psycopg insert of a ticket plus its audit row, committed each time,
reaches about 3,300/s on 4 connections. This script measures exactly that (in scratch tables it
drops afterwards, inside the bench database), plus a pure-CPython loop, so a results table can
say how this machine compares with the one the targets were set on.
"""
import argparse
import json
import multiprocessing
import time

import psycopg

from load import DEFAULT_URL, psycopg_url

REFERENCE_INSERTS = 3300  # issue 9's figure for the machine its targets were set on
SCRATCH = """
DROP TABLE IF EXISTS calib_audit, calib_ticket;
CREATE TABLE calib_ticket (
    id bigserial PRIMARY KEY, display_id varchar(10) NOT NULL UNIQUE, title varchar(200) NOT NULL,
    severity smallint NOT NULL, status varchar(16) NOT NULL, created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL);
CREATE TABLE calib_audit (
    id bigserial PRIMARY KEY, ticket_id bigint NOT NULL REFERENCES calib_ticket (id),
    action varchar(32) NOT NULL, after jsonb, created_at timestamptz NOT NULL);
CREATE INDEX ON calib_audit (ticket_id, id);
"""


def _inserter(url: str, seconds: float, seed: int, counts) -> None:
    """One connection inserting ticket + audit row, one commit each, until time is up."""
    with psycopg.connect(url) as conn:
        done, deadline, serial = 0, time.perf_counter() + seconds, seed * 10_000_000
        while time.perf_counter() < deadline:
            serial += 1
            with conn.transaction():
                ticket_id = conn.execute(
                    "INSERT INTO calib_ticket (display_id, title, severity, status, created_at, updated_at)"
                    " VALUES (%s, %s, 5, 'OPEN', now(), now()) RETURNING id",
                    (f"V{serial:09d}", "[Plex] Backup - 2026-03-30T02:00:00")).fetchone()[0]
                conn.execute("INSERT INTO calib_audit (ticket_id, action, after, created_at)"
                             " VALUES (%s, 'create', %s, now())", (ticket_id, '{"severity": 5}'))
            done += 1
        counts[seed] = done


def raw_inserts(url: str, connections: int = 4, seconds: float = 5.0) -> float:
    """Inserts per second over `connections` processes (no GIL between them), as issue 9 measured."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCRATCH)
    try:
        counts = multiprocessing.Manager().dict()
        workers = [multiprocessing.Process(target=_inserter, args=(url, seconds, n, counts))
                   for n in range(connections)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return sum(counts.values()) / seconds
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS calib_audit, calib_ticket")


def python_loop_seconds(n: int = 10_000_000) -> float:
    """Best of three: a loop of additions in CPython (single core speed, nothing else)."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def calibrate(url: str) -> dict:
    inserts = raw_inserts(psycopg_url(url))
    return {"raw_inserts_per_s": round(inserts), "reference_inserts_per_s": REFERENCE_INSERTS,
            "machine_factor": round(inserts / REFERENCE_INSERTS, 2),
            "python_loop_s": round(python_loop_seconds(), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    print(json.dumps(calibrate(parser.parse_args().database_url), indent=2))


if __name__ == "__main__":
    main()
