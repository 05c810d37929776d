"""Links between tickets: relates to, duplicate of (which closes the duplicate) and parent of.

A link is one row; each ticket sees it from its own side: the `kind` a person or the API names is
the link as seen from the ticket it is added to (`child_of` is a parent_of row the other way round),
and the `label` is what the other ticket is to this one (its "Parent", a "Duplicate of", ...).
Both tickets get a `link_add` / `link_remove` audit event (and so their webhooks), each with the
kind from its own side.
"""
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ACTIVE_STATUSES, LinkKind, Status, Ticket, TicketLink, User
from ..db.utc import utcnow
from . import audit
from .base import flush, parse_id, transaction
from .comments import add_comment
from .errors import NotFound, ValidationError
from .tickets import change_status, get_ticket

# The kind as seen from the ticket it is added to -> (stored kind, that ticket is the row's source).
SIDES = {
    "relates_to": (LinkKind.RELATES_TO, None),  # stored once, the lower id as source
    "duplicate_of": (LinkKind.DUPLICATE_OF, True),
    "duplicated_by": (LinkKind.DUPLICATE_OF, False),
    "parent_of": (LinkKind.PARENT_OF, True),
    "child_of": (LinkKind.PARENT_OF, False),
}
# The kind as seen from a ticket -> what the other ticket is to it, in the order the page groups them.
LABELS = {"child_of": "Parent", "parent_of": "Children", "duplicate_of": "Duplicate of",
          "duplicated_by": "Duplicated by", "relates_to": "Relates to"}
# The kind as a sentence's verb: "V1 is a duplicate of V2" (the add form's choices, its confirmations).
PHRASES = {"relates_to": "relates to", "duplicate_of": "is a duplicate of", "duplicated_by": "is duplicated by",
           "parent_of": "is the parent of", "child_of": "is a child of"}
PARENT_DEPTH_MAX = 100  # how far up a chain of parents the cycle check walks
REF_MAX = 32


@dataclass(frozen=True)
class Linked:
    """The other ticket of a link, as a link list shows it."""

    id: int
    display_id: str
    title: str
    status: str
    severity: int

    @property
    def is_open(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Link:
    """One link as seen from one of its tickets: `kind` from this side, `ticket` the other one."""

    id: int
    kind: str
    ticket: Linked

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def side_kind(stored: str, is_source: bool) -> str:
    """The kind of a stored link as seen from its source (is_source) or its target."""
    return next(name for name, (kind, source) in SIDES.items() if kind == stored and source in (None, is_source))


def links_of(ticket: Ticket) -> list[Link]:
    """The ticket's links from its side, grouped in LABELS order, then by the other's display id (one query)."""
    rows = db.session.execute(_LINKS, {"me": ticket.id})
    links = [Link(row.id, side_kind(row.kind, row.source_id == ticket.id),
                  Linked(row.other_id, row.display_id, row.title, row.status, row.severity)) for row in rows]
    order = list(LABELS)
    return sorted(links, key=lambda link: (order.index(link.kind), link.ticket.display_id))


def grouped(links: list[Link]) -> list[tuple[str, list[Link]]]:
    """(label, links) pairs in LABELS order, only the labels that have links."""
    return [(label, [link for link in links if link.kind == kind])
            for kind, label in LABELS.items() if any(link.kind == kind for link in links)]


def children(links: list[Link], *, open_only: bool = False) -> list[Linked]:
    return [link.ticket for link in links if link.kind == "parent_of" and (link.ticket.is_open or not open_only)]


def _links_statement() -> sa.Select:
    me = sa.bindparam("me", type_=sa.Integer)
    other = sa.case((TicketLink.source_id == me, TicketLink.target_id), else_=TicketLink.source_id)
    return (sa.select(TicketLink.id, TicketLink.kind, TicketLink.source_id, Ticket.id.label("other_id"),
                      Ticket.display_id, Ticket.title, Ticket.status, Ticket.severity)
            .join(Ticket, Ticket.id == other)
            .where(sa.or_(TicketLink.source_id == me, TicketLink.target_id == me)))


_LINKS = _links_statement()  # built once: each page only binds the id


def clean_kind(value) -> str:
    if not isinstance(value, str) or value.strip().lower() not in SIDES:
        raise ValidationError({"kind": f"Unknown link kind {value!r}; use one of {', '.join(SIDES)}."})
    return value.strip().lower()


def find_other(value) -> Ticket:
    """The ticket a link request names (display id V######### or internal id), or a field error."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"ticket": "Name the ticket to link by its ID, e.g. V325813929."})
    ref = value.strip()
    if len(ref) > REF_MAX or not (ref[:1] in "Vv" and len(ref) == 10 or parse_id(ref) is not None):
        raise ValidationError({"ticket": f"{ref[:REF_MAX]!r} is not a ticket ID; use one like V325813929."})
    try:
        return get_ticket(ref)
    except NotFound:
        raise ValidationError({"ticket": f"No ticket {ref}."}) from None


def add_link(actor: User, ticket: Ticket, kind, other_ref) -> Link:
    """Link `ticket` to the ticket `other_ref` names, `kind` seen from `ticket`; refused (naming
    `kind` or `ticket`) for a self-link, a pair already linked, a second parent or a parent cycle.
    A duplicate is closed in the same transaction, with a note on both tickets."""
    kind = clean_kind(kind)
    other = find_other(other_ref)
    if other.id == ticket.id:
        raise ValidationError({"ticket": "A ticket cannot be linked to itself."})
    stored, ticket_is_source = SIDES[kind]
    if ticket_is_source is None:
        ticket_is_source = ticket.id < other.id
    source, target = (ticket, other) if ticket_is_source else (other, ticket)
    _refuse_existing(ticket, other)
    if stored == LinkKind.PARENT_OF:
        _refuse_second_parent_or_cycle(source, target)
    with transaction():
        now = utcnow()
        link = TicketLink(kind=stored.value, source_id=source.id, target_id=target.id, creator_id=actor.id,
                          created_at=now)
        db.session.add(link)
        try:
            flush()
        except IntegrityError:  # a concurrent request linked the pair (or gave the child a parent) first
            raise ValidationError({"ticket": f"Already linked: {other.display_id} was linked a moment ago."}) from None
        _audit_both(actor, "link_add", link, source, target, now)
        if stored == LinkKind.DUPLICATE_OF:
            _close_duplicate(actor, source, target)
    return Link(link.id, kind, _linked(other))


def remove_link(actor: User, ticket: Ticket, link_id) -> None:
    """Remove one of the ticket's links (NotFound if it has no such link), audited on both tickets.
    A duplicate closed by its link stays closed."""
    ident = parse_id(link_id)
    link = db.session.get(TicketLink, ident) if ident is not None else None
    if link is None or ticket.id not in (link.source_id, link.target_id):
        raise NotFound(f"No link {ident} on {ticket.display_id}." if ident else "No such link.")
    source, target = db.session.get(Ticket, link.source_id), db.session.get(Ticket, link.target_id)
    with transaction():
        _audit_both(actor, "link_remove", link, source, target, utcnow(), removed=True)
        db.session.delete(link)


def _refuse_existing(ticket: Ticket, other: Ticket) -> None:
    pair = sa.or_(sa.and_(TicketLink.source_id == ticket.id, TicketLink.target_id == other.id),
                  sa.and_(TicketLink.source_id == other.id, TicketLink.target_id == ticket.id))
    existing = db.session.execute(sa.select(TicketLink.kind, TicketLink.source_id).where(pair)).first()
    if existing is not None:
        label = LABELS[side_kind(existing.kind, existing.source_id == ticket.id)].lower()
        raise ValidationError({"ticket": f"Already linked: {other.display_id} is listed under “{label}”."})


def _refuse_second_parent_or_cycle(parent: Ticket, child: Ticket) -> None:
    current = db.session.scalar(
        sa.select(Ticket.display_id).join(TicketLink, TicketLink.source_id == Ticket.id)
        .where(TicketLink.target_id == child.id, TicketLink.kind == LinkKind.PARENT_OF.value))
    if current is not None:
        raise ValidationError({"ticket": f"{child.display_id} already has a parent, {current}; "
                                         "a ticket has at most one."})
    if child.id in _ancestors(parent.id):
        raise ValidationError({"ticket": f"{child.display_id} is already above {parent.display_id} in its "
                                         "chain of parents; linking them would make a loop."})


def _ancestors(ticket_id: int) -> set[int]:
    """The parent of `ticket_id`, its parent, and so on (at most PARENT_DEPTH_MAX up), in one query."""
    parent_of = TicketLink.kind == LinkKind.PARENT_OF.value
    up = (sa.select(TicketLink.source_id.label("id"), sa.literal(1).label("depth"))
          .where(TicketLink.target_id == ticket_id, parent_of).cte("ancestors", recursive=True))
    up = up.union_all(sa.select(TicketLink.source_id, up.c.depth + 1)
                      .where(TicketLink.target_id == up.c.id, parent_of, up.c.depth < PARENT_DEPTH_MAX))
    return set(db.session.scalars(sa.select(up.c.id)))


def _audit_both(actor, action: str, link: TicketLink, source: Ticket, target: Ticket, now, *,
                removed: bool = False) -> None:
    """`action` on each ticket, the kind from its side and the other ticket named."""
    for this, other in ((source, target), (target, source)):
        value = {"linkId": link.id, "kind": side_kind(link.kind, this.id == source.id),
                 "ticket": {"id": other.id, "displayId": other.display_id, "title": other.title}}
        audit.record(actor, action, ticket=this, at=now, **({"before": value} if removed else {"after": value}))


def _close_duplicate(actor: User, duplicate: Ticket, original: Ticket) -> None:
    """Note the duplicate on both tickets and move the duplicate on to CLOSED (already CLOSED: as it is)."""
    add_comment(actor, duplicate, f"Closed as a duplicate of {original.display_id}.")
    add_comment(actor, original, f"{duplicate.display_id} was marked as a duplicate of this ticket.")
    if Status(duplicate.status) in ACTIVE_STATUSES:
        change_status(actor, duplicate, Status.RESOLVED, force=True)  # its children stay as they are
    if Status(duplicate.status) == Status.RESOLVED:
        change_status(actor, duplicate, Status.CLOSED, force=True)


def _linked(ticket: Ticket) -> Linked:
    return Linked(ticket.id, ticket.display_id, ticket.title, ticket.status, ticket.severity)
