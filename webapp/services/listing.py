"""Read side of lists: the ticket queue's filters and order, and keyset pages over any list."""
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import Select, bindparam, literal, tuple_
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Category, CtiType, Item, Ticket, User
from ..db.sql import row_limit

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
) -> tuple[Select, dict]:
    """Tickets (as TICKET_ROW rows) matching every given filter (assignee_id=UNASSIGNED: nobody's),
    in queue order: one statement per combination of filters, built once, and the values it binds."""
    params = {"statuses": list(statuses), "severities": list(severities), "category_id": category_id,
              "assignee_id": assignee_id, "updated_since": updated_since, "dedup_key": dedup_key}
    params = {name: value for name, value in params.items() if value not in (None, [])}
    unassigned = params.get("assignee_id") == UNASSIGNED
    if unassigned:
        del params["assignee_id"]
    return _ticket_list_statement(frozenset(params), unassigned), params


@lru_cache(maxsize=256)
def _ticket_list_statement(filters: frozenset, unassigned: bool) -> Select:
    query = _ticket_rows()
    if "statuses" in filters:
        query = query.where(Ticket.status.in_(bindparam("statuses", expanding=True)))
    if "severities" in filters:
        query = query.where(Ticket.severity.in_(bindparam("severities", expanding=True)))
    if "category_id" in filters:
        query = query.where(Ticket.category_id == bindparam("category_id"))
    if unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif "assignee_id" in filters:
        query = query.where(Ticket.assignee_id == bindparam("assignee_id"))
    if "updated_since" in filters:
        query = query.where(Ticket.updated_at >= bindparam("updated_since", type_=Ticket.updated_at.type))
    if "dedup_key" in filters:
        query = query.where(Ticket.dedup_key == bindparam("dedup_key"))
    return query.order_by(*QUEUE_ORDER)


@dataclass
class Page:
    items: list
    next_after: tuple | None  # the last item's sort key when more items follow, else None


def keyset_page(query, order, after: tuple | None, limit: int, params: dict | None = None) -> Page:
    """One page of `query` in `order`, starting strictly after the sort key `after`.

    Keyset (not offset) paging: rows inserted or removed elsewhere in the order while a client
    pages never shift the rows it has yet to see, so none is skipped or repeated. With `params`,
    `query` is a statement of plain columns built once for reuse (its values bound at execution),
    and so is the page's; it runs on the session's connection, as a read with nothing to flush.
    """
    if params is None:
        query = query.order_by(None).order_by(*order)
        if after is not None:
            bound = [literal(value, column.type) for column, value in zip(order, after, strict=True)]
            query = query.where(tuple_(*order) > tuple_(*bound))
        result = db.session.execute(query.limit(row_limit(limit + 1)))
    else:
        params = {**params, _LIMIT: limit + 1, **dict(zip(_after_names(len(order)), after or ()))}
        # Plain columns, read straight off the connection: no entities to load, nothing to flush.
        result = db.session.connection().execute(_reused_page(query, tuple(order), after is not None), params)
    rows = list(result.scalars().unique()) if len(result.keys()) == 1 else result.all()  # entities, or rows
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], tuple(getattr(last, column.key) for column in order))


_LIMIT = "keyset_limit"


def _after_names(count: int) -> list[str]:
    return [f"keyset_after_{n}" for n in range(count)]


@lru_cache(maxsize=256)
def _reused_page(query: Select, order: tuple, has_after: bool) -> Select:
    """The page statement for a reused `query`, built once too, so its cache key is computed once."""
    query = query.order_by(None).order_by(*order)
    if has_after:
        bound = [bindparam(name, type_=column.type) for name, column in zip(_after_names(len(order)), order)]
        query = query.where(tuple_(*order) > tuple_(*bound))
    return query.limit(row_limit(_LIMIT))
