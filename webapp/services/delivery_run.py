"""Sending due deliveries from one long-lived run: claimed in batches, sent by a few threads over kept-alive connections.

At most DELIVERY_CONCURRENCY sends are in flight, and at most DELIVERY_CONCURRENCY_PER_WEBHOOK of
them to one webhook, so a slow receiver holds its share of the threads and never the rest. Each
webhook has a lane: the deliveries claimed for it, sent in order as its share allows. A lane asks
for about a second's worth of sending at the pace its receiver answers (from one delivery while it
has not answered yet, up to BATCH) and is left out of claims while it holds enough; a timeout, a
refused connection, a 429 or a 5xx takes it back to one delivery at a time, so a receiver that is
down or hanging holds one thread. A claimed delivery that could not start well within its lease is
handed back unsent. Each batch resolves and checks its targets once (http_sender.check_targets), and
each of its deliveries goes only to an address that check passed. Answers are recorded a batch at
a time; only the run's own thread touches the database, the sending threads only send.
"""
import logging
import math
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from . import delivery
from .http_sender import Answer, Checked, Connections, broken, check_targets
from .webhook_payload import Outgoing

log = logging.getLogger(__name__)
BATCH = 100  # deliveries one lane holds at most, and one claim takes at most
PACE_SECONDS = 1.0  # a lane asks for about this much sending at its receiver's pace
IDLE_CLAIM_PAUSE = 0.25  # seconds between claims that found nothing while sends are still in flight
RECORD_SECONDS, RECORD_BATCH = 0.2, 50  # answers are written when this old, or this many


def check_settings(config) -> None:
    """DELIVERY_CONCURRENCY and its per-webhook share, and the jitter, make sense; else the app stops at start-up."""
    concurrency, share = config.get("DELIVERY_CONCURRENCY", 8), config.get("DELIVERY_CONCURRENCY_PER_WEBHOOK")
    if concurrency < 1 or (share is not None and share < 1):
        raise RuntimeError("DELIVERY_CONCURRENCY and DELIVERY_CONCURRENCY_PER_WEBHOOK must be at least 1")
    if not 0 <= config.get("WEBHOOK_BACKOFF_JITTER", 0) <= 0.5:
        raise RuntimeError("WEBHOOK_BACKOFF_JITTER must be between 0 and 0.5 (a fraction of each wait)")


@dataclass
class _Lane:
    """One webhook's deliveries in this run: claimed and waiting, in flight, and how its receiver answers."""

    share: int
    waiting: deque = field(default_factory=deque)  # (Outgoing, Checked, claimed at)
    claimed: int = 0  # waiting or in flight
    sending: int = 0
    opened: bool = False  # its last answer was a success
    latency: float = 0.0  # seconds an answer takes, averaged

    def wants(self) -> int:
        """How many deliveries it would hold: a second's worth at its pace, one until it has answered."""
        if not self.opened:
            return 1
        return max(self.share, min(BATCH, int(self.share * PACE_SECONDS / max(self.latency, 0.001))))

    def full(self) -> bool:
        """Holds enough: claims leave it out until half of what it wants is sent."""
        return self.wants() - self.claimed < max(1, self.wants() // 2)

    def answered(self, answer: Answer, seconds: float) -> None:
        self.claimed -= 1
        self.sending -= 1
        self.latency = seconds if not self.latency else 0.8 * self.latency + 0.2 * seconds
        if answer.error is None:
            self.opened = True
        elif answer.status_code is None or answer.status_code == 429 or answer.status_code >= 500:
            self.opened = False  # down or overloaded: one at a time again


class DeliveryRun:
    """One job's sending: call `drain` (more than once if need be), then `close`."""

    def __init__(self, concurrency: int, per_webhook: int, timeout: float, keep_alive: bool = True):
        self.concurrency, self.per_webhook = concurrency, min(per_webhook, concurrency)
        self.stopped_early = False  # a drain reached its deadline: due rows may be left for the next run
        self.made = 0  # attempts answered and recorded
        self._start_by = delivery.lease_seconds(timeout) - 2 * timeout - 5  # after claiming, or hand back
        self._threads = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook-send")
        self._connections = Connections(timeout, keep_alive)
        self._lanes: dict[int, _Lane] = {}
        self._running: dict[Future, Outgoing] = {}
        self._answered: list[tuple[Outgoing, Answer]] = []
        self._first_answer_at = 0.0
        self._handed_back: list[Outgoing] = []
        self._next_claim = 0.0  # claims wait for this (time.monotonic()), unless a lane wants more:
        self._found_empty = frozenset()  # ... one that the last claim, which found nothing, did not leave out

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
            self.stopped_early |= not claiming
            claimed = self._claim() if claiming and self._may_claim() else 0
            self._start_sends()
            if not self._running:
                self._record()
                if not claimed and not self._waiting():
                    return self.made - made_before
                continue
            done, _ = wait(self._running, timeout=self._wait_for(claiming), return_when=FIRST_COMPLETED)
            self._collect(done)
            if self._answered and (len(self._answered) >= RECORD_BATCH
                                   or time.monotonic() - self._first_answer_at >= RECORD_SECONDS):
                self._record()

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._connections.close()

    def _waiting(self) -> bool:
        return any(lane.waiting for lane in self._lanes.values())

    def _may_claim(self) -> bool:
        """Claim when a lane wants more, or every IDLE_CLAIM_PAUSE for other webhooks' deliveries."""
        if (not self._running and not self._waiting()) or time.monotonic() >= self._next_claim:
            return True
        return any(not lane.full() for hook, lane in self._lanes.items() if hook not in self._found_empty)

    def _wait_for(self, claiming: bool) -> float | None:
        """How long to wait for a send to finish before claiming or recording (None: until one does)."""
        now, waits = time.monotonic(), []
        if claiming:
            waits.append(self._next_claim - now)
        if self._answered:
            waits.append(self._first_answer_at + RECORD_SECONDS - now)
        return max(0.0, min(waits)) if waits else None

    def _claim(self) -> int:
        """Claim what the lanes want, check its targets, and queue it in its lanes; returns how many."""
        self._record()  # answers first: the claim's transaction then sees them
        full = frozenset(hook for hook, lane in self._lanes.items() if lane.full())
        opened = {hook: lane for hook, lane in self._lanes.items() if lane.opened and hook not in full}
        per_webhook = max((lane.wants() - lane.claimed for lane in opened.values()), default=1)
        batch = delivery.claim_due(BATCH, per_webhook, full, frozenset(opened))
        self._next_claim = time.monotonic() + IDLE_CLAIM_PAUSE
        self._found_empty = frozenset() if batch else frozenset(self._lanes).difference(full)
        checked, claimed_at = check_targets(outgoing.url for outgoing in batch), time.monotonic()
        for outgoing in batch:
            target = checked[outgoing.url]
            if target.refusal is not None:
                self._answer(outgoing, Answer(None, target.refusal, target.refusal))
                continue
            lane = self._lanes.setdefault(outgoing.webhook_id, _Lane(self.per_webhook))
            lane.claimed += 1
            lane.waiting.append((outgoing, target, claimed_at))
        return len(batch)

    def _start_sends(self) -> None:
        for lane in self._lanes.values():
            while lane.waiting and lane.sending < lane.share and len(self._running) < self.concurrency:
                outgoing, target, claimed_at = lane.waiting.popleft()
                if time.monotonic() - claimed_at > self._start_by:  # too late to finish within its lease
                    lane.claimed -= 1
                    self._handed_back.append(outgoing)
                    continue
                self._running[self._threads.submit(self._send, outgoing, target)] = outgoing
                lane.sending += 1

    def _send(self, outgoing: Outgoing, target: Checked) -> tuple[Answer, float]:
        started = time.monotonic()
        try:
            answer = self._connections.send(outgoing, target)
        except Exception as exc:  # a bug must not leave the row leased and unanswered
            log.exception("sending delivery %s failed unexpectedly", outgoing.delivery_id)
            answer = broken(exc)
        return answer, time.monotonic() - started

    def _collect(self, done) -> None:
        for future in done:
            outgoing = self._running.pop(future)
            answer, seconds = future.result()
            self._lanes[outgoing.webhook_id].answered(answer, seconds)
            self._answer(outgoing, answer)

    def _answer(self, outgoing: Outgoing, answer: Answer) -> None:
        if not self._answered:
            self._first_answer_at = time.monotonic()
        self._answered.append((outgoing, answer))

    def _record(self) -> None:
        answered, self._answered = self._answered, []
        handed_back, self._handed_back = self._handed_back, []
        delivery.record(answered)
        delivery.hand_back(handed_back)
        self.made += len(answered)
