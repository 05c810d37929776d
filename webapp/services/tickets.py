"""Ticket actions: one function each, validated, audited in the same transaction."""
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import ACTIVE_STATUSES, LinkKind, Status, Ticket, TicketLink, User
from ..db.utc import utcnow
from . import audit, mentions, report_rollups
from ..db.sql import insert_or_skip
from .base import commit, found, get_or_404, parse_id
from .comments import BODY_MAX, add_comment
from .cti import resolve_cti
from .errors import Conflict, FieldErrors, ValidationError
from .text import checked_text

TITLE_MAX = 200
OVERVIEW_MAX = 50_000
DEDUP_KEY_MAX = 255
DISPLAY_ID_ATTEMPTS = 8
DEDUP_ATTEMPTS = 3

# Which status may follow which. CLOSED is final: a closed problem gets a new ticket.
TRANSITIONS = {
    Status.OPEN: {Status.IN_PROGRESS, Status.RESOLVED},
    Status.IN_PROGRESS: {Status.OPEN, Status.RESOLVED},
    Status.RESOLVED: {Status.OPEN, Status.IN_PROGRESS, Status.CLOSED},
    Status.CLOSED: set(),
}


def new_display_id() -> str:
    """`V` and nine random digits; random so IDs reveal nothing about volume."""
    return f"V{secrets.randbelow(10**9):09d}"


def get_ticket(ref) -> Ticket:
    """Load a ticket by display ID (V#########) or internal id, or raise NotFound."""
    if isinstance(ref, str) and len(ref) == 10 and ref[:1] in "Vv" and ref[1:].isascii() and ref[1:].isdigit():
        return found(db.session.scalar(_BY_DISPLAY_ID, {"display_id": ref.upper()}), f"No ticket {ref}.")
    return get_or_404(Ticket, ref, f"No ticket {ref}.")


# Built once: a statement object keeps its cache key, so each lookup only binds the id.
_BY_DISPLAY_ID = db.select(Ticket).where(Ticket.display_id == sa.bindparam("display_id", type_=sa.String))
_ID_BY_DISPLAY_ID = sa.select(Ticket.id).where(Ticket.display_id == sa.bindparam("display_id", type_=sa.String))
_KNOWN_IDS: dict[str, int] = {}
KNOWN_IDS_MAX = 20_000


def ticket_id(display_id: str) -> int:
    """The internal id of the ticket a display ID (any case) names, or NotFound. Kept per process
    once found: a ticket keeps its display ID and is never deleted, so the pair never goes stale
    (a live page's poll needs only the id; docs/performance.md)."""
    key = display_id.upper()
    if (known := _KNOWN_IDS.get(key)) is not None:
        return known
    found_id = found(db.session.scalar(_ID_BY_DISPLAY_ID, {"display_id": key}), f"No ticket {display_id}.")
    if len(_KNOWN_IDS) >= KNOWN_IDS_MAX:
        _KNOWN_IDS.clear()
    _KNOWN_IDS[key] = found_id
    return found_id


def forget_ticket_ids() -> None:
    _KNOWN_IDS.clear()


def clean_title(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"title": "Give the ticket a title."})
    title = " ".join(checked_text("title", value).split())
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": f"Keep the title under {TITLE_MAX} characters ({len(title)} now)."})
    return title


def clean_overview(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({"overview": "The overview must be text."})
    if len(value) > OVERVIEW_MAX:
        raise ValidationError({"overview": f"Keep the overview under {OVERVIEW_MAX} characters."})
    return checked_text("overview", value).strip()


def clean_severity(value) -> int:
    severity = parse_id(value)
    if severity is None or not 1 <= severity <= 5:
        raise ValidationError({"severity": "Severity must be a whole number from 1 (critical) to 5 (minimal)."})
    return severity


def clean_assignee(value) -> User | None:
    if value is None or value == "":
        return None
    ident = parse_id(value)
    user = db.session.get(User, ident) if ident is not None else None
    if user is None:
        raise ValidationError({"assignee": f"Unknown user id {value!r}."})
    if not user.active:
        raise ValidationError({"assignee": f"{user.display_name} is deactivated and cannot be assigned."})
    return user


def status_named(text: str) -> Status | None:
    """The status a person or a workflow means: OPEN, IN_PROGRESS, RESOLVED or CLOSED in any case,
    with a space or a dash for the underscore (`resolved`, `In progress`); None for any other text.
    The one reading of a status, for the web, the API, bulk changes and list filters alike."""
    name = text.upper().replace("-", "_").replace(" ", "_")
    return Status.__members__.get(name)


def clean_status(value) -> Status:
    status = value if isinstance(value, Status) else status_named(value) if isinstance(value, str) else None
    if status is None:
        known = ", ".join(s.value for s in Status)
        raise ValidationError({"status": f"Unknown status {value!r}; use one of {known} (any case)."})
    return status


class DuplicateOpenTicket(Conflict):
    """Another open ticket holds this dedup key (two creates raced for it)."""


def clean_dedup_key(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= DEDUP_KEY_MAX:
        raise ValidationError({"dedup_key": f"The dedup key must be text of 1 to {DEDUP_KEY_MAX} characters."})
    return checked_text("dedup_key", value)


def _clean_new_ticket(
    *, title, severity, category_id, type_id, item_id, overview="", assignee_id=None, dedup_key=None,
) -> dict:
    """Check every field of a new ticket at once, reporting each bad one."""
    errors = FieldErrors()
    fields = {
        "title": errors.check(clean_title, title),
        "overview": errors.check(clean_overview, overview),
        "severity": errors.check(clean_severity, severity),
        "assignee": errors.check(clean_assignee, assignee_id),
        "dedup_key": errors.check(clean_dedup_key, dedup_key),
    }
    cti = errors.check(lambda ids: resolve_cti(*ids), (category_id, type_id, item_id))
    errors.raise_if_any()
    fields["category"], fields["type"], fields["item"] = cti
    return fields


def create_ticket(
    actor: User, *, title, overview="", severity, category_id, type_id, item_id,
    assignee_id=None, dedup_key=None,
) -> Ticket:
    """Open a ticket with every field checked, and its `create` audit event."""
    fields = _clean_new_ticket(
        title=title, overview=overview, severity=severity, category_id=category_id,
        type_id=type_id, item_id=item_id, assignee_id=assignee_id, dedup_key=dedup_key,
    )
    return _open_ticket(actor, fields)


def _open_ticket(actor: User, fields: dict) -> Ticket:
    now = utcnow()
    category, type_, item, assignee = fields["category"], fields["type"], fields["item"], fields["assignee"]
    values = {
        "title": fields["title"], "overview": fields["overview"], "severity": fields["severity"],
        "status": Status.OPEN.value, "category_id": category.id, "type_id": type_.id, "item_id": item.id,
        "assignee_id": assignee.id if assignee else None, "creator_id": actor.id,
        "dedup_key": fields["dedup_key"], "created_at": now, "updated_at": now, "resolved_at": None,
        "closed_at": None, "first_response_at": None, "version": 1,
    }
    created = {
        "title": values["title"], "severity": values["severity"], "status": Status.OPEN.value,
        "cti": audit.route_ref(category, type_, item), "assignee": audit.user_ref(assignee),
    }
    if named := mentions.mentioned_names(values["overview"]):
        created["mentions"] = sorted(named)  # whom the overview @mentions, for the fan-out (services.notify)
    ticket = _insert_with_unique_display_id(actor, values, created)
    for name, value in (("category", category), ("type", type_), ("item", item), ("assignee", assignee),
                        ("creator", actor)):
        set_committed_value(ticket, name, value)  # known already: no lazy load to answer with them
    commit(keep_loaded=True)
    return ticket


def open_ticket_with_dedup_key(dedup_key: str) -> Ticket | None:
    """The OPEN or IN_PROGRESS ticket holding this dedup key (at most one: a partial unique index)."""
    query = db.select(Ticket).where(Ticket.dedup_key == dedup_key, Ticket.status.in_(ACTIVE_STATUSES))
    return db.session.scalar(query)


def create_or_dedup(actor: User, *, dedup_key=None, **fields) -> tuple[Ticket, bool]:
    """Open a ticket, unless one with the same dedup key is still open: then note the recurrence on it.

    PagerDuty's dedup_key semantics: monitors may report the same problem every minute and
    get one ticket until someone resolves it. Returns (ticket, deduplicated).
    """
    cleaned = _clean_new_ticket(dedup_key=dedup_key, **fields)
    if cleaned["dedup_key"] is None:
        return _open_ticket(actor, cleaned), False
    for _ in range(DEDUP_ATTEMPTS):
        existing = open_ticket_with_dedup_key(cleaned["dedup_key"])
        if existing is not None:
            add_comment(actor, existing, _recurrence_note(cleaned))
            return existing, True
        try:
            return _open_ticket(actor, cleaned), False
        except DuplicateOpenTicket:
            continue  # a concurrent create took the key first: note the recurrence on its ticket
    raise Conflict("Another request is creating a ticket with this dedup key; please retry.")


def _recurrence_note(fields: dict) -> str:
    note = f"**Occurred again:** {fields['title']}"
    if fields["overview"]:
        note += "\n\n" + fields["overview"]
    return note[:BODY_MAX]


def _insert_with_unique_display_id(actor: User, values: dict, created: dict) -> Ticket:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, with its `create` event (`created` its after
    value): on a display-ID collision draw another and try again.

    A skipped insert leaves the transaction usable, so no savepoint (two more round trips) is needed;
    a row that was skipped although its display ID is free means the dedup key is taken. The row
    becomes a persistent Ticket from the values written: nothing is read back.
    """
    statement = insert_or_skip(Ticket.__table__, ("display_id", *values), returning="id")
    for _ in range(DISPLAY_ID_ATTEMPTS):
        values["display_id"] = new_display_id()
        ticket_id = audit.record_insert(actor, "create", statement, values, after=created, at=values["created_at"],
                                        also=report_rollups.NEW_TICKET)  # the report rollups, same statement
        if ticket_id is not None:
            return _as_loaded(ticket_id, values)
        taken = db.session.scalar(db.select(Ticket.id).filter_by(display_id=values["display_id"]))
        if taken is None:
            raise DuplicateOpenTicket("An open ticket already uses this dedup key.")
    raise Conflict("Could not allocate a ticket ID; please retry.")


def _as_loaded(ticket_id: int, values: dict) -> Ticket:
    """The row just written as a persistent Ticket, its columns set as a query would load them:
    into the instance's dict, with no attribute events or history (docs/performance.md)."""
    ticket = Ticket.__mapper__.class_manager.new_instance()
    ticket.__dict__.update(values, id=ticket_id)
    make_transient_to_detached(ticket)
    db.session.add(ticket)
    return ticket


def _check_version(ticket: Ticket, expected_version) -> None:
    if expected_version is None or expected_version == "":
        return
    if parse_id(expected_version) != ticket.version:
        raise Conflict(
            f"{ticket.display_id} was changed by someone else since you loaded it "
            f"(version {expected_version}, now {ticket.version}). Review the latest and try again."
        )


def _touch(ticket: Ticket, now) -> None:
    ticket.updated_at = now


class OpenChildren(Conflict):
    """Resolving or closing a parent whose children are still open: asked again with force=True."""

    code = "open_children"


def clean_force(value) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({"force": "Send true or false."})
    return value


def open_child_count(ticket: Ticket) -> int:
    """How many of the ticket's children are OPEN or IN_PROGRESS (one query, along the link pair index)."""
    return db.session.scalar(_OPEN_CHILDREN, {"parent": ticket.id})


_OPEN_CHILDREN = (  # built once: each check only binds the id
    sa.select(sa.func.count()).select_from(TicketLink).join(Ticket, Ticket.id == TicketLink.target_id)
    .where(TicketLink.source_id == sa.bindparam("parent", type_=sa.Integer),
           TicketLink.kind == LinkKind.PARENT_OF.value, Ticket.status.in_([s.value for s in ACTIVE_STATUSES]))
)


def change_status(actor: User, ticket: Ticket, status, *, expected_version=None, force: bool = False) -> Ticket:
    """Move a ticket along OPEN -> IN_PROGRESS -> RESOLVED -> CLOSED (re-open allowed); resolving or
    closing a parent with open children raises OpenChildren unless `force`."""
    _check_version(ticket, expected_version)
    new = clean_status(status)
    old = Status(ticket.status)
    if new == old:
        return ticket
    if new not in TRANSITIONS[old]:
        raise ValidationError({"status": _transition_refusal(old, new)})
    if new in (Status.RESOLVED, Status.CLOSED) and not force and (count := open_child_count(ticket)):
        raise OpenChildren(f"{ticket.display_id} has {count} open child ticket{'s' if count != 1 else ''}; "
                           "resolve them first or force it.")
    now = utcnow()
    counted = report_rollups.facts(ticket)
    ticket.status = new
    if new == Status.IN_PROGRESS and ticket.first_response_at is None:
        ticket.first_response_at = now  # the reports' first response; re-opening keeps it
    if new == Status.RESOLVED:
        ticket.resolved_at = now
    elif new in ACTIVE_STATUSES:
        ticket.resolved_at = None  # re-opening restarts the auto-close timer
    elif new == Status.CLOSED:
        ticket.closed_at = now
    _touch(ticket, now)
    audit.record(actor, "status", ticket=ticket, before=old.value, after=new.value, at=now)
    report_rollups.shift(counted, report_rollups.facts(ticket))
    commit()
    return ticket


def auto_close_at(ticket: Ticket) -> datetime | None:
    """When the sweep will close a resolved ticket: its resolution time plus AUTO_CLOSE_DAYS."""
    if ticket.status != Status.RESOLVED or ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(days=current_app.config["AUTO_CLOSE_DAYS"])


def _transition_refusal(old: Status, new: Status) -> str:
    if old == Status.CLOSED:
        return "Closed tickets are final; file a new ticket instead."
    if new == Status.CLOSED:
        return "Only a resolved ticket can be closed; resolve it first."
    return f"A {old.value} ticket cannot move to {new.value}."


def assign(actor: User, ticket: Ticket, assignee_id, *, expected_version=None) -> Ticket:
    """Give the ticket to someone (or to nobody, with None)."""
    _check_version(ticket, expected_version)
    assignee = clean_assignee(assignee_id)
    if assignee is ticket.assignee or (assignee and assignee.id == ticket.assignee_id):
        return ticket
    now = utcnow()
    before = audit.user_ref(ticket.assignee)
    ticket.assignee = assignee
    _touch(ticket, now)
    audit.record(actor, "assignee", ticket=ticket, before=before, after=audit.user_ref(assignee), at=now)
    commit()
    return ticket


def change_severity(actor: User, ticket: Ticket, severity, *, expected_version=None) -> Ticket:
    _check_version(ticket, expected_version)
    return _set_field(actor, ticket, "severity", clean_severity(severity))


def reroute(actor: User, ticket: Ticket, category_id, type_id, item_id, *, expected_version=None) -> Ticket:
    """Move the ticket to another Category -> Type -> Item."""
    _check_version(ticket, expected_version)
    category, cti_type, item = resolve_cti(category_id, type_id, item_id)
    if item.id == ticket.item_id:
        return ticket
    now = utcnow()
    before, counted = audit.cti_ref(ticket), report_rollups.facts(ticket)
    ticket.category, ticket.type, ticket.item = category, cti_type, item
    _touch(ticket, now)
    audit.record(actor, "reroute", ticket=ticket, before=before, after=audit.cti_ref(ticket), at=now)
    report_rollups.shift(counted, report_rollups.facts(ticket))  # after the flush: the new ids are set
    commit()
    return ticket


def edit_title(actor: User, ticket: Ticket, title, *, expected_version=None) -> Ticket:
    _check_version(ticket, expected_version)
    return _set_field(actor, ticket, "title", clean_title(title))


def edit_overview(actor: User, ticket: Ticket, overview, *, expected_version=None) -> Ticket:
    _check_version(ticket, expected_version)
    return _set_field(actor, ticket, "overview", clean_overview(overview))


def _set_field(actor: User, ticket: Ticket, field: str, new) -> Ticket:
    """Change one plain field, audited under the field's name; unchanged values write nothing."""
    old = getattr(ticket, field)
    if new == old:
        return ticket
    now = utcnow()
    counted = report_rollups.facts(ticket)
    setattr(ticket, field, new)
    _touch(ticket, now)
    audit.record(actor, field, ticket=ticket, before=old, after=new, at=now)
    report_rollups.shift(counted, report_rollups.facts(ticket))  # moves only when the severity changed
    commit()
    return ticket


def update_ticket(actor: User, ticket: Ticket, changes: dict, *, expected_version=None) -> Ticket:
    """Apply several field changes in one transaction, one audit event per changed field; `force`
    (True/False) lets a status change resolve a parent with open children."""
    from .base import transaction

    _check_version(ticket, expected_version)
    errors = FieldErrors()
    route = _route_ids(changes, errors)
    force = clean_force(changes["force"]) if "force" in changes else False  # before any change is tried
    with transaction():
        for field, action in _UPDATE_ACTIONS.items():
            if field in changes:
                extra = {"force": force} if field == "status" else {}
                errors.check(lambda value, act=action, kw=extra: act(actor, ticket, value, **kw), changes[field])
        if route:
            errors.check(lambda ids: reroute(actor, ticket, *ids), route)
        errors.raise_if_any()
    return ticket


def check_changes(changes: dict) -> None:
    """Refuse, naming each bad field, `update_ticket` changes that no ticket could take (a value its
    cleaner refuses, half a route), so a bulk change can say so once instead of once per ticket."""
    errors = FieldErrors()
    for field, cleaner in _CLEANERS.items():
        if field in changes:
            errors.check(cleaner, changes[field])
    route = _route_ids(changes, errors)
    if route:
        errors.check(lambda ids: resolve_cti(*ids), route)
    errors.raise_if_any()


ROUTE_FIELDS = ("category_id", "type_id", "item_id")


def _route_ids(changes: dict, errors: FieldErrors) -> tuple | None:
    """The (category, type, item) ids a change reroutes to, or None; half a route is an error."""
    given = [name for name in ROUTE_FIELDS if name in changes]
    if given and len(given) < len(ROUTE_FIELDS):
        errors.add("item", "To reroute, give the category, type and item together.")
        return None
    return tuple(changes[name] for name in ROUTE_FIELDS) if given else None


_UPDATE_ACTIONS = {
    "title": edit_title,
    "overview": edit_overview,
    "severity": change_severity,
    "assignee_id": assign,
    "status": change_status,
}
# The cleaner each action above runs on its value first.
_CLEANERS = {
    "title": clean_title, "overview": clean_overview, "severity": clean_severity,
    "assignee_id": clean_assignee, "status": clean_status,
}
