"""Read side of lists: the ticket queue's filters and order, and keyset pages over any list."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import literal, tuple_

from ..extensions import db
from ..models import Ticket

# SEV 1 first, then oldest first; the id breaks ties so every ticket has one place in the order.
QUEUE_ORDER = (Ticket.severity, Ticket.created_at, Ticket.id)
UNASSIGNED = "none"


def ticket_list_query(
    *, statuses=(), severities=(), category_id: int | None = None, assignee_id=None,
    updated_since: datetime | None = None, dedup_key: str | None = None,
):
    """Tickets matching every given filter (assignee_id=UNASSIGNED: nobody's), in queue order."""
    query = db.select(Ticket)
    if statuses:
        query = query.where(Ticket.status.in_(list(statuses)))
    if severities:
        query = query.where(Ticket.severity.in_(list(severities)))
    if category_id is not None:
        query = query.where(Ticket.category_id == category_id)
    if assignee_id == UNASSIGNED:
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    if updated_since is not None:
        query = query.where(Ticket.updated_at >= updated_since)
    if dedup_key is not None:
        query = query.where(Ticket.dedup_key == dedup_key)
    return query.order_by(*QUEUE_ORDER)


@dataclass
class Page:
    items: list
    next_after: tuple | None  # the last item's sort key when more items follow, else None


def keyset_page(query, order, after: tuple | None, limit: int) -> Page:
    """One page of `query` in `order`, starting strictly after the sort key `after`.

    Keyset (not offset) paging: rows inserted or removed elsewhere in the order while a client
    pages never shift the rows it has yet to see, so none is skipped or repeated.
    """
    query = query.order_by(None).order_by(*order)
    if after is not None:
        bound = [literal(value, column.type) for column, value in zip(order, after, strict=True)]
        query = query.where(tuple_(*order) > tuple_(*bound))
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], tuple(getattr(last, column.key) for column in order))
