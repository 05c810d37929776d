"""Every list of tickets, web or API, is read here: ListFilter holds the filters, the search and the
sort (parsed from web and API arguments alike), list_page reads a page, and keyset_page is the keyset
paging that every other list reuses. QUEUE_ORDER is the default order."""
import hashlib
import hmac
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import cached_property, lru_cache

from flask import current_app
from sqlalchemy import Float, Select, bindparam, false, func, literal, tuple_
from sqlalchemy.orm import aliased

from ..db.sql import row_limit
from ..extensions import db
from ..models import ACTIVE_STATUSES, Category, CtiType, Face, Item, LinkKind, Ticket, TicketLink, User
from ..models.ticket import ACTIVE_SQL, cti_path
from . import search
from .base import parse_id
from .errors import FieldErrors, NotFound, ValidationError
from .recent import recent
from .text import checked_text
from .tickets import clean_severity, clean_status, ticket_id

# SEV 1 first, then oldest first; the id breaks ties so every ticket has one place in the order.
QUEUE_ORDER = (Ticket.severity, Ticket.created_at, Ticket.id)
QUEUE, NEWEST, UPDATED, RELEVANCE = "queue", "newest", "updated", "relevance"
# Each sort's key (the columns of its keyset cursor, the id last); all but the queue run newest or best first.
SORT_KEYS = {QUEUE: ("severity", "created_at", "id"), NEWEST: ("created_at", "id"),
             UPDATED: ("updated_at", "id"), RELEVANCE: ("relevance", "id")}
DESCENDING = {NEWEST, UPDATED, RELEVANCE}
PAGE_SIZE = 50
ME, UNASSIGNED = "me", "unassigned"
ASSIGNEE_ALIASES = {"none": UNASSIGNED}  # the API's spelling before the vocabulary was shared
ACTIVE, ALL = "active", "all"
ACTIVE_VALUES = tuple(sorted(status.value for status in ACTIVE_STATUSES))  # read through the ACTIVE_SQL literal
STATUS_GROUPS = {ACTIVE: ACTIVE_VALUES, ALL: ()}
# Filter -> the query argument names that set it, web and API alike (the first is the API's, the last the web's).
FILTER_NAMES = {
    "statuses": ("status",), "severities": ("severity",), "category": ("categoryId", "queue"),
    "assignee": ("assigneeId", "assignee"), "updated_since": ("updatedSince",), "dedup_key": ("dedupKey",),
    "parent": ("parent",), "q": ("q",), "sort": ("sort",),
}
FILTER_ARGS = frozenset(name for names in FILTER_NAMES.values() for name in names)  # every argument a filter reads
TICKETS = "tickets"  # the ticket list's name in its cursors
CURSOR_MAX = 1024  # longer text is no cursor of ours
COUNT_CAP = 1000  # a count goes no further: more matches show as "1,000+"


def _statuses(values: list[str], name: str) -> tuple[str, ...] | None:
    chosen = set()
    for value in values:
        if value.lower() == ALL:
            return ()
        chosen.update(STATUS_GROUPS.get(value.lower()) or (clean_status(value).value,))
    return tuple(sorted(chosen)) if values else None


def _severities(values: list[str], name: str) -> tuple[int, ...] | None:
    return tuple(sorted({clean_severity(value) for value in values})) or None


def _category(values: list[str], name: str) -> int | None:
    value = values[0] if values else ""
    if value == "":
        return None
    if (ident := parse_id(value)) is None:
        raise ValidationError({name: f"{value!r} is not an id."})
    return ident


def _assignee(values: list[str], name: str) -> str | None:
    value = (values[0] if values else "").strip().lower()
    value = ASSIGNEE_ALIASES.get(value, value)
    if value in ("", ME, UNASSIGNED):
        return value or None
    if (ident := parse_id(value)) is None:
        raise ValidationError({name: f"{value!r} is not an id; use a user id, {ME} or {UNASSIGNED}."})
    return str(ident)


def _updated_since(values: list[str], name: str) -> datetime:
    """An ISO 8601 timestamp; one without a zone is taken as UTC. An empty value is refused, not
    ignored: a workflow whose timestamp variable came out blank must not silently get every ticket."""
    try:
        moment = datetime.fromisoformat(values[0].strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValidationError({name: "Use an ISO 8601 timestamp, e.g. 2026-03-30T02:00:00Z."}) from None


def _dedup_key(values: list[str], name: str) -> str | None:
    return checked_text(name, values[0])


def _parent(values: list[str], name: str) -> str | None:
    """A parent ticket's display id (any case), kept upper case: the list is its children."""
    value = values[0].strip().upper() if values else ""
    if value == "":
        return None
    try:
        if len(value) != 10 or value[0] != "V" or not (value[1:].isascii() and value[1:].isdigit()):
            raise NotFound(value)
        ticket_id(value)  # kept per process once found (services.tickets.ticket_id)
    except NotFound:
        raise ValidationError({name: f"No ticket {value[:12]!r} to list the children of."}) from None
    return value


def _q(values: list[str], name: str) -> str | None:
    """The search as typed (trimmed); whether it can be searched is search.parse's to say."""
    return values[0].strip() or None


def _sort(values: list[str], name: str) -> str | None:
    value = values[0].strip().lower()
    if value and value not in SORT_KEYS:
        raise ValidationError({name: f"Sort by {', '.join(SORT_KEYS)}."})
    return value or None


_PARSERS = {"statuses": _statuses, "severities": _severities, "category": _category, "assignee": _assignee,
            "updated_since": _updated_since, "dedup_key": _dedup_key, "parent": _parent, "q": _q, "sort": _sort}
_SPLIT = {"statuses", "severities"}  # repeated (?status=OPEN&status=RESOLVED) or comma-separated values


@dataclass(frozen=True)
class ListFilter:
    """Which tickets a list shows; the web and the API read it from query arguments with the same code."""

    statuses: tuple[str, ...] = ACTIVE_VALUES  # () = every status
    severities: tuple[int, ...] = ()  # () = every severity
    category: int | None = None
    assignee: str = ""  # "", ME, UNASSIGNED or a user id
    updated_since: datetime | None = None
    dedup_key: str | None = None
    parent: str | None = None  # a display id: only that ticket's children
    q: str | None = None  # a search (services.search), kept as typed
    sort: str | None = None  # None: the default (RELEVANCE when searching, else QUEUE)

    @classmethod
    def from_web_args(cls, args) -> "ListFilter":
        """The dashboard's filters: open work unless told otherwise, and a value that makes no sense means
        'any'. A search that cannot run is kept (it lists nothing and says why: `search_error`)."""
        return cls._parse(args, FieldErrors(), ACTIVE_VALUES).canonical()

    @classmethod
    def from_api_args(cls, args) -> "ListFilter":
        """The API's filters: every status unless told otherwise; bad values are refused (422) by name."""
        errors = FieldErrors()
        filters = cls._parse(args, errors, ())
        if filters.search_error:
            errors.add(FILTER_NAMES["q"][0], filters.search_error)
        if filters.sort == RELEVANCE and not filters.q:
            errors.add(FILTER_NAMES["sort"][0], "Sorting by relevance needs a search (q).")
        errors.raise_if_any()
        return filters.canonical()

    def canonical(self) -> "ListFilter":
        """The same list with `sort` left out when it is the default, or relevance without a search."""
        if self.sort == self.default_sort or (self.sort == RELEVANCE and not self.q):
            return replace(self, sort=None)
        return self

    @property
    def default_sort(self) -> str:
        return RELEVANCE if self.q else QUEUE

    @property
    def order(self) -> str:
        """The sort the list runs in: relevance only for a search that runs."""
        order = self.sort or self.default_sort
        return QUEUE if order == RELEVANCE and (not self.q or self.search_error) else order

    @property
    def search_error(self) -> str | None:
        """Why the search cannot run (too long, nothing to search for, ...), or None."""
        return search.parse(self.q).error if self.q else None

    @classmethod
    def _parse(cls, args, errors: FieldErrors, statuses: tuple) -> "ListFilter":
        values = {"statuses": statuses}
        for field, names in FILTER_NAMES.items():
            name = next((name for name in names if name in args), None)
            if name is None:
                continue
            raw = args.getlist(name) if hasattr(args, "getlist") else [args[name]]
            if field in _SPLIT:
                raw = [part.strip() for value in raw for part in value.split(",") if part.strip()]
            value = errors.check(lambda given: _PARSERS[field](given, name), raw)
            if value is not None:
                values[field] = value
        return cls(**values)

    def as_args(self) -> dict:
        """The non-default filters as the dashboard's query arguments, for building canonical URLs."""
        statuses = None if self.statuses == ACTIVE_VALUES else ",".join(self.statuses) or ALL
        severity = self.severity or (",".join(map(str, self.severities)) or None)
        args = {"status": statuses, "severity": severity, "queue": self.category, "assignee": self.assignee or None,
                "updatedSince": self.updated_since and self.updated_since.isoformat(), "dedupKey": self.dedup_key,
                "parent": self.parent, "q": self.q, "sort": self.sort}
        return {key: value for key, value in args.items() if value is not None}

    @property
    def status(self) -> str:
        """The status menu's value: ACTIVE, ALL or the chosen statuses."""
        return ACTIVE if self.statuses == ACTIVE_VALUES else ",".join(self.statuses) or ALL

    @property
    def severity(self) -> int | None:
        return self.severities[0] if len(self.severities) == 1 else None

    @property
    def queue(self) -> int | None:
        return self.category

    @property
    def is_default(self) -> bool:
        return not self.as_args()

    def shape(self, viewer: User | None) -> tuple[tuple, dict]:
        """Which WHERE clauses the filters need (the statement's shape) and the values they bind."""
        params = {}
        status = {ACTIVE_VALUES: ACTIVE, (): ALL}.get(self.statuses) or _one_or_many(
            params, "status", list(self.statuses))
        severity = _one_or_many(params, "severity", list(self.severities)) if self.severities else None
        if self.category:
            params["category"] = self.category
        assignee = self.assignee if self.assignee in ("", UNASSIGNED) else "one"
        if assignee == "one":
            params["assignee"] = (viewer.id if viewer is not None else 0) if self.assignee == ME else int(self.assignee)
        for name in ("updated_since", "dedup_key"):
            if getattr(self, name) is not None:
                params[name] = getattr(self, name)
        if self.parent is not None:
            params["parent"] = ticket_id(self.parent)
        return (status, severity, "category" in params, assignee, "updated_since" in params,
                "dedup_key" in params, "parent" in params, self.order, self._search_shape(params)), params

    def _search_shape(self, params: dict) -> str | None:
        """None (no search), "none" (one that cannot run: no rows) or the dialect that runs it."""
        if not self.q:
            return None
        parsed = search.parse(self.q)
        if parsed.error:
            return "none"
        dialect = db.session.get_bind().dialect.name
        params["q"] = parsed.text_for(dialect)
        return dialect

    @property
    def cursor(self) -> tuple[str, int]:
        """The list name and key width of this list's cursors: each sort pages with its own."""
        order = self.order
        return (TICKETS if order == QUEUE else f"{TICKETS}-{order}"), len(SORT_KEYS[order])


def _one_or_many(params: dict, name: str, values: list) -> str:
    if len(values) == 1:
        params[name] = values[0]
        return "one"
    params[f"{name}_list"] = values
    return "many"


@dataclass(frozen=True)
class Person(Face):
    username: str
    display_name: str


@dataclass(frozen=True)
class QueueRow:
    """What a queue row shows, read as plain columns (no ticket entities; docs/performance.md)."""

    id: int
    display_id: str
    title: str
    severity: int
    status: str
    created_at: datetime
    category: str
    type: str
    item: str
    assignee: Person | None
    snippet: str = ""  # a search's highlighted match (services.search.highlight), HTML
    version: int = 1  # what a bulk change of the rows on screen expects each ticket still to be

    @property
    def cti_path(self) -> str:
        return cti_path(self.category, self.type, self.item)


ASSIGNEE, _CREATOR = aliased(User), aliased(User)
QUEUE_COLUMNS = (
    Ticket.id, Ticket.display_id, Ticket.title, Ticket.severity, Ticket.status, Ticket.created_at,
    Category.name, CtiType.name, Item.name, ASSIGNEE.username, ASSIGNEE.display_name, Ticket.version,
)
# A ticket as the API shows it, read as plain columns rather than entities with their relationships.
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


_QUEUE_WIDTH = len(QUEUE_COLUMNS)


def _queue_row(values) -> QueueRow:
    *ticket, username, display_name, version = values[:_QUEUE_WIDTH]
    return QueueRow(*ticket, assignee=Person(username, display_name) if username else None, version=version)


def _found_queue_row(values) -> QueueRow:
    return replace(_queue_row(values), snippet=search.highlight(values.snippet))


def _found_api_row(values) -> dict:
    return {**values._asdict(), "snippet": search.highlight(values.snippet)}


# columns= of list_page: what each row holds, and how a result row becomes an item (without and
# with a search; None: the row itself).
COLUMNS = {"queue": (QUEUE_COLUMNS, _queue_row, _found_queue_row), "api": (TICKET_ROW, None, _found_api_row)}


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


@dataclass(frozen=True)
class Page:
    """One page of a list: its items, and the sort keys (and cursors) of the pages either side."""

    items: list
    next_after: tuple | None = None  # the last item's sort key when more items follow
    prev_before: tuple | None = None  # the first item's sort key when earlier items exist
    is_first: bool = True
    list_name: str = TICKETS

    @cached_property
    def next_cursor(self) -> str | None:
        return encode_cursor(self.list_name, self.next_after) if self.next_after else None

    @cached_property
    def prev_cursor(self) -> str | None:
        return encode_cursor(self.list_name, self.prev_before) if self.prev_before else None


def encode_cursor(list_name: str, key: tuple) -> str:
    """A place in a list (its sort key) as opaque URL-safe text, signed so a forged or foreign one is refused."""
    values = [{"at": value.isoformat()} if isinstance(value, datetime) else value for value in key]
    payload = urlsafe_b64encode(json.dumps([list_name, values], separators=(",", ":")).encode()).rstrip(b"=")
    return f"{payload.decode()}.{_signature(payload)}"


def decode_cursor(list_name: str, text, width: int | None = None) -> tuple | None:
    """The sort key an `encode_cursor` text of this list stands for; None for anything else."""
    if not isinstance(text, str) or not text or len(text) > CURSOR_MAX:
        return None
    if list_name == TICKETS and (key := _dotted_key(text)):
        return key
    payload, _, signature = text.rpartition(".")
    try:
        if not hmac.compare_digest(_signature(payload.encode("ascii")), signature):
            return None
        name, values = json.loads(urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if name != list_name or not isinstance(values, list) or len(values) != (width or len(values)):
            return None
        return tuple(datetime.fromisoformat(value["at"]) if isinstance(value, dict) else value for value in values)
    except (ValueError, TypeError, KeyError):  # UnicodeError and binascii.Error are ValueErrors
        return None


def _signature(payload: bytes) -> str:
    digest = hmac.new(_cursor_key(current_app.secret_key), payload, hashlib.sha256).digest()[:18]
    return urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=4)
def _cursor_key(secret_key) -> bytes:
    """The cursors' own signing key, derived from the app's secret so no other signature can pass for one."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, b"list-cursor", hashlib.sha256).digest()


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _dotted_key(text: str) -> tuple | None:
    """The dashboard's older `severity.microseconds.id` cursors, still read so saved links keep working."""
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 19 for p in parts):
        return None
    severity, micros, ident = map(int, parts)
    try:
        return (severity, _EPOCH + timedelta(microseconds=micros), ident) if severity in range(1, 6) else None
    except OverflowError:
        return None


def list_page(filters: ListFilter, viewer: User | None, *, after=None, before=None, limit: int | None = None,
              columns: str = "queue") -> Page:
    """One page of tickets in the filters' order, after or before a cursor (text or sort key); a cursor
    that is not one gives the first page. `columns`: "queue" rows (QueueRow) or "api" rows (TICKET_ROW),
    each with its `snippet` when searching."""
    limit = limit or PAGE_SIZE
    list_name, width = filters.cursor
    after_key = _key(after, list_name, width)
    before_key = None if after_key else _key(before, list_name, width)
    direction = "after" if after_key else "before" if before_key else "first"
    shape, params = filters.shape(viewer)
    key_names = SORT_KEYS[filters.order]
    params.update(zip((f"key_{name}" for name in key_names), after_key or before_key or ()), limit=limit + 1)
    # Plain columns, read straight off the connection: no entities to load, nothing to flush.
    rows = db.session.connection().execute(page_statement(shape, columns, direction), params).all()
    if direction == "before" and not rows:
        return list_page(filters, viewer, limit=limit, columns=columns)
    page = _page(rows, key_names, limit, direction, list_name)
    make = COLUMNS[columns][2 if filters.q and not filters.search_error else 1]
    return replace(page, items=[make(row) for row in page.items]) if make else page


def _key(cursor, list_name: str, width: int) -> tuple | None:
    return cursor if isinstance(cursor, tuple) else decode_cursor(list_name, cursor, width)


@lru_cache(maxsize=1024)
def page_statement(shape: tuple, columns: str, direction: str) -> Select:
    """A page's SELECT for one combination of filters, search, sort, columns and direction, built once
    and then only bound (its values vary, its shape does not; docs/performance.md)."""
    order, searching = shape[-2:]
    if searching not in (None, "none"):
        return _search_page(shape, columns, direction)
    query = filtered(_listed(columns), shape)
    if searching == "none":
        query = query.where(false())  # a search that cannot run lists nothing
    if columns == "queue" and order == UPDATED:
        query = query.add_columns(Ticket.updated_at)  # its sort key
    keys = [getattr(Ticket, name) for name in SORT_KEYS[order]]
    return _keyset(query, keys, direction, _bound(order, keys), order in DESCENDING).limit(row_limit("limit"))


def _search_page(shape: tuple, columns: str, direction: str) -> Select:
    """A search's page: the matches are sorted and cut to a page on the ticket table alone, and only
    that page's rows are joined to their names and given their snippets."""
    order, dialect = shape[-2:]
    matches, ranked = search.matching(filtered(db.select(Ticket.id), shape), dialect, order == RELEVANCE)
    keys = list(ranked) if ranked else [getattr(Ticket, name) for name in SORT_KEYS[order]]
    if ranked is None:
        # Matches first (through the search index), then sorted: walking a sort's index until a page
        # of rows matches reads every row for a rare word, and rare words are what people search
        # for; the planner cannot tell a rare word from a middling one.
        keys = [func.coalesce(key, key) for key in keys]
    page = _keyset(matches, keys, direction, _bound(order, keys), order in DESCENDING)
    page = page.limit(row_limit("limit")).subquery("page")
    query = _listed(columns).join(page, page.c.id == Ticket.id).add_columns(search.snippet(dialect))
    if ranked is not None:
        query = query.add_columns(page.c.relevance)
    if columns == "queue" and order == UPDATED:
        query = query.add_columns(Ticket.updated_at)
    keys = [page.c.relevance if name == "relevance" else getattr(Ticket, name) for name in SORT_KEYS[order]]
    return _ordered(query, keys, direction, order in DESCENDING)


def _listed(columns: str) -> Select:
    query = with_names(*COLUMNS[columns][0])
    return query.outerjoin(_CREATOR, _CREATOR.id == Ticket.creator_id) if columns == "api" else query


def _bound(order: str, keys: list) -> list:
    """The bound parameters a cursor's key fills, one per key column."""
    return [bindparam(f"key_{name}", type_=Float() if name == "relevance" else column.type)
            for name, column in zip(SORT_KEYS[order], keys)]


def filtered(query: Select, shape: tuple) -> Select:
    """`query` (of tickets) narrowed by the filters of a ListFilter.shape, the search aside (its
    values are bound at execution)."""
    status, severity, category, assignee, updated_since, dedup_key, parent = shape[:7]
    if status == ACTIVE:
        query = query.where(ACTIVE_SQL)  # literal, so the partial indexes apply
    elif status == "one":
        query = query.where(Ticket.status == bindparam("status"))
    elif status == "many":
        query = query.where(Ticket.status.in_(bindparam("status_list", expanding=True)))
    if severity == "one":
        query = query.where(Ticket.severity == bindparam("severity"))
    elif severity == "many":
        query = query.where(Ticket.severity.in_(bindparam("severity_list", expanding=True)))
    if category:
        query = query.where(Ticket.category_id == bindparam("category"))
    if assignee == UNASSIGNED:
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee == "one":
        query = query.where(Ticket.assignee_id == bindparam("assignee"))
    if updated_since:
        query = query.where(Ticket.updated_at >= bindparam("updated_since", type_=Ticket.updated_at.type))
    if dedup_key:
        query = query.where(Ticket.dedup_key == bindparam("dedup_key"))
    if parent:
        query = query.where(Ticket.id.in_(_CHILDREN_OF))
    return query


# The ids of a parent's children (the `parent` filter), read along the link pair index.
_CHILDREN_OF = (db.select(TicketLink.target_id)
                .where(TicketLink.kind == LinkKind.PARENT_OF.value, TicketLink.source_id == bindparam("parent")))


def count_capped(filters: ListFilter, viewer: User | None, limit: int | None = None) -> int:
    """How many tickets the filters match, counted no further than `limit` (by default COUNT_CAP + 1:
    more than COUNT_CAP reads "COUNT_CAP+"). Capped, so a count costs the same whatever the table
    holds, read along the page's own indexes."""
    shape, params = filters.shape(viewer)
    statement = count_statement(shape, COUNT_CAP + 1 if limit is None else limit)
    return db.session.connection().execute(statement, params).scalar_one()


@lru_cache(maxsize=512)
def count_statement(shape: tuple, limit: int) -> Select:
    """SELECT count(*) FROM (the first `limit` matching ids): the list's own WHERE clauses
    (`filtered`, and the search's match), so a count and its list never disagree, read along an
    index (or the search index) so the count stops at the cap however the matching rows lie."""
    searching = shape[-1]
    matching = filtered(db.select(Ticket.id), shape)
    if searching == "none":
        matching = matching.where(false())
    elif searching is not None:
        matching, _ = search.matching(matching, searching, False)
    else:
        matching = matching.order_by(*_count_order(shape))
    matching = matching.limit(row_limit(limit))
    return db.select(func.count()).select_from(matching.subquery("matching"))


def _count_order(shape: tuple) -> tuple:
    """The queue's order (its indexes serve every filter), led by the column of a filter that order
    alone would only sift through: a change time (ix_ticket_updated), or no assignee (the assignee
    indexes: IS NULL is no equality, so the planner would not read them in queue order)."""
    if shape[4]:  # updated_since
        return (Ticket.updated_at, Ticket.id)
    if shape[3] == UNASSIGNED:
        return (Ticket.assignee_id, *QUEUE_ORDER)
    return QUEUE_ORDER


def keyset_page(query: Select, order, after: tuple | None = None, limit: int = PAGE_SIZE, *,
                before: tuple | None = None, descending: bool = False, list_name: str = TICKETS) -> Page:
    """One page of `query` (entities or columns) in `order` (reversed with `descending`), strictly after
    the sort key `after` or before `before`; a `before` with nothing before it gives the first page.

    Keyset (not offset) paging: rows inserted or removed elsewhere in the order while a client
    pages never shift the rows it has yet to see, so none is skipped or repeated.
    """
    direction = "after" if after is not None else "before" if before is not None else "first"
    key = after if after is not None else before
    bound = [literal(value, column.type) for column, value in zip(order, key or (), strict=bool(key))]
    page = _keyset(query.order_by(None), order, direction, bound, descending).limit(row_limit(limit + 1))
    result = db.session.execute(page)
    rows = list(result.scalars().unique()) if len(result.keys()) == 1 else result.all()  # entities, or rows
    if direction == "before" and not rows:
        return keyset_page(query, order, limit=limit, descending=descending, list_name=list_name)
    return _page(rows, order, limit, direction, list_name)


def _keyset(query: Select, order, direction: str, bound: list, descending: bool = False) -> Select:
    """`query` ordered for a first, after or before page (a before page is read backwards from its bound)."""
    if direction != "first":
        key, bound = (order[0], bound[0]) if len(order) == 1 else (tuple_(*order), tuple_(*bound))
        query = query.where(key > bound if (direction == "before") == descending else key < bound)
    return _ordered(query, order, direction, descending)


def _ordered(query: Select, order, direction: str, descending: bool) -> Select:
    ascending = (direction == "before") == descending
    return query.order_by(*(order if ascending else [column.desc() for column in order]))


def _page(rows: list, order, limit: int, direction: str, list_name: str) -> Page:
    """Rows read one past `limit` as a Page, a before page turned back into display order. `order`:
    the key's columns, or their names."""
    if direction == "before":
        has_prev, rows, has_next = len(rows) > limit, rows[:limit][::-1], True
    else:
        has_prev, has_next, rows = direction == "after", len(rows) > limit, rows[:limit]

    names = [column if isinstance(column, str) else column.key for column in order]

    def key_of(row):
        return tuple(getattr(row, name) for name in names)

    return Page(rows, next_after=key_of(rows[-1]) if has_next and rows else None,
                prev_before=key_of(rows[0]) if has_prev and rows else None, is_first=not has_prev,
                list_name=list_name)


def queue_categories() -> list:
    """Every category as (id, name, active) rows, inactive ones too: old tickets still sit in them."""
    return recent("queue_categories", ("category",), lambda: list(db.session.execute(
        db.select(Category.id, Category.name, Category.active).order_by(Category.active.desc(), Category.name))))
