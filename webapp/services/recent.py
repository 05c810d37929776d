"""Rows and small lists nearly every request reads, kept per process while the database says
none of them changed.

The person behind a session or an API key, a new ticket's CTI chain and the queue pages' menus
come from the user and CTI tables, which change rarely. The database raises one number,
`cache_version`, in every transaction that commits a change to them (triggers, migration 0002).
A request reads that number once, the first time it asks for something kept (one statement,
opening no transaction on PostgreSQL), and uses only what was kept under that same number: a
change committed by any process is seen by the very next request of every process. A commit in
this process drops what it wrote at once too, and a rollback what may have been read from rows
that never existed.

`recent_entities` hands each request its own copies of the kept mapped rows, in its own session.
"""
import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached

from ..db.execute import read_first_value
from ..extensions import db
from ..models import CacheVersion

_WRITTEN = "recent_written_tables"
_STORE = "recent_lists"
_VERSION = sa.select(CacheVersion.version).where(CacheVersion.id == 1)  # built once: nearly every request


class _Kept(dict):
    """What one process kept, all of it read under `version` of cache_version."""

    def __init__(self, version: int):
        super().__init__()
        self.version = version


def recent(name: str, tables: tuple[str, ...], load):
    """`load()`, or what it returned under the cache_version this request reads."""
    store = _store()
    entry = store.get(name)
    if entry is None:
        entry = _keep(store, name, load(), tables)
    return entry[0]


def recent_entities(name: str, tables: tuple[str, ...], load):
    """The mapped rows `load()` found, or what it found under the cache_version this request reads,
    merged into this request's session without a query. A miss (None) is never kept: it cannot
    grow the store."""
    store = _store()
    entry = store.get(name)
    if entry is None:
        found = load()
        if found is not None:
            _keep(store, name, tuple(map(_detached_copy, found)), tables)
        return found
    return tuple(map(_into_session, entry[0]))


def _store() -> _Kept:
    """This process's kept rows if they were read under the cache_version this request reads, else
    a new, empty store in their place."""
    version = _request_version()
    store = current_app.extensions.get(_STORE)
    if store is None or store.version != version:
        store = current_app.extensions[_STORE] = _Kept(version)
    return store


def _keep(store: _Kept, name: str, value, tables: tuple[str, ...]) -> tuple:
    """Keep `value`, read under `store.version`, unless another thread has since replaced `store`."""
    entry = (value, frozenset(tables))
    if current_app.extensions.get(_STORE) is store:
        store[name] = entry
    return entry


def _request_version() -> int:
    """cache_version, read once per request (every time outside one: jobs and commands run long)."""
    if has_request_context() and "kept_version" in g:
        return g.kept_version
    version = read_first_value(_VERSION, {})
    if has_request_context():
        g.kept_version = version
    return version


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
    kept = current_app.extensions.get(_STORE, {})
    # A copy, and pop: other threads of this process fill and drop lists meanwhile.
    for name, (_, tables) in list(kept.items()):
        if tables & written:
            kept.pop(name, None)


def forget_all(app) -> None:
    """Drop every kept list of `app` and the process's known ticket ids (tests that count a cold
    page's statements)."""
    from .tickets import forget_ticket_ids

    app.extensions.pop(_STORE, None)
    forget_ticket_ids()
