"""The embedded mode's scheduler: periodic jobs on a daemon thread of the web process, no Redis."""
import logging
import threading
import time

from flask import Flask

from . import run_in_app

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
