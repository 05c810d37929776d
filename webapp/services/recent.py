"""Small lists every queue page shows and admins rarely change, reused for a few seconds per process.

The dashboard's filter menus (categories, assignable people) cost two queries and a tenth of
the page's time. Each process keeps what it read for FRESH_SECONDS; a commit in this process
that wrote one of the tables a list reads from drops it at once, so whoever makes a change sees
it on their next page, and other processes see it within FRESH_SECONDS.

`recent_entities` does the same for mapped rows nearly every request looks up (the person behind
a session or an API key, the CTI chain of a new ticket), handing each request its own copies in
its own session.
"""
import time

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached

from ..extensions import db

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


def recent_entities(name: str, tables: tuple[str, ...], load, *, fresh: float = FRESH_SECONDS):
    """The mapped rows `load()` found, or what it found less than `fresh` seconds ago, merged into
    this request's session without a query. A miss (None) is never kept: it cannot grow the store."""
    kept = current_app.extensions.setdefault("recent_lists", {})
    entry = kept.get(name)
    now = time.monotonic()
    if entry is None or now - entry[0] > fresh:
        found = load()
        if found is not None:
            kept[name] = (now, tuple(map(_detached_copy, found)), frozenset(tables))
        return found
    return tuple(map(_into_session, entry[1]))


def _into_session(proto):
    """The session's own object for this row if it has one (as fresh, maybe with pending changes),
    else a copy of the kept one, merged in without a query."""
    held = db.session.identity_map.get(sa.inspect(proto).key)
    return held if held is not None else db.session.merge(proto, load=False)


def _detached_copy(entity):
    """A copy of `entity`'s columns that no session holds: threads merge from it, never into it."""
    mapper = sa.inspect(entity).mapper
    copy = mapper.class_manager.new_instance()
    for attr in mapper.column_attrs:
        setattr(copy, attr.key, getattr(entity, attr.key))
    make_transient_to_detached(copy)
    return copy


@event.listens_for(Session, "after_flush")
def _note_written_tables(session, _context) -> None:
    written = session.info.setdefault(_WRITTEN, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        written.add(instance.__table__.name)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _drop_stale(session) -> None:
    """Drop what was kept from a table this transaction wrote: committed, it is stale; rolled back,
    it may have been read from rows that never existed."""
    written = session.info.pop(_WRITTEN, None)
    if not written or not has_app_context():
        return
    kept = current_app.extensions.get("recent_lists", {})
    # A copy, and pop: other threads of this process fill and drop lists meanwhile.
    for name, (_, _, tables) in list(kept.items()):
        if tables & written:
            kept.pop(name, None)


def forget_all(app) -> None:
    """Drop every kept list of `app` (tests that count a cold page's statements)."""
    app.extensions.pop("recent_lists", None)
