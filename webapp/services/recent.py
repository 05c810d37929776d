"""Small lists every queue page shows and admins rarely change, reused for a few seconds per process.

The dashboard's filter menus (categories, assignable people) cost two queries and a tenth of
the page's time. Each process keeps what it read for FRESH_SECONDS; a commit in this process
that wrote one of the tables a list reads from drops it at once, so whoever makes a change sees
it on their next page, and other processes see it within FRESH_SECONDS.
"""
import time

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

FRESH_SECONDS = 5.0
_WRITTEN = "recent_written_tables"


def recent(name: str, tables: tuple[str, ...], load):
    """`load()`, or what it returned less than FRESH_SECONDS ago in this process."""
    kept = current_app.extensions.setdefault("recent_lists", {})
    now = time.monotonic()
    entry = kept.get(name)
    if entry is None or now - entry[0] > FRESH_SECONDS:
        entry = kept[name] = (now, load(), frozenset(tables))
    return entry[1]


@event.listens_for(Session, "after_flush")
def _note_written_tables(session, _context) -> None:
    written = session.info.setdefault(_WRITTEN, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        written.add(instance.__table__.name)


@event.listens_for(Session, "after_commit")
def _drop_stale(session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if not written or not has_app_context():
        return
    kept = current_app.extensions.get("recent_lists", {})
    # A copy, and pop: other threads of this process fill and drop lists meanwhile.
    for name, (_, _, tables) in list(kept.items()):
        if tables & written:
            kept.pop(name, None)


@event.listens_for(Session, "after_rollback")
def _forget_written(session) -> None:
    session.info.pop(_WRITTEN, None)


def forget_all(app) -> None:
    """Drop every kept list of `app` (tests that count a cold page's statements)."""
    app.extensions.pop("recent_lists", None)
