"""Read side of lists: the ticket queue's filters and order, and keyset pages over any list."""
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import literal, tuple_
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Category, CtiType, Item, Ticket, User

# SEV 1 first, then oldest first; the id breaks ties so every ticket has one place in the order.
QUEUE_ORDER = (Ticket.severity, Ticket.created_at, Ticket.id)
UNASSIGNED = "none"
ASSIGNEE, _CREATOR = aliased(User), aliased(User)
# A ticket as the API shows it, read as plain columns: loading entities with their five
# relationships cost more than the rest of the request together.
TICKET_FIELDS = (
    "id", "display_id", "title", "overview", "severity", "status", "category_id", "type_id", "item_id",
    "assignee_id", "creator_id", "dedup_key", "created_at", "updated_at", "resolved_at", "closed_at", "version",
)
TICKET_ROW = (
    *(getattr(Ticket, name) for name in TICKET_FIELDS),
    Category.name.label("category_name"), CtiType.name.label("type_name"), Item.name.label("item_name"),
    ASSIGNEE.username.label("assignee_username"), ASSIGNEE.display_name.label("assignee_display_name"),
    _CREATOR.username.label("creator_username"), _CREATOR.display_name.label("creator_display_name"),
)


def with_names(*columns):
    """SELECT columns FROM ticket, outer-joined to its CTI names and its assignee (the `ASSIGNEE` alias).

    Outer joins (the CTI ones never miss) keep the ticket table first in every plan, so the
    filters and order of the ticket indexes decide the page before any name is looked up.
    """
    return (
        db.select(*columns).select_from(Ticket)
        .outerjoin(Category, Category.id == Ticket.category_id).outerjoin(CtiType, CtiType.id == Ticket.type_id)
        .outerjoin(Item, Item.id == Ticket.item_id).outerjoin(ASSIGNEE, ASSIGNEE.id == Ticket.assignee_id)
    )


@cache
def _ticket_rows():
    """The unfiltered select of TICKET_ROW, built once: constructing it cost more than running it."""
    return with_names(*TICKET_ROW).outerjoin(_CREATOR, _CREATOR.id == Ticket.creator_id)


def ticket_list_query(
    *, statuses=(), severities=(), category_id: int | None = None, assignee_id=None,
    updated_since: datetime | None = None, dedup_key: str | None = None,
):
    """Tickets (as TICKET_ROW rows) matching every given filter (assignee_id=UNASSIGNED: nobody's), in queue order."""
    query = _ticket_rows()
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
    result = db.session.execute(query.limit(limit + 1))
    rows = list(result.scalars().unique()) if len(result.keys()) == 1 else result.all()  # entities, or rows
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], tuple(getattr(last, column.key) for column in order))
