"""Who has a ticket open right now, and what they are doing there: viewing, writing a comment,
editing the title or the overview. Ephemeral by design: each open page says so again with every
live poll (every few seconds), and an entry not renewed within TTL_SECONDS is gone.

Kept in Redis when REDIS_URL is set (every web process sees every other's), else in this process's
memory (the embedded mode runs one). Nothing here needs a backup: a Redis flush forgets who is
looking for at most one poll interval.
"""
import json
import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app

log = logging.getLogger(__name__)
TTL_SECONDS = 15
STATES = {
    "viewing": "is viewing",
    "commenting": "is writing a comment",
    "editing-title": "is editing the title",
    "editing-overview": "is editing the overview",
}
EDITING = {"editing-title": "title", "editing-overview": "overview"}


@dataclass(frozen=True)
class Present:
    user_id: int
    name: str
    state: str

    @property
    def words(self) -> str:
        return f"{self.name} {STATES[self.state]}"

    @property
    def editing(self) -> str | None:
        """The part of the ticket they are editing (title, overview), if any."""
        return EDITING.get(self.state)


def clean_state(value) -> str:
    return value if value in STATES else "viewing"


def note(ticket_id: int, user, state: str, now: float | None = None) -> None:
    """`user` has the ticket open in `state` (renewed by each poll)."""
    _store().note(ticket_id, user.id, user.display_name, clean_state(state), now or time.time())


def others(ticket_id: int, user, now: float | None = None) -> list[Present]:
    """Everyone else with the ticket open, ordered by name."""
    found = _store().read(ticket_id, now or time.time())
    return sorted((p for p in found if p.user_id != user.id), key=lambda p: (p.name.lower(), p.user_id))


def _store():
    stores = current_app.extensions.setdefault("presence", {})
    url = current_app.config.get("REDIS_URL")
    if url not in stores:
        stores[url] = RedisPresence(url) if url else MemoryPresence()
    return stores[url]


class MemoryPresence:
    def __init__(self):
        self._lock = threading.Lock()
        self._tickets: dict[int, dict[int, tuple[str, str, float]]] = {}

    PURGE_ABOVE = 1_000  # tickets held before a note sweeps out every expired one

    def note(self, ticket_id, user_id, name, state, now) -> None:
        with self._lock:
            if len(self._tickets) > self.PURGE_ABOVE:
                self._tickets = {ticket: entries for ticket, entries in self._tickets.items()
                                 if any(until > now for _, _, until in entries.values())}
            self._tickets.setdefault(ticket_id, {})[user_id] = (name, state, now + TTL_SECONDS)

    def read(self, ticket_id, now) -> list[Present]:
        with self._lock:
            entries = self._tickets.get(ticket_id, {})
            for user_id in [u for u, (_, _, until) in entries.items() if until <= now]:
                del entries[user_id]
            return [Present(user_id, name, state) for user_id, (name, state, _) in entries.items()]


class RedisPresence:
    """One hash per ticket (user id → name, state, until), expiring a TTL after its last write."""

    def __init__(self, url: str):
        from redis import Redis

        self._redis = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)

    def note(self, ticket_id, user_id, name, state, now) -> None:
        key = f"presence:{ticket_id}"
        try:
            self._redis.pipeline().hset(key, str(user_id), json.dumps([name, state, now + TTL_SECONDS])) \
                .expire(key, TTL_SECONDS * 2).execute()
        except Exception:  # presence is a courtesy: Redis down shows nobody, it never fails a page
            log.warning("presence not recorded: Redis unavailable", exc_info=True)

    def read(self, ticket_id, now) -> list[Present]:
        try:
            entries = self._redis.hgetall(f"presence:{ticket_id}")
        except Exception:
            log.warning("presence not read: Redis unavailable", exc_info=True)
            return []
        found = []
        for user_id, value in entries.items():
            name, state, until = json.loads(value)
            if until > now:
                found.append(Present(int(user_id), name, clean_state(state)))
        return found
