"""Bulk changes as jobs: a bulk_job row holds who asked what of which tickets and how far it got, so
its progress survives a reload and its work survives a restarted worker.

A runner takes a job by writing a fresh lease. It reads the selection a chunk at a time (the
listed display ids, or the filter's matches page by page in queue order, by keyset), and every
chunk commits its tickets' changes, one bulk_job_item per ticket and the job's counts in one
transaction, guarded by that lease. A runner that dies leaves its last commits behind:
`resume_stale` hands the job to a new runner, which reads the selection again and skips every
ticket the job already has an item for. On PostgreSQL `workers` connections change chunks side
by side while one reads the selection ahead of them.
"""
import logging
import queue
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import MultiDict

from ..db.execute import DEFER_KEY
from ..db.sql import asks_for_retry
from ..db.utc import utcnow
from ..extensions import db
from ..models import BulkJob, BulkJobItem, BulkStatus, User
from . import report_rollups
from .base import after_commit, commit, get_or_404, rollback, transaction
from .bulk import (BULK_MAX, CHUNK_SIZE, Changes, Failure, Outcome, Picked, Target, apply_picked, check_size,
                   load_ids, load_targets, split_repeats)
from .errors import ValidationError
from .listing import FILTER_ARGS, ListFilter, count_capped, list_page

log = logging.getLogger(__name__)
CHUNK_ATTEMPTS = 5  # a chunk the database refused for a deadlock runs again, up to this many times in all
RUN_JOB = "webapp.jobs.tasks.run_bulk_job"  # by dotted path: jobs import services, never the reverse
STALE_AFTER = timedelta(minutes=2)  # a running job without a heartbeat for this long lost its runner
MAX_ATTEMPTS = 5
PARSERS = {"api": ListFilter.from_api_args, "web": ListFilter.from_web_args}
_DONE = object()  # the end of the chunks handed to the worker threads


class LeaseLost(Exception):
    """Another runner took the job over (this one was presumed dead): stop without committing."""


def parse_filter(args: dict, source: str) -> ListFilter:
    """The filter a job's arguments ({name: [values]}) stand for, read as the list it came from reads it."""
    unknown = sorted(set(args) - FILTER_ARGS)
    if unknown:
        raise ValidationError({name: f"Unknown filter; use {', '.join(sorted(FILTER_ARGS))}." for name in unknown})
    return PARSERS[source](MultiDict(args))


def start_job(actor: User, changes: Changes, *, targets: list[Target] | None = None,
              filter_args: dict | None = None, source: str = "api", enqueue: bool = True) -> BulkJob:
    """Record a bulk change of `targets`, or of every ticket `filter_args` match, to be run by a job
    (queued once this commits, unless `enqueue` is False: then the caller runs it)."""
    job = BulkJob(actor_id=actor.id, changes=changes.as_json(), status=BulkStatus.QUEUED, created_at=utcnow())
    if targets is not None:
        check_size(len(targets))
        job.targets, job.total = [[target.ref, target.version] for target in targets], len(targets)
    else:
        matching = count_capped(parse_filter(filter_args, source), actor, BULK_MAX + 1)
        if matching > BULK_MAX:
            raise ValidationError({"filter": (
                f"More than {BULK_MAX:,} tickets match; narrow the filter (a bulk change takes at most {BULK_MAX:,}).")})
        job.filter_args, job.filter_source, job.total = filter_args, source, matching
    db.session.add(job)
    db.session.flush()
    if enqueue:
        after_commit(RUN_JOB, job.id)
    commit()
    return job


def change_now(actor: User, changes: Changes, targets: list[Target]) -> tuple[BulkJob, Outcome]:
    """A few listed tickets changed before the caller answers, kept as a job like any other."""
    job = start_job(actor, changes, targets=targets, enqueue=False)
    run_job(job.id)
    return job, job_outcome(job)


def get_job(viewer: User, job_id) -> BulkJob:
    """A job its viewer may see: their own, or any for an admin (others' are not found)."""
    return get_or_404(BulkJob, job_id, f"No bulk change {job_id}.",
                      accept=lambda job: viewer.is_admin or job.actor_id == viewer.id)


def job_outcome(job: BulkJob) -> Outcome:
    """The job's results so far, in the order its tickets were tried."""
    outcome = Outcome()
    rows = db.session.execute(sa.select(BulkJobItem.ref, BulkJobItem.error)
                              .where(BulkJobItem.job_id == job.id).order_by(BulkJobItem.id))
    for ref, error in rows:
        outcome.add(ref, Failure.from_json(ref, error) if error else None)
    return outcome


def claim(job_id: int, as_of: datetime | None = None) -> str | None:
    """Take the job for this runner if it waits, or if its runner stopped beating; the new lease, or None."""
    now, lease = as_of or utcnow(), secrets.token_hex(16)
    waiting = sa.or_(BulkJob.status == BulkStatus.QUEUED,
                     sa.and_(BulkJob.status == BulkStatus.RUNNING, BulkJob.heartbeat_at < now - STALE_AFTER))
    taken = db.session.execute(
        sa.update(BulkJob).where(BulkJob.id == job_id, waiting, BulkJob.attempts < MAX_ATTEMPTS)
        .values(status=BulkStatus.RUNNING, lease=lease, heartbeat_at=now, attempts=BulkJob.attempts + 1,
                started_at=sa.func.coalesce(BulkJob.started_at, now))
        .execution_options(synchronize_session=False)).rowcount
    commit()
    return lease if taken == 1 else None


def resume_stale(as_of: datetime | None = None) -> list[int]:
    """Jobs whose runner is gone (or that never got one) and may run again; gives up on the worn out."""
    now = as_of or utcnow()
    stale = now - STALE_AFTER
    lost = sa.or_(sa.and_(BulkJob.status == BulkStatus.QUEUED, BulkJob.created_at < stale),
                  sa.and_(BulkJob.status == BulkStatus.RUNNING, BulkJob.heartbeat_at < stale))
    db.session.execute(
        sa.update(BulkJob).where(lost, BulkJob.attempts >= MAX_ATTEMPTS)
        .values(status=BulkStatus.ERROR, finished_at=now, lease=None,
                error=f"Stopped after {MAX_ATTEMPTS} attempts; the tickets listed were done.")
        .execution_options(synchronize_session=False))
    ids = list(db.session.scalars(sa.select(BulkJob.id).where(lost).order_by(BulkJob.id)))
    commit()
    return ids


def run_job(job_id: int, as_of: datetime | None = None, workers: int = 1) -> BulkJob | None:
    """Run a job, skipping what earlier runs did; None if another runner holds it (or it is done).
    `workers` > 1 (PostgreSQL, outside a larger transaction): that many connections change chunks."""
    lease = claim(job_id, as_of)
    if lease is None:
        return None
    runner = _Runner(db.session.get(BulkJob, job_id), lease)
    side_by_side = workers > 1 and db.session.get_bind().dialect.name == "postgresql" \
        and not db.session.info.get(DEFER_KEY)
    try:
        runner.run_in_parallel(workers) if side_by_side else runner.run()
        runner.finish()
    except LeaseLost:
        log.warning("bulk job %s was taken over by another runner; this one stops", job_id)
        return None
    except Exception as exc:
        rollback()
        log.exception("bulk job %s failed", job_id)
        runner.fail(exc)
    return db.session.get(BulkJob, job_id)


class _Runner:
    """One runner's pass over a job: reads its selection a chunk at a time and commits each chunk."""

    def __init__(self, job: BulkJob, lease: str):
        self.job_id, self.lease, self.actor_id = job.id, lease, job.actor_id
        self.changes = Changes.from_json(job.changes)
        targets = [Target(ref, version) for ref, version in job.targets] if job.targets is not None else None
        self.targets, self.repeats = split_repeats(targets) if targets is not None else (None, [])
        self.filters = parse_filter(job.filter_args, job.filter_source) if targets is None else None

    def chunks(self) -> Iterator[list]:
        """The selection a chunk at a time: Targets, or a filter page's (id, display id) pairs."""
        if self.targets is not None:
            for start in range(0, len(self.targets), CHUNK_SIZE):
                yield self.targets[start:start + CHUNK_SIZE]
            return
        cursor, read = None, 0
        while read < BULK_MAX:
            page = list_page(self.filters, db.session.get(User, self.actor_id), after=cursor,
                             limit=min(CHUNK_SIZE, BULK_MAX - read))
            if not db.session.info.get(DEFER_KEY):
                db.session.rollback()  # a read only: hold no snapshot open while the chunk is changed
            if page.items:
                yield [(row.id, row.display_id) for row in page.items]
            read, cursor = read + len(page.items), page.next_cursor
            if cursor is None:
                return

    def run(self) -> None:
        for chunk in self.chunks():
            self.change(chunk)

    def run_in_parallel(self, workers: int) -> None:
        """This thread reads the selection; `workers` threads (sessions of their own) change its chunks.

        Reading ahead is safe: a ticket a chunk moves later in queue order only shows up on a
        later page once that chunk has committed, its items with it, so it is skipped there.
        """
        app, chunks, failures = current_app._get_current_object(), queue.Queue(maxsize=workers), queue.Queue()

        def work() -> None:
            with app.app_context():
                while (chunk := chunks.get()) is not _DONE:
                    try:
                        if failures.empty():
                            self.change(chunk)
                    except BaseException as exc:  # handed to the reading thread, which raises it
                        failures.put(exc)

        threads = [threading.Thread(target=work, name=f"bulk-{self.job_id}-{n}", daemon=True) for n in range(workers)]
        for thread in threads:
            thread.start()
        try:
            for chunk in self.chunks():
                if not failures.empty():
                    break
                chunks.put(chunk)
        finally:
            for _ in threads:
                chunks.put(_DONE)
            for thread in threads:
                thread.join()
        if not failures.empty():
            raise failures.get()

    def change(self, chunk: list) -> None:
        """One chunk in one transaction: its tickets changed, an item for each, the job's counts.
        Its report rollup deltas are summed and written last, in key order (report_rollups.deferred),
        so chunks changed side by side do not deadlock on them; should the database still refuse a
        chunk for crossing another transaction, the chunk runs again."""
        for attempt in range(1, CHUNK_ATTEMPTS + 1):
            try:
                with transaction():
                    actor = db.session.get(User, self.actor_id)
                    picked = self._not_done(self._load(chunk))
                    with report_rollups.deferred():
                        results = [_item(one, failure) for one, failure in apply_picked(actor, picked, self.changes)]
                    self._count(results)
                return
            except sa.exc.DBAPIError as exc:
                if not asks_for_retry(exc) or attempt == CHUNK_ATTEMPTS:
                    raise
                log.info("bulk job %s: a chunk crossed another transaction (%s); attempt %d of %d",
                         self.job_id, exc.orig.sqlstate, attempt + 1, CHUNK_ATTEMPTS)

    def _load(self, chunk: list) -> list[Picked]:
        if self.targets is not None:
            return load_targets(chunk)
        tickets = load_ids([ident for ident, _ in chunk])
        return [Picked(display_id, tickets[ident]) for ident, display_id in chunk if ident in tickets]

    def _not_done(self, picked: list[Picked]) -> list[Picked]:
        """The chunk less what this job already tried (an earlier runner, or a ticket its change
        moved further along the filter's order)."""
        done = set(db.session.scalars(sa.select(BulkJobItem.ref).where(
            BulkJobItem.job_id == self.job_id, BulkJobItem.ref.in_([one.ref for one in picked])))) if picked else set()
        return [one for one in picked if one.ref not in done]

    def _count(self, results: list[tuple]) -> None:
        """Record the results and add them to the job's counts, under this runner's lease."""
        _record(self.job_id, results)
        failed = sum(failure is not None for *_, failure in results)
        self._write(done=BulkJob.done + len(results), failed=BulkJob.failed + failed, heartbeat_at=utcnow())

    def finish(self) -> None:
        """Report the repeats, and call the job done (its total: what it tried)."""
        with transaction():
            self._count([(None, failure.ticket, failure) for failure in self.repeats])
            now = utcnow()
            self._write(status=BulkStatus.DONE, finished_at=now, heartbeat_at=now, lease=None, total=BulkJob.done)

    def fail(self, exc: Exception) -> None:
        with transaction():
            self._write(status=BulkStatus.ERROR, finished_at=utcnow(), lease=None,
                        error=f"Stopped by an unexpected error ({type(exc).__name__}); the tickets listed were done.")

    def _write(self, **values) -> None:
        written = db.session.execute(
            sa.update(BulkJob).where(BulkJob.id == self.job_id, BulkJob.lease == self.lease).values(**values)
            .execution_options(synchronize_session=False)).rowcount
        if written != 1:
            raise LeaseLost(self.job_id)


def _item(one: Picked, failure: Failure | None) -> tuple:
    """A result as _record takes it: (ticket id or None, reference, failure or None)."""
    return (one.ticket.id if one.ticket else None), (one.ticket.display_id if one.ticket else one.ref), failure


def _record(job_id: int, results: list[tuple]) -> None:
    """One bulk_job_item per result, in the caller's transaction."""
    if results:
        db.session.execute(sa.insert(BulkJobItem), [
            {"job_id": job_id, "ticket_id": ticket_id, "ref": ref, "error": failure.error if failure else None}
            for ticket_id, ref, failure in results])
