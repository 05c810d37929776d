"""Live pages by conditional polling: an open queue or ticket page asks again every few seconds
with the ETag it holds (static/js/live.js), and is told 304 Not Modified unless what it shows
changed. Why polling and not server-sent events: docs/live-updates.md.

An ETag is `<global>-<page>`. `<global>` hashes the newest ticket change, audit event and
notification anywhere (read with the page's stamps, then reused by the process for
LIVE_GLOBAL_SECONDS, 1) and, on a ticket page, who else is there; while it stands still nothing a
page shows can have changed, so a poll is answered 304 without asking the database about the page.
When it has moved, the page's own stamp (its events, the person's notifications) decides:
unchanged, a 304 that carries the new ETag; changed, the page. Only whole pages carry an ETag (htmx's fragment swaps need none); a 304
renders nothing and writes no session.
"""
import hashlib
import time

from flask import current_app, g, make_response, request
from flask_login import current_user

from ..services import live, presence
from ..ui.rendering import VARY

POLL_SECONDS = 4  # static/js/live.js reads it from the page (data-live-poll); LIVE_POLL_SECONDS overrides
GLOBAL_SECONDS = 1.0  # how long a process reuses the global stamp it read; LIVE_GLOBAL_SECONDS overrides


class Conditional:
    """A live page's answer to a poll: `response` is a 304 when nothing changed, else None and
    `etag` is what the page is to be rendered with; `waiting` (a ticket page): whether the person
    has unread notifications about it."""

    def __init__(self, extra: str, read_stamps):
        self.response, self.etag, self.waiting = None, None, False
        held, kept = _held(), _kept_global()
        if held and kept is not None and held[0] == _hash(f"{kept}|{extra}"):
            self.etag = "-".join(held)  # nothing anywhere moved since: no question about the page
        else:
            global_stamp, page_stamp, unread, *rest = read_stamps()
            current_app.extensions["live_global"] = (time.monotonic(), global_stamp)
            g.unread_notifications = unread  # the bell's count, read with the stamps (ui.templating)
            self.waiting = bool(rest and rest[0])
            parts = (_hash(f"{global_stamp}|{extra}"),
                     _hash(f"{current_user.id}|{request.full_path}|{page_stamp}|{extra}"))
            self.etag = "-".join(parts)
            if not (held and (held[0] == parts[0] or held[1] == parts[1])):
                return  # the page changed: render it with this ETag
        self.response = tagged(make_response("", 304), self.etag)


def queue_poll() -> Conditional:
    return Conditional("", lambda: live.queue_stamp(current_user))


def ticket_poll(ticket_id: int) -> Conditional:
    """Also notes the caller's presence on the ticket (X-Presence: what they are doing there); the
    ETag moves when anyone else's presence changes."""
    presence.note(ticket_id, current_user, request.headers.get("X-Presence", "viewing"))
    people = ";".join(f"{p.user_id}:{p.state}" for p in presence.others(ticket_id, current_user))
    return Conditional(people, lambda: live.ticket_stamp(current_user, ticket_id))


def _kept_global() -> str | None:
    """The global stamp this process read within the last LIVE_GLOBAL_SECONDS, if any."""
    kept = current_app.extensions.get("live_global")
    seconds = current_app.config.get("LIVE_GLOBAL_SECONDS", GLOBAL_SECONDS)
    return kept[1] if kept is not None and time.monotonic() - kept[0] < seconds else None


def _held() -> tuple[str, str] | None:
    """The (global, page) parts of the ETag the poll sent, if it is one of ours."""
    for tag in request.if_none_match.as_set():
        global_part, _, page_part = tag.partition("-")
        if global_part and page_part:
            return global_part, page_part
    return None


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=9).hexdigest()


def watched(kind: str, etag: str) -> None:
    """Mark the page being rendered as live: its <main> carries the kind, the ETag and the interval."""
    g.live_kind, g.live_etag = kind, etag
    g.live_poll = current_app.config.get("LIVE_POLL_SECONDS") or POLL_SECONDS


def tagged(response, etag: str):
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"  # always ask; never shown stale
    response.vary.update(VARY)
    return response
