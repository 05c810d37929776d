"""The auto-close sweep: RESOLVED tickets older than AUTO_CLOSE_DAYS are closed, audited as the system.

Set-based and batched: per batch one guarded UPDATE … RETURNING closes the tickets, and INSERT … SELECT
writes their audit and outbox rows (services.outbox) in the same transaction. On PostgreSQL the batch is picked with
FOR UPDATE SKIP LOCKED, so sweeps running at once split the work and close each ticket exactly once.
"""
import queue
import threading
from functools import cache
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Status, Ticket
from ..models.ticket import status_sql
from ..db.utc import utcnow
from . import outbox
from ..db.sql import among, in_ids, locked_batch
from .base import commit

ACTION = "auto_close"
BATCH_SIZE = 500


@dataclass(frozen=True)
class SweptTicket:
    id: int
    display_id: str
    title: str
    resolved_at: datetime


def cutoff(as_of: datetime | None = None) -> datetime:
    """Tickets resolved at or before this moment are due (exactly AUTO_CLOSE_DAYS counts as due)."""
    return (as_of or utcnow()) - timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])


# Spelled as a literal so the planners can use the partial index ix_ticket_resolved_due.
_RESOLVED = sa.literal_column(status_sql(Status.RESOLVED))


def _is_due(cut: datetime):
    return sa.and_(Ticket.status == _RESOLVED, Ticket.resolved_at <= cut)


def due_tickets(as_of: datetime | None = None, batch_size: int = BATCH_SIZE) -> Iterator[SweptTicket]:
    """What a sweep at `as_of` would close, oldest resolution first, streamed (the dry run)."""
    query = (
        sa.select(Ticket.id, Ticket.display_id, Ticket.title, Ticket.resolved_at)
        .where(_is_due(cutoff(as_of)))
        .order_by(Ticket.resolved_at, Ticket.id)
        .execution_options(yield_per=batch_size)
    )
    for row in db.session.execute(query):
        yield SweptTicket(*row)


def close_due(as_of: datetime | None = None, batch_size: int = BATCH_SIZE,
              workers: int = 1) -> Iterator[list[SweptTicket]]:
    """Close every due ticket, one committed transaction per batch; yield each batch after its commit.

    `workers` > 1 (PostgreSQL): this session and `workers - 1` more connections close batches side
    by side, SKIP LOCKED keeping them apart, so the database spends more than one core on a backlog.
    """
    cut = cutoff(as_of)
    if workers <= 1 or db.session.get_bind().dialect.name != "postgresql":
        while batch := _close_batch(cut, batch_size):
            yield batch
        return
    yield from _close_in_parallel(cut, batch_size, workers)


def _close_in_parallel(cut: datetime, batch_size: int, workers: int) -> Iterator[list[SweptTicket]]:
    """This session closes batches, and `workers - 1` helper threads (own sessions) alongside it."""
    app, done = current_app._get_current_object(), queue.Queue()

    def help_out() -> None:
        try:
            with app.app_context():
                while batch := _close_batch(cut, batch_size):
                    done.put(batch)
        except Exception as exc:  # handed to the caller's thread, which raises it
            done.put(exc)
        finally:
            done.put(None)

    helpers = [threading.Thread(target=help_out, name=f"sweep-{n}", daemon=True) for n in range(1, workers)]
    for helper in helpers:
        helper.start()
    running = len(helpers)
    while batch := _close_batch(cut, batch_size):
        yield batch
        while not done.empty():
            running -= yield from _handed_over(done.get())
    while running:
        running -= yield from _handed_over(done.get())


def _handed_over(item) -> Iterator[list[SweptTicket]]:
    """Yield a helper's batch; returns 1 when the item says that helper has finished."""
    if isinstance(item, Exception):
        raise item
    if item is None:
        return 1
    yield item
    return 0


def auto_close(as_of: datetime | None = None, batch_size: int = BATCH_SIZE, workers: int = 1) -> int:
    """Run the sweep and say how many tickets it closed (idempotent: a second run closes none)."""
    return sum(len(batch) for batch in close_due(as_of, batch_size, workers))


def _close_batch(cut: datetime, batch_size: int) -> list[SweptTicket]:
    now = utcnow()
    picked = locked_batch(sa.select(Ticket.id).where(_is_due(cut)).order_by(Ticket.resolved_at), batch_size)
    closed = db.session.execute(
        sa.update(Ticket)
        .where(among(Ticket.id, sa.select(picked.c.id)), _is_due(cut))  # re-checked: guarded
        .values(status=Status.CLOSED, closed_at=now, updated_at=now, version=Ticket.version + 1)
        .returning(Ticket.id, Ticket.display_id, Ticket.title, Ticket.resolved_at)
        .execution_options(synchronize_session=False)
    ).all()
    if not closed:
        commit()
        return []
    outbox.write(_auto_close_events(db.session.get_bind().dialect.name), {
        "ticket_ids": [row.id for row in closed], "event_action": ACTION,
        "event_before": Status.RESOLVED.value, "event_after": Status.CLOSED.value, "event_created_at": now,
    })
    commit()
    return sorted((SweptTicket(*row) for row in closed), key=lambda t: (t.resolved_at, t.id))


@cache
def _auto_close_events(dialect_name: str) -> sa.Select:
    """One `auto_close` event per ticket of `ticket_ids`, actor NULL (the system), in ticket order;
    built once per dialect, as `in_ids` spells the list for the session's."""
    return (outbox.event_row("action", "before", "after", "created_at", ticket_id=Ticket.id)
            .where(in_ids(Ticket.id, "ticket_ids")).order_by(Ticket.id))
