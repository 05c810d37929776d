"""Background jobs: on RQ when REDIS_URL is set, otherwise in-process (same functions, no queue)."""
import atexit
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import wraps

from flask import Flask, current_app, has_app_context, has_request_context
from werkzeug.utils import import_string

from ..config import DEFAULT_QUEUE
from ..extensions import db
from ..services import job_runs
from ..services.notify import SEND_MAIL_JOB
from ..services.outbox import DELIVER_DUE_JOB, DISPATCH_JOB

log = logging.getLogger(__name__)
EMBEDDED_THREADS = 4
# Jobs that drain a whole table: one waiting is enough, however many commits ask for it. Without
# this, every ticket write queued its own dispatch job and a busy minute queued thousands.
COALESCED = frozenset({DISPATCH_JOB, DELIVER_DUE_JOB, SEND_MAIL_JOB})
PENDING_SECONDS = 300  # a lost job's mark expires; the minutely requeue covers the gap
DELIVERY_RUN_SECONDS = 60  # a delivery run stops claiming then, and queues a fresh run if rows are due

_worker_app: Flask | None = None
_executor_lock = threading.Lock()
_pending_lock = threading.Lock()


def queue_name() -> str:
    return current_app.config.get("RQ_QUEUE") or DEFAULT_QUEUE


def redis_connection():
    """The app's Redis client for RQ (one pool per URL), or None in the embedded mode."""
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault("redis_clients", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return clients[url]


def enqueue(func_path: str, *args) -> None:
    """Hand a job to RQ, or run it in-process when there is no Redis; never fail the caller.

    A request's ask for a coalesced job is handed to this process's `CoalescedAsks`, which asks
    Redis once for every request of the last OUTBOX_MARK_DELAY_SECONDS (jobs and commands ask at once).
    """
    conn = redis_connection()
    if conn is None:
        _run_embedded(func_path, args)
        return
    if func_path in COALESCED and not args and has_request_context():
        delay = current_app.config.get("OUTBOX_MARK_DELAY_SECONDS", 0)
        if delay > 0:
            CoalescedAsks.of(current_app._get_current_object(), delay).ask(func_path)
            return
    _enqueue_now(conn, func_path, args)


def _enqueue_now(conn, func_path: str, args: tuple) -> None:
    from rq import Queue

    try:
        if func_path in COALESCED and not conn.set(_pending_key(func_path), 1, nx=True, ex=PENDING_SECONDS):
            return  # one is already waiting, and it will see this commit's rows
        Queue(queue_name(), connection=conn).enqueue(func_path, *args, job_timeout=_job_timeout(func_path))
    except Exception:  # Redis down: the work waits in the outbox and is re-enqueued later
        log.warning("could not enqueue %s; it will be picked up later", func_path, exc_info=True)


def _job_timeout(func_path: str) -> int | None:
    """RQ's limit for a job (None: RQ's default): a delivery run claims for DELIVERY_RUN_SECONDS,
    then finishes sends that may each take a few timeouts."""
    if func_path != DELIVER_DUE_JOB:
        return None
    return int(DELIVERY_RUN_SECONDS + 4 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 60)


def enqueue_at(when: datetime, func_path: str) -> None:
    """Run a job (without arguments) at `when`, to the second: by RQ's scheduler, which worker.py
    runs, or by the embedded mode's timer; never fail the caller (the minutely requeue is the net)."""
    when = _next_whole_second(when)
    conn = redis_connection()
    if conn is None:
        _wake_embedded(when, func_path)
        return
    from rq import Queue

    try:  # one job per job and second, whoever asks for it
        Queue(queue_name(), connection=conn).enqueue_at(
            when, func_path, job_id=_wake_id(func_path, when), job_timeout=_job_timeout(func_path))
    except Exception:
        log.warning("could not schedule %s; the minutely requeue will run it", func_path, exc_info=True)


def _next_whole_second(when: datetime) -> datetime:
    """RQ's scheduler keeps whole seconds: round up, so the job never runs before `when`."""
    whole = when.replace(microsecond=0)
    return whole if whole == when else whole + timedelta(seconds=1)


def _wake_id(func_path: str, when: datetime) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"wake-{queue_name()}-{func_path}-{int(when.timestamp())}")


def _wake_embedded(when: datetime, func_path: str) -> None:
    """The embedded mode's timer; under JOBS_INLINE (tests) only noted, as jobs there run when asked."""
    app = current_app._get_current_object()
    if app.config.get("JOBS_INLINE"):
        app.extensions.setdefault("jobs_scheduled", {})[func_path] = when
        return
    from .embedded import WakeUps

    WakeUps.of(app).at(when, func_path)


class CoalescedAsks:
    """A web process's asks for coalesced jobs, taken to Redis by one thread `delay` seconds later.

    Each commit with outbox rows asks for a dispatch run; rather than a Redis round trip (SET NX
    of the pending mark) on every such request, a request only notes the ask, and the thread
    marks and queues once for all the asks of the last `delay` seconds. The mark is still checked after every commit it covers, so the rule that
    a commit which found it set is read by the run holding it stands. Asks a dying process never
    took to Redis wait in the outbox for the minutely safety net, as when Redis is down.
    """

    def __init__(self, app: Flask, delay: float):
        self.app, self.delay = app, delay
        self._asked: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        atexit.register(self.flush)

    @classmethod
    def of(cls, app: Flask, delay: float) -> "CoalescedAsks":
        asks = app.extensions.get("coalesced_asks")
        if asks is None:
            with _executor_lock:
                asks = app.extensions.setdefault("coalesced_asks", cls(app, delay))
        return asks

    def ask(self, func_path: str) -> None:
        with self._lock:
            first = not self._asked
            self._asked.add(func_path)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="coalesced-asks", daemon=True)
                self._thread.start()
        if first:
            self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.delay)
            self._wake.clear()  # an ask from here on either joins this flush or wakes the next
            self.flush()

    def flush(self) -> None:
        """Take every ask noted so far to Redis now."""
        with self._lock:
            asked, self._asked = self._asked, set()
        if not asked:
            return
        with self.app.app_context():
            conn = redis_connection()
            for func_path in sorted(asked):
                _enqueue_now(conn, func_path, ())


def forget_pending(func_path: str) -> None:
    """Called as a coalesced job starts (before it reads), and by the safety net: the next ask queues a run."""
    conn = redis_connection()
    try:
        if conn is not None:
            conn.delete(_pending_key(func_path))
    except Exception:
        log.warning("could not clear the pending mark of %s; it expires by itself", func_path, exc_info=True)
    with _pending_lock:
        current_app.extensions.setdefault("jobs_pending", set()).discard(func_path)


def _pending_key(func_path: str) -> str:
    return f"ticketing:pending:{queue_name()}:{func_path}"


def _run_embedded(func_path: str, args: tuple) -> None:
    """Inline (tests) or on the app's small job thread pool, so requests do not wait on webhooks."""
    app = current_app._get_current_object()
    if app.config.get("JOBS_INLINE"):
        run_logged(func_path, *args)
        return
    if func_path in COALESCED:
        with _pending_lock:
            pending = app.extensions.setdefault("jobs_pending", set())
            if func_path in pending:
                return
            pending.add(func_path)
    _executor(app).submit(run_in_app, app, func_path, *args)


def _executor(app: Flask) -> ThreadPoolExecutor:
    with _executor_lock:
        if "jobs_executor" not in app.extensions:
            app.extensions["jobs_executor"] = ThreadPoolExecutor(EMBEDDED_THREADS, thread_name_prefix="jobs")
        return app.extensions["jobs_executor"]


def run_logged(func_path: str, *args):
    """Run a job by dotted path; a failure is logged, and the outbox or retry schedule covers it."""
    try:
        return import_string(func_path)(*args)
    except Exception:
        log.exception("in-process job %s failed", func_path)
        return None


def run_in_app(app: Flask, func_path: str, *args):
    with app.app_context():
        return run_logged(func_path, *args)


def app_job(func):
    """Run a job in a fresh app context: the caller's app, or the worker's (built once per process);
    its finish, ok or failed, is the heartbeat `job_run` keeps (services.job_runs).

    Not for an after-commit job (dispatch, delivery run) run in-process: without Redis it follows
    every commit with audit events in the web process itself, so a heartbeat there would be one
    more write on every ticket change, proving only that the web process is up.
    """
    after_commit = f"{func.__module__}.{func.__name__}" in COALESCED

    @wraps(func)
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else worker_app()
        with app.app_context():  # its own session, removed (and rolled back if need be) at the end
            beats = not (after_commit and redis_connection() is None)
            started = time.monotonic()
            try:
                result = func(*args, **kwargs)
            except BaseException:
                db.session.rollback()
                if beats:
                    _note_run(func.__name__, started, ok=False, result=None)
                raise
            if beats:
                _note_run(func.__name__, started, ok=True, result=result)
            return result

    return run


def _note_run(name: str, started: float, *, ok: bool, result) -> None:
    """Record the run; a heartbeat that cannot be written is logged, never the job's failure."""
    count = result if isinstance(result, int) and not isinstance(result, bool) else None
    try:
        job_runs.record(name, ok=ok, result=count, duration_ms=round((time.monotonic() - started) * 1000))
    except Exception:
        db.session.rollback()
        log.warning("could not record the run of job %s", name, exc_info=True)


def worker_app() -> Flask:
    """The app a worker process runs jobs in: the one worker.py bound, or one built from the env."""
    if _worker_app is None:
        from .. import create_app

        bind_app(create_app())
    return _worker_app


def bind_app(app: Flask) -> None:
    """Make `app` the worker's app; forked work horses drop inherited pooled DB connections."""
    global _worker_app
    if _worker_app is None:
        os.register_at_fork(after_in_child=_forget_inherited_connections)
    _worker_app = app


def _forget_inherited_connections() -> None:
    if _worker_app is not None:
        with _worker_app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)


def init_app(app: Flask):
    """Jobs run inline under TESTING; services hand their after-commit jobs to `enqueue`. Returns the
    embedded mode's scheduler (to be started by the first request), or None when RQ or tests run jobs."""
    from ..services.base import on_commit_enqueue
    from ..services.delivery_run import check_settings

    check_settings(app.config)  # a nonsensical concurrency or jitter stops the app here
    on_commit_enqueue(enqueue)
    app.config.setdefault("JOBS_INLINE", app.testing)
    if app.config.get("REDIS_URL") or app.testing or not app.config.get("EMBEDDED_SCHEDULER"):
        return None
    from .embedded import EmbeddedScheduler
    from .tasks import PERIODIC

    scheduler = EmbeddedScheduler(app, PERIODIC)
    app.extensions["embedded_scheduler"] = scheduler
    return scheduler
