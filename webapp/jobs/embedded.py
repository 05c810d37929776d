"""The embedded mode's timers: periodic jobs on a daemon thread of the web process, and one-off
wake-ups (a delivery run at the next retry's time), no Redis."""
import logging
import threading
import time
from datetime import datetime

from flask import Flask

from . import _executor_lock, enqueue, run_in_app
from ..db.utc import utcnow

log = logging.getLogger(__name__)


class EmbeddedScheduler:
    """Runs each periodic job every `every` seconds; safe to run in several processes (jobs are idempotent)."""

    def __init__(self, app: Flask, periodic, first_delay: float = 5.0):
        self.app = app
        self.periodic = tuple(periodic)
        self.first_delay = first_delay
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ensure_started(self) -> None:
        """before_request hook: start once, in the process that actually serves requests."""
        if self._thread is None:
            self.start()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="embedded-scheduler", daemon=True)
            self._thread.start()
        log.info("embedded scheduler started: %s", ", ".join(p.path for p in self.periodic))

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        due = {p.path: time.monotonic() + self.first_delay for p in self.periodic}
        while not self._stop.is_set():
            for job in self.periodic:
                if self._stop.is_set():
                    return
                if due[job.path] <= time.monotonic():
                    run_in_app(self.app, job.path)
                    due[job.path] = time.monotonic() + job.every
            self._stop.wait(max(0.0, min(due.values()) - time.monotonic()))


class WakeUps:
    """One timer per job, set for the earliest time asked for: a later ask waits, since the run at
    the earlier time asks again for whatever is due after it. Timers are daemon threads, as the scheduler's."""

    def __init__(self, app: Flask, start_timer=None):
        self.app = app
        self._start_timer = start_timer or _daemon_timer
        self._due: dict[str, tuple[datetime, object]] = {}  # job -> (when, its timer)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, app: Flask) -> "WakeUps":
        with _executor_lock:
            return app.extensions.setdefault("jobs_wakeups", cls(app))

    def at(self, when: datetime, func_path: str) -> None:
        with self._lock:
            set_for = self._due.get(func_path)
            if set_for is not None and set_for[0] <= when:
                return
            if set_for is not None:
                set_for[1].cancel()
            delay = max(0.0, (when - utcnow()).total_seconds())
            self._due[func_path] = (when, self._start_timer(delay, self.fire, func_path))

    def due(self, func_path: str) -> datetime | None:
        """When the job's timer goes off, if one is set."""
        with self._lock:
            set_for = self._due.get(func_path)
        return set_for[0] if set_for else None

    def fire(self, func_path: str) -> None:
        with self._lock:
            self._due.pop(func_path, None)
        with self.app.app_context():
            enqueue(func_path)  # on the job threads, coalesced with a run already waiting


def _daemon_timer(delay: float, function, *args) -> threading.Timer:
    timer = threading.Timer(delay, function, args=args)
    timer.daemon = True
    timer.start()
    return timer
