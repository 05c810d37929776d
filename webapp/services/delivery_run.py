"""Sending due deliveries from one long-lived run: claimed in small batches, sent by a few threads over kept-alive connections.

A run claims only what it can start at once: at most DELIVERY_CONCURRENCY sends are in flight, at
most DELIVERY_CONCURRENCY_PER_WEBHOOK of them to one webhook, and a webhook with that many claimed
is left out of the next claims; so a slow receiver holds its share of the threads and never the
rest. A webhook starts a run with one delivery at a time, and is opened to its share by a
successful answer (closed again by a timeout, a refused connection, a 429 or a 5xx): a receiver that
is down or hanging holds one thread, and a run's first deliveries to a webhook go out in order. Each batch resolves and checks its targets once (http_sender.check_targets), and
each of its deliveries goes only to an address that check passed. Answers are recorded a batch at a
time. Only the run's own thread touches the database; the sending threads only send.
"""
import logging
import math
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from . import delivery
from .http_sender import Answer, Checked, Connections, broken, check_targets
from .webhook_payload import Outgoing

log = logging.getLogger(__name__)
IDLE_CLAIM_PAUSE = 0.1  # seconds between claims that found nothing while sends are still in flight


def check_settings(config) -> None:
    """DELIVERY_CONCURRENCY and its per-webhook share, and the jitter, make sense; else the app stops at start-up."""
    concurrency, share = config.get("DELIVERY_CONCURRENCY", 8), config.get("DELIVERY_CONCURRENCY_PER_WEBHOOK")
    if concurrency < 1 or (share is not None and share < 1):
        raise RuntimeError("DELIVERY_CONCURRENCY and DELIVERY_CONCURRENCY_PER_WEBHOOK must be at least 1")
    if not 0 <= config.get("WEBHOOK_BACKOFF_JITTER", 0) <= 0.5:
        raise RuntimeError("WEBHOOK_BACKOFF_JITTER must be between 0 and 0.5 (a fraction of each wait)")


class DeliveryRun:
    """One job's sending: call `drain` (more than once if need be), then `close`."""

    def __init__(self, concurrency: int, per_webhook: int, timeout: float, keep_alive: bool = True):
        self.concurrency, self.per_webhook = concurrency, min(per_webhook, concurrency)
        self.stopped_early = False  # a drain reached its deadline: due rows may be left for the next run
        self.made = 0  # attempts answered and recorded
        self._threads = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook-send")
        self._connections = Connections(timeout, keep_alive)
        self._waiting: dict[int, deque] = {}  # webhook id -> claimed (Outgoing, Checked) not started yet
        self._claimed = Counter()  # webhook id -> claimed and not answered yet
        self._sending = Counter()  # webhook id -> in flight
        self._running: dict[Future, Outgoing] = {}
        self._opened: set[int] = set()  # webhooks whose last answer in this run was a success
        self._answered: list[tuple[Outgoing, Answer]] = []
        self._next_claim = 0.0  # after a claim that found nothing: not again before this (time.monotonic())
        self._skipped = frozenset()  # ... unless one of the webhooks it left out has room again

    @classmethod
    def from_config(cls, config) -> "DeliveryRun":
        concurrency = config.get("DELIVERY_CONCURRENCY", 8)
        share = config.get("DELIVERY_CONCURRENCY_PER_WEBHOOK") or math.ceil(concurrency / 2)
        return cls(concurrency, share, config["WEBHOOK_TIMEOUT_SECONDS"], config.get("WEBHOOK_KEEP_ALIVE", True))

    def drain(self, deadline: float) -> int:
        """Claim, send and record until nothing is due and nothing in flight, or until `deadline`
        (time.monotonic()), after which it only finishes what it has claimed. Returns the attempts made."""
        made_before = self.made
        while True:
            claiming = time.monotonic() < deadline
            if not claiming:
                self.stopped_early = True
            claimed = self._claim() if claiming and self._may_claim() else 0
            self._start_sends()
            if not self._running:
                self._record()
                if not claimed:
                    return self.made - made_before
                continue
            done, _ = wait(self._running, timeout=self._wait_for(claiming), return_when=FIRST_COMPLETED)
            self._collect(done)
            if len(self._answered) >= self.concurrency:
                self._record()

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._connections.close()

    def _may_claim(self) -> bool:
        if sum(self._claimed.values()) >= self.concurrency:
            return False
        if not self._running and not self._waiting:
            return True
        return (time.monotonic() >= self._next_claim
                or any(self._claimed[hook] < self._share(hook) for hook in self._skipped))

    def _share(self, hook: int) -> int:
        return self.per_webhook if hook in self._opened else 1

    def _wait_for(self, claiming: bool) -> float | None:
        """How long to wait for a send to finish before claiming again (None: until one does)."""
        if not claiming or sum(self._claimed.values()) >= self.concurrency:
            return None
        return max(0.0, self._next_claim - time.monotonic())

    def _claim(self) -> int:
        """Claim what can start at once, check its targets, and queue it per webhook; returns how many."""
        self._record()  # answers first: the claim's transaction then sees them, and leases stay short
        room = self.concurrency - sum(self._claimed.values())
        full = frozenset(hook for hook, count in self._claimed.items() if count >= self._share(hook))
        batch = delivery.claim_due(room, self.per_webhook, full, frozenset(self._opened))
        self._next_claim = 0.0 if batch else time.monotonic() + IDLE_CLAIM_PAUSE
        self._skipped = frozenset() if batch else full
        checked = check_targets(outgoing.url for outgoing in batch)
        for outgoing in batch:
            target = checked[outgoing.url]
            if target.refusal is not None:
                self._answered.append((outgoing, Answer(None, target.refusal, target.refusal)))
                continue
            self._claimed[outgoing.webhook_id] += 1
            self._waiting.setdefault(outgoing.webhook_id, deque()).append((outgoing, target))
        return len(batch)

    def _start_sends(self) -> None:
        for hook in list(self._waiting):
            queue = self._waiting[hook]
            while queue and self._sending[hook] < self.per_webhook and len(self._running) < self.concurrency:
                outgoing, target = queue.popleft()
                self._running[self._threads.submit(self._send, outgoing, target)] = outgoing
                self._sending[hook] += 1
            if not queue:
                del self._waiting[hook]

    def _send(self, outgoing: Outgoing, target: Checked) -> Answer:
        try:
            return self._connections.send(outgoing, target)
        except Exception as exc:  # a bug must not leave the row leased and unanswered
            log.exception("sending delivery %s failed unexpectedly", outgoing.delivery_id)
            return broken(exc)

    def _collect(self, done) -> None:
        for future in done:
            outgoing = self._running.pop(future)
            self._sending[outgoing.webhook_id] -= 1
            self._claimed[outgoing.webhook_id] -= 1
            answer = future.result()
            if answer.error is None:
                self._opened.add(outgoing.webhook_id)
            elif answer.status_code is None or answer.status_code == 429 or answer.status_code >= 500:
                self._opened.discard(outgoing.webhook_id)  # down or overloaded: one at a time again
            self._answered.append((outgoing, answer))

    def _record(self) -> None:
        answered, self._answered = self._answered, []
        delivery.record(answered)
        self.made += len(answered)
