"""gunicorn's threaded worker, but one that accepted from a burst lets its idle siblings take the rest.

Every worker process waits on the same listening socket. When several connections arrive at
once, the first worker to wake can accept them all before the others are scheduled, so a client
opening a few keep-alive connections could have them all served by one process, on one core.
Here a worker that accepts while more connections are already waiting stops accepting for
ACCEPT_PAUSE_SECONDS, so siblings take the others. A steady stream is not slowed: a worker
pauses only with a queue behind it.
"""
import select
import time

from gunicorn.workers.gthread import ThreadWorker

ACCEPT_PAUSE_SECONDS = 0.002


class BalancedThreadWorker(ThreadWorker):
    """gthread that steps back from accepting for a moment when connections queue up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._accept_resumes_at = 0.0

    def accept(self, listener):
        super().accept(listener)
        if _more_waiting(listener):
            self._accept_resumes_at = time.monotonic() + ACCEPT_PAUSE_SECONDS
            self.set_accept_enabled(False)

    def set_accept_enabled(self, enabled):
        if enabled and time.monotonic() < self._accept_resumes_at:
            return  # still stepping back; the event loop asks again when the pause is over
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout):
        if not self._accepting and self.nr_conns < self.worker_connections:
            timeout = min(timeout, max(0.0, self._accept_resumes_at - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)


def _more_waiting(listener) -> bool:
    """Is another connection queued on the listening socket right now?"""
    try:
        readable, _, _ = select.select([listener], [], [], 0)
    except (OSError, ValueError):  # closed while shutting down
        return False
    return bool(readable)
