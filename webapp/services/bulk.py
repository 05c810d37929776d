"""Bulk changes: one change applied to many tickets, each through the very service call a single
change makes (`update_ticket`, `add_comment`), so each gets its own version check, transition
rules, audit events and outbox rows.

Tickets are changed a chunk at a time (services.bulk_jobs), one transaction per chunk. A ticket
that refuses is reported with the reason and keeps nothing of the change (see `apply_one`: a
savepoint, or a lock and a single action that refuses before it writes); the rest of its chunk
still commits, and the chunk's one commit asks once for the outbox dispatch.
"""
import re
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field

from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import Category, CtiType, Item, SEVERITY_LABELS, Ticket, User
from ..models.ticket import cti_path
from . import report_rollups
from .base import flush, parse_id
from .comments import add_comment, clean_body
from .errors import DomainError, FieldErrors, ValidationError
from .text import text_fault
from .tickets import ROUTE_FIELDS, check_changes, update_ticket

BULK_MAX = 10_000  # tickets one bulk change may select
INLINE_MAX = 100  # more listed tickets than this run as a job (web and API)
CHUNK_SIZE = 200  # tickets per transaction
REF_MAX = 64
COMMENT = "comment"
DISPLAY_ID = re.compile(r"[Vv]\d{9}")


@dataclass(frozen=True)
class Changes:
    """What a bulk change does to each ticket, checked once: `update_ticket`'s changes, then a comment."""

    fields: dict
    comment: str | None = None

    @property
    def parts(self) -> int:
        """How many actions each ticket takes: one per field (a reroute is one), and the comment."""
        route = sum(name in self.fields for name in ROUTE_FIELDS)
        return len(self.fields) - route + bool(route) + (self.comment is not None)

    def as_json(self) -> dict:
        return {**self.fields, **({COMMENT: self.comment} if self.comment is not None else {})}

    @classmethod
    def from_json(cls, stored: dict) -> "Changes":
        """Changes as a job row keeps them (they were checked when the job was made)."""
        fields = {name: value for name, value in stored.items() if name != COMMENT}
        return cls(fields, stored.get(COMMENT))


def clean_changes(changes: dict) -> Changes:
    """Refuse (naming each bad field) changes that no ticket could take, before any ticket is touched."""
    if not isinstance(changes, dict) or not changes:
        raise ValidationError({"changes": "Give at least one change, e.g. a status, an assignee or a comment."})
    errors = FieldErrors()
    for name, value in changes.items():
        if isinstance(value, str) and (fault := text_fault(value)):
            errors.add(name, fault)
    fields = {name: value for name, value in changes.items() if name != COMMENT}
    errors.check(check_changes, fields)
    comment = None
    if COMMENT in changes:
        try:
            comment = clean_body(changes[COMMENT])
        except ValidationError as exc:
            errors.add(COMMENT, exc.fields["body"])
    errors.raise_if_any()
    return Changes(fields, comment)


def describe(changes: Changes) -> list[str]:
    """The changes in words, as a job's page lists them (names as they are now)."""
    fields, said = changes.fields, []
    if "status" in fields:
        said.append(f"Status: {fields['status'].replace('_', ' ').title()}")
    if "assignee_id" in fields:
        assignee = db.session.get(User, parse_id(fields["assignee_id"])) if fields["assignee_id"] else None
        said.append(f"Assignee: {assignee.display_name if assignee else 'nobody'}")
    if "severity" in fields:
        level = int(fields["severity"])
        said.append(f"Severity: SEV {level} ({SEVERITY_LABELS[level][0]})")
    if "item_id" in fields:
        names = [getattr(db.session.get(model, parse_id(fields[name])), "name", "?")
                 for model, name in ((Category, "category_id"), (CtiType, "type_id"), (Item, "item_id"))]
        said.append(f"Route: {cti_path(*names)}")
    said.extend(f"{name.title()} edited" for name in ("title", "overview") if name in fields)
    if changes.comment is not None:
        said.append("Comment added")
    return said


@dataclass(frozen=True)
class Target:
    """One ticket of a selection: its display id (anything else names none), and the version its caller saw, if any."""

    ref: str
    version: int | None = None


def check_size(count: int) -> None:
    if count > BULK_MAX:
        raise ValidationError({"tickets": (
            f"At most {BULK_MAX:,} tickets a bulk change ({count:,} given); split the list, or select by filter.")})


def clean_ref(value) -> str:
    """A ticket reference as text: display ids in upper case, so one ticket has one spelling."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= REF_MAX or text_fault(value):
        raise ValidationError({"ticket": f"Give a ticket's display id (V#########), as text of 1 to {REF_MAX} characters."})
    ref = value.strip()
    return ref.upper() if DISPLAY_ID.fullmatch(ref) else ref


@dataclass(frozen=True)
class Failure:
    """A ticket that was not changed, and why, in the API's error shape."""

    ticket: str
    code: str
    message: str
    fields: dict = field(default_factory=dict)

    @classmethod
    def of(cls, ticket: str, exc: DomainError) -> "Failure":
        return cls(ticket, exc.code, exc.message, dict(exc.fields))

    @classmethod
    def from_json(cls, ticket: str, error: dict) -> "Failure":
        return cls(ticket, error["code"], error["message"], error.get("fields") or {})

    @property
    def reason(self) -> str:
        """The refusal in words for people: the field messages (each names what it is about), else the message."""
        return "; ".join(self.fields.values()) or self.message

    @property
    def error(self) -> dict:
        return {"code": self.code, "message": self.message, "fields": self.fields}


def not_found(ref: str) -> Failure:
    hint = "" if DISPLAY_ID.fullmatch(ref) else "; give display ids (V#########)"
    return Failure(ref, "not_found", f"No ticket {ref}{hint}.")


def repeated(ref: str) -> Failure:
    return Failure(ref, "duplicate", f"{ref} is selected more than once; it was changed once.")


@dataclass
class Outcome:
    """Which tickets changed (or already were as asked) and which refused, in the order they were tried."""

    updated: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)

    def add(self, ref: str, failure: Failure | None) -> None:
        if failure is None:
            self.updated.append(ref)
        else:
            self.failed.append(failure)


def split_repeats(targets: list[Target]) -> tuple[list[Target], list[Failure]]:
    """The targets with each reference once (the first keeps its place), and a failure per repeat."""
    seen, unique, repeats = set(), [], []
    for target in targets:
        if target.ref in seen:
            repeats.append(repeated(target.ref))
        else:
            seen.add(target.ref)
            unique.append(target)
    return unique, repeats


@dataclass
class Picked:
    """A target as loaded: its reference, the ticket it names (None: none), the version expected."""

    ref: str
    ticket: Ticket | None
    version: int | None = None


def load_targets(targets: list[Target]) -> list[Picked]:
    """The tickets a chunk of targets names by display id, in one query, in the targets' order
    (anything else names no ticket: a bulk selection is of display ids, so no two name one ticket)."""
    display_ids = [target.ref for target in targets if DISPLAY_ID.fullmatch(target.ref)]
    found = {ticket.display_id: ticket for ticket in db.session.scalars(
        _locked(db.select(Ticket).where(Ticket.display_id.in_(display_ids))))} if display_ids else {}
    return [Picked(target.ref, found.get(target.ref), target.version) for target in targets]


def load_ids(ids: list[int]) -> dict[int, Ticket]:
    """The tickets with these ids, in one query."""
    if not ids:
        return {}
    return {ticket.id: ticket for ticket in db.session.scalars(_locked(db.select(Ticket).where(Ticket.id.in_(ids))))}


def _locked(query):
    """The chunk's tickets without their related rows (the actions that read them, assign and
    reroute, find them in the session: a chunk shares a few people and routes); on PostgreSQL
    locked until the chunk's transaction ends, in id order so two bulk changes never deadlock.
    With the lock no other writer can move a ticket's version on between this read and its
    change, so a change with one part (see `apply_one`) needs no savepoint."""
    query = query.options(lazyload("*"))
    if db.session.get_bind().dialect.name != "postgresql":
        return query
    return query.order_by(Ticket.id).with_for_update(of=Ticket)


def rows_locked() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def apply_one(actor: User, ticket: Ticket, changes: Changes, version: int | None = None) -> Failure | None:
    """Change one ticket: all of its changes, or (with the reason) none of them.

    Several parts (fields, a comment) run in a savepoint, as a later part may refuse after an
    earlier one was written. A single part needs none where the ticket's row is locked: each
    action refuses (bad value, stale version, transition) before it writes anything, and with
    the lock no concurrent write can make its UPDATE miss.
    """
    try:
        with db.session.begin_nested() if changes.parts > 1 or not rows_locked() else nullcontext(), \
                report_rollups.deferred():  # its rollup deltas join the chunk's only if it goes through
            update_ticket(actor, ticket, changes.fields, expected_version=version)
            if changes.comment is not None:
                add_comment(actor, ticket, changes.comment)
            flush()  # anything still pending fails here, inside the savepoint, as a DomainError
    except DomainError as exc:
        return Failure.of(ticket.display_id, exc)
    return None


def apply_picked(actor: User, picked: list[Picked], changes: Changes) -> Iterator[tuple[Picked, Failure | None]]:
    """(picked, failure or None) for each of a chunk's targets, in order."""
    for one in picked:
        yield one, not_found(one.ref) if one.ticket is None else apply_one(actor, one.ticket, changes, one.version)
