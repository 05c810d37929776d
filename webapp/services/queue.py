"""The ticket queue behind the dashboard: URL filters, keyset pages in index order, no table counts."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import bindparam, tuple_

from ..extensions import db
from ..models import Category, CtiType, Face, Item, Status, Ticket, User
from ..models.ticket import ACTIVE_SQL, cti_path
from ..db.sql import row_limit
from .base import parse_id
from .listing import ASSIGNEE, with_names
from .recent import recent

PAGE_SIZE = 50
ACTIVE = "active"
ALL = "all"
STATUS_FILTERS = (ACTIVE, *(s.value for s in Status), ALL)
ME = "me"
UNASSIGNED = "unassigned"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class QueueFilter:
    """What the dashboard shows; every field round-trips through the URL."""

    status: str = ACTIVE
    severity: int | None = None
    queue: int | None = None  # a category id
    assignee: str = ""  # "", "me", "unassigned" or a user id

    @classmethod
    def from_args(cls, args) -> "QueueFilter":
        """Read filters from query arguments; a value that makes no sense means 'any'."""
        status = args.get("status") or ACTIVE
        severity = parse_id(args.get("severity"))
        assignee = (args.get("assignee") or "").strip().lower()
        if assignee not in (ME, UNASSIGNED) and parse_id(assignee) is None:
            assignee = ""
        return cls(
            status=status if status in STATUS_FILTERS else ACTIVE,
            severity=severity if severity in range(1, 6) else None,
            queue=parse_id(args.get("queue")),
            assignee=assignee,
        )

    def as_args(self) -> dict:
        """The non-default filters, for building canonical URLs."""
        args = {"status": self.status if self.status != ACTIVE else None, "severity": self.severity,
                "queue": self.queue, "assignee": self.assignee or None}
        return {key: value for key, value in args.items() if value is not None}

    @property
    def is_default(self) -> bool:
        return not self.as_args()


@dataclass(frozen=True)
class Person(Face):
    username: str
    display_name: str


@dataclass(frozen=True)
class QueueRow:
    """What a queue row shows: read as plain columns, four times cheaper than loading tickets."""

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

    @property
    def cti_path(self) -> str:
        return cti_path(self.category, self.type, self.item)


_ROW_COLUMNS = (
    Ticket.id, Ticket.display_id, Ticket.title, Ticket.severity, Ticket.status, Ticket.created_at,
    Category.name, CtiType.name, Item.name, ASSIGNEE.username, ASSIGNEE.display_name,
)


def _row(values) -> QueueRow:
    *ticket, username, display_name = values
    return QueueRow(*ticket, assignee=Person(username, display_name) if username else None)


@dataclass(frozen=True)
class QueuePage:
    tickets: list[QueueRow]
    next_cursor: str | None
    prev_cursor: str | None
    is_first: bool


def encode_cursor(ticket) -> str:
    """A ticket's place in queue order (severity, created_at, id) as URL-safe text."""
    micros = (ticket.created_at - _EPOCH) // timedelta(microseconds=1)
    return f"{ticket.severity}.{micros}.{ticket.id}"


def decode_cursor(text) -> tuple | None:
    """The (severity, created_at, id) an `encode_cursor` text stands for; None if it is not one."""
    values = [_cursor_int(part) for part in text.split(".")] if isinstance(text, str) else []
    if len(values) != 3 or None in values or values[0] not in range(1, 6):
        return None
    try:
        created = _EPOCH + timedelta(microseconds=values[1])
    except OverflowError:
        return None
    return values[0], created, values[2]


def _cursor_int(part: str) -> int | None:
    """A non-negative whole number of at most 19 digits (microseconds since 1970 fit)."""
    return int(part) if part.isascii() and part.isdigit() and len(part) <= 19 else None


def list_tickets(filters: QueueFilter, viewer: User, *, after=None, before=None,
                 limit: int | None = None) -> QueuePage:
    """One page of the queue, SEV 1 first then oldest, read in index order after/before a cursor."""
    limit = limit or PAGE_SIZE
    after_key = decode_cursor(after)
    before_key = None if after_key else decode_cursor(before)
    shape, params = _filter_shape(filters, viewer)
    params["limit"] = limit + 1
    if before_key:
        params.update(zip(_KEY_PARAMS, before_key))
        rows = [_row(values) for values in db.session.execute(_page_statement(shape, "before"), params)]
        if not rows:
            return list_tickets(filters, viewer, limit=limit)
        has_prev, rows, has_next = len(rows) > limit, rows[:limit][::-1], True
    else:
        if after_key:
            params.update(zip(_KEY_PARAMS, after_key))
        rows = [_row(values) for values in db.session.execute(
            _page_statement(shape, "after" if after_key else "first"), params)]
        has_prev, has_next, rows = after_key is not None, len(rows) > limit, rows[:limit]
    return QueuePage(
        tickets=rows,
        next_cursor=encode_cursor(rows[-1]) if has_next and rows else None,
        prev_cursor=encode_cursor(rows[0]) if has_prev and rows else None,
        is_first=not has_prev,
    )


def _filter_shape(filters: QueueFilter, viewer: User) -> tuple[tuple, dict]:
    """Which WHERE clauses the filters need (the statement's shape) and the values they bind."""
    params = {}
    status = filters.status if filters.status in (ACTIVE, ALL) else "one"
    if status == "one":
        params["status"] = filters.status
    if filters.severity:
        params["severity"] = filters.severity
    if filters.queue:
        params["queue"] = filters.queue
    assignee = filters.assignee if filters.assignee in ("", UNASSIGNED) else "one"
    if assignee == "one":
        params["assignee"] = viewer.id if filters.assignee == ME else int(filters.assignee)
    return (status, "severity" in params, "queue" in params, assignee), params


_KEY = (Ticket.severity, Ticket.created_at, Ticket.id)
_KEY_PARAMS = ("key_severity", "key_created_at", "key_id")


@lru_cache(maxsize=256)
def _page_statement(shape: tuple, direction: str):
    """A page's SELECT for one combination of filters, built once and then only bound: building
    it and computing its cache key cost more than the database took to answer it."""
    status, severity, queue, assignee = shape
    query = with_names(*_ROW_COLUMNS)
    if status == ACTIVE:
        query = query.where(ACTIVE_SQL)  # literal, so the partial indexes apply
    elif status == "one":
        query = query.where(Ticket.status == bindparam("status"))
    if severity:
        query = query.where(Ticket.severity == bindparam("severity"))
    if queue:
        query = query.where(Ticket.category_id == bindparam("queue"))
    if assignee == UNASSIGNED:
        query = query.where(Ticket.assignee_id.is_(None))
    elif assignee == "one":
        query = query.where(Ticket.assignee_id == bindparam("assignee"))
    key = tuple_(*_KEY)
    bound = tuple_(*(bindparam(name, type_=column.type) for name, column in zip(_KEY_PARAMS, _KEY)))
    if direction == "before":
        query = query.where(key < bound).order_by(*(column.desc() for column in _KEY))
    else:
        query = query.where(key > bound) if direction == "after" else query
        query = query.order_by(*_KEY)
    return query.limit(row_limit("limit"))


def queue_categories() -> list:
    """Every category as (id, name, active) rows, inactive ones too: old tickets still sit in them."""
    return recent("queue_categories", ("category",), lambda: list(db.session.execute(
        db.select(Category.id, Category.name, Category.active).order_by(Category.active.desc(), Category.name))))
