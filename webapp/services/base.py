"""The transaction helpers every service shares: commit once, then run follow-up jobs."""
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..db.execute import DEFER_KEY
from ..extensions import db
from .errors import Conflict, NotFound

_enqueue: Callable[..., None] | None = None  # set by on_commit_enqueue
_JOBS = "after_commit_jobs"


def commit(*, keep_loaded: bool = False) -> None:
    """End a service action: commit (unless inside `transaction()`, then only flush), then run queued jobs.

    `keep_loaded`: the objects just written keep their values after the commit instead of being
    read back on next use (a new ticket's answer needs nothing the database could have changed).
    """
    deferred = db.session.info.get(DEFER_KEY)
    session = db.session()
    expire = session.expire_on_commit
    try:
        with _failures_rolled_back():
            if deferred:
                session.flush()
            else:
                session.expire_on_commit = expire and not keep_loaded
                session.commit()
    finally:
        session.expire_on_commit = expire
    if not deferred:
        _run_after_commit()


def get_or_404(model, ident, message: str, *, accept=None):
    """The `model` row whose primary key is `ident` (7 or "7"; anything else names none) and that
    `accept`, if given, admits; otherwise NotFound(message)."""
    key = parse_id(ident)
    row = db.session.get(model, key) if key is not None else None
    if row is None or (accept is not None and not accept(row)):
        raise NotFound(message)
    return row


def found(row, message: str):
    """`row` as a loader found it, or NotFound(message) if it found none."""
    if row is None:
        raise NotFound(message)
    return row


def flush() -> None:
    """Write pending ORM changes now (e.g. before a plain INSERT that follows them), as commit() would."""
    with _failures_rolled_back():
        db.session.flush()


@contextmanager
def _failures_rolled_back():
    try:
        yield
    except StaleDataError as exc:  # at flush too: a concurrent writer moved the version on
        _roll_back_unless_in_savepoint()
        raise Conflict("Someone else changed this ticket at the same time; reload and retry.") from exc
    except IntegrityError:
        _roll_back_unless_in_savepoint()
        raise


def _roll_back_unless_in_savepoint() -> None:
    """Discard the failed transaction, or, inside a savepoint (one ticket of a bulk change), leave
    its owner to roll back to it: the tickets done before it in the same transaction stay done."""
    if not db.session().in_nested_transaction():
        rollback()  # also drops the jobs queued for the failed transaction


@contextmanager
def transaction():
    """Group several service calls into one commit (e.g. a PATCH of many fields)."""
    if db.session.info.get(DEFER_KEY):
        yield
        return
    db.session.info[DEFER_KEY] = True
    try:
        yield
    except BaseException:
        db.session.info[DEFER_KEY] = False
        db.session.rollback()
        db.session.info.pop(_JOBS, None)
        raise
    db.session.info[DEFER_KEY] = False
    commit()


def rollback() -> None:
    """Discard the current transaction and anything queued to run after it."""
    db.session.rollback()
    db.session.info.pop(_JOBS, None)


def after_commit(func_path: str, *args) -> None:
    """Queue a job (by dotted path) to be enqueued once the current transaction commits (once each)."""
    jobs = db.session.info.setdefault(_JOBS, [])
    if (func_path, args) not in jobs:
        jobs.append((func_path, args))


def on_commit_enqueue(enqueue: Callable[..., None]) -> None:
    """Set how queued jobs are handed over after a commit: the job layer registers itself at start-up,
    so services never import it."""
    global _enqueue
    _enqueue = enqueue


def _run_after_commit() -> None:
    jobs = db.session.info.pop(_JOBS, [])
    if jobs and _enqueue is None:
        raise RuntimeError("no job layer registered (webapp.jobs.init_app) to run after-commit jobs")
    for func_path, args in jobs:
        _enqueue(func_path, *args)


MAX_ID = 2**31 - 1  # integer primary keys are 32-bit on PostgreSQL


def parse_id(value) -> int | None:
    """A row id from 7 or "7"; None for anything else, or for a number no row can have."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 10:
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= MAX_ID:
        return value
    return None

