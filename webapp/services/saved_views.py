"""Saved views: named queue filters, personal or shared; created, changed and deleted with an audit event.

A view stores the queue's canonical arguments (ListFilter.as_args) and is rebuilt with
ListFilter.from_web_args, so filters the listing learns later flow through unchanged, and an
argument it no longer knows is ignored. Shared views are everyone's to see; a view is changed
by its owner, and a shared one also by any admin. Built-in views have no owner.
"""
import unicodedata
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from ..db.utc import utcnow
from ..extensions import db
from ..models import SavedView, User
from . import audit
from .base import commit, get_or_404
from .errors import FieldErrors, Forbidden, ValidationError
from .listing import FILTER_NAMES, ListFilter, count_capped
from .text import checked_text

NAME_MAX = 80
VALUE_MAX = 500  # one stored filter value, e.g. a dedupKey
VIEWS_MAX = 50  # per person, and shared ones in all: each costs one count on every queue page
# Seeded for everyone (migration 0005 writes the same two): the dashboard, and each viewer's own work.
BUILTIN_VIEWS = (("Open queue", {}), ("My tickets", {"assignee": "me"}))
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSET = object()


def visible(viewer: User):
    """The SQL condition for the views `viewer` may see: every shared one and their own."""
    return sa.or_(SavedView.shared, SavedView.owner_id == viewer.id)


def views_for(viewer: User) -> list[SavedView]:
    """The sidebar's views: shared ones (built-in first, as seeded) then the viewer's own, by name."""
    views = db.session.scalars(sa.select(SavedView).where(visible(viewer))).all()
    return sorted(views, key=lambda v: (not v.shared, not v.builtin, v.id if v.builtin else 0, v.name_key, v.id))


VIEW_ORDER = (SavedView.id,)


def views_query(viewer: User):
    """The views `viewer` may see, in the order they were made (the API pages through them)."""
    return sa.select(SavedView).where(visible(viewer)).order_by(*VIEW_ORDER)


def can_see(user: User, view: SavedView) -> bool:
    """The rule `visible` writes in SQL: shared views are everyone's to see, the rest their owner's."""
    return view.shared or view.owner_id == user.id


def get_view(viewer: User, ref) -> SavedView:
    """A view `viewer` may see; another person's personal view is as missing as one never made."""
    return get_or_404(SavedView, ref, f"No view {ref}.", accept=lambda view: can_see(viewer, view))


def can_edit(user: User, view: SavedView) -> bool:
    """Owners change their views; a shared view is also any admin's to change."""
    return view.owner_id == user.id or (view.shared and user.is_admin)


def view_filter(view: SavedView) -> ListFilter:
    """The view's filters as the dashboard reads its URL: what it does not know, it ignores."""
    return ListFilter.from_web_args(view.filters or {})


def counts(viewer: User, views: list[SavedView]) -> dict[int, int]:
    """Each view's ticket count as `viewer` sees it (`me` is the viewer), capped: one bounded query each."""
    return {view.id: count_capped(view_filter(view), viewer) for view in views}


def clean_name(value) -> str:
    """The view's name as shown in the sidebar: the text rule, then no other control or bidi characters."""
    name = checked_text("name", value).strip() if isinstance(value, str) else ""
    if not name or len(value) > NAME_MAX:
        raise ValidationError({"name": f"Give the view a name of 1–{NAME_MAX} characters."})
    if any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in name):
        raise ValidationError({"name": "Use letters, digits, spaces and punctuation; no control characters."})
    return name


def clean_filters(args) -> dict[str, str]:
    """The canonical arguments of a filter set, checked as strictly as the API's ticket list checks
    them; a bad part is refused under `filters.<name>`. No status means open work, as on the dashboard."""
    if not isinstance(args, Mapping):
        raise ValidationError({"filters": 'Give the filters as an object, e.g. {"severity": "1"}.'})
    values, errors = _as_multidict(args)
    try:
        ListFilter.from_api_args(values)
    except ValidationError as exc:
        errors.fields.update({f"filters.{name}": text for name, text in exc.fields.items()})
    canonical = {name: str(value) for name, value in ListFilter.from_web_args(values).as_args().items()}
    known = {name for names in FILTER_NAMES.values() for name in names} | set(canonical)
    for name in values:
        if name not in known:
            errors.add(f"filters.{name}", f"Unknown filter; use {', '.join(sorted(known))}.")
    for name, value in canonical.items():
        if len(value) > VALUE_MAX:
            errors.add(f"filters.{name}", f"Use at most {VALUE_MAX} characters.")
    errors.raise_if_any()
    return canonical


def _as_multidict(args: Mapping) -> tuple[MultiDict, FieldErrors]:
    """Form arguments as they are; JSON values (a string, a number or a list of them) as strings."""
    errors = FieldErrors()
    if isinstance(args, MultiDict):
        return MultiDict(args), errors
    values = MultiDict()
    for name, value in args.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                errors.add(f"filters.{name}", "Give a string, a number or a list of them.")
            else:
                values.add(str(name), str(item))
    return values, errors


def _check_unique(name: str, *, shared: bool, owner_id: int | None, current: SavedView | None, errors) -> None:
    """Refuse a name another view in the same sidebar section already has (shared, or this owner's)."""
    query = sa.select(SavedView.id).where(SavedView.name_key == name.casefold(), SavedView.shared == shared)
    if not shared:
        query = query.where(SavedView.owner_id == owner_id)
    taken = db.session.scalar(query.limit(1))
    if taken is not None and (current is None or taken != current.id):
        errors.add("name", f"A shared view named “{name}” already exists." if shared
                   else f"You already have a view named “{name}”.")


def _check_room(*, shared: bool, owner_id: int | None, errors) -> None:
    query = sa.select(sa.func.count()).select_from(SavedView).where(SavedView.shared == shared)
    if not shared:
        query = query.where(SavedView.owner_id == owner_id)
    if db.session.scalar(query) >= VIEWS_MAX:
        errors.add("name", f"There are already {VIEWS_MAX} {'shared' if shared else 'personal'} views; "
                           "delete one first.")


def described(view: SavedView) -> dict:
    """How a view appears in the audit trail."""
    return {"name": view.name, "shared": view.shared, "filters": dict(view.filters)}


def create_view(actor: User, *, name, filters, shared=False) -> SavedView:
    """Save a filter set under a name, for the actor alone or (shared) for everyone."""
    errors = FieldErrors()
    name = errors.check(clean_name, name)
    filters = errors.check(clean_filters, filters)
    shared = bool(shared)
    if name is not None:
        _check_unique(name, shared=shared, owner_id=actor.id, current=None, errors=errors)
        _check_room(shared=shared, owner_id=actor.id, errors=errors)
    errors.raise_if_any()
    now = utcnow()
    view = SavedView(owner_id=actor.id, name=name, name_key=name.casefold(), shared=shared, filters=filters,
                     created_at=now, updated_at=now)
    _flush_unique(view, name)
    audit.record(actor, "view_create", target=("view", view.id), after=described(view), at=now)
    commit()
    return view


def update_view(actor: User, view: SavedView, *, name=_UNSET, filters=_UNSET, shared=_UNSET) -> SavedView:
    """Rename, re-filter or (un)share a view; only what is given changes, audited if anything did."""
    if not can_edit(actor, view):
        raise Forbidden("Only the view's owner, or an admin for a shared view, can change it.")
    errors = FieldErrors()
    new_name = view.name if name is _UNSET else errors.check(clean_name, name)
    new_filters = view.filters if filters is _UNSET else errors.check(clean_filters, filters)
    new_shared = view.shared if shared is _UNSET else bool(shared)
    if view.builtin and not new_shared:
        errors.add("shared", "A built-in view is everyone's; it stays shared.")
    if new_name is not None and (new_name.casefold() != view.name_key or new_shared != view.shared):
        _check_unique(new_name, shared=new_shared, owner_id=view.owner_id, current=view, errors=errors)
        if new_shared != view.shared:
            _check_room(shared=new_shared, owner_id=view.owner_id, errors=errors)
    errors.raise_if_any()
    before = described(view)
    view.name, view.name_key, view.filters, view.shared = new_name, new_name.casefold(), new_filters, new_shared
    after = described(view)
    changed = [key for key in before if before[key] != after[key]]
    if not changed:
        return view
    view.updated_at = utcnow()
    _flush_unique(view, new_name)
    named = ["name", *(key for key in changed if key != "name")]  # the name always, to tell which view
    audit.record(actor, "view_update", target=("view", view.id),
                 before={key: before[key] for key in named}, after={key: after[key] for key in named})
    commit()
    return view


def delete_view(actor: User, view: SavedView) -> None:
    """Delete a view; its name and filters stay in the audit trail."""
    if not can_edit(actor, view):
        raise Forbidden("Only the view's owner, or an admin for a shared view, can delete it.")
    audit.record(actor, "view_delete", target=("view", view.id), before=described(view))
    db.session.delete(view)
    commit()


def _flush_unique(view: SavedView, name: str) -> None:
    """Write the view now; a concurrent save of the same name loses with the message the check gives."""
    try:
        with db.session.begin_nested():
            db.session.add(view)
            db.session.flush()
    except IntegrityError:
        raise ValidationError({"name": f"A view named “{name}” was just saved by someone else."}) from None


def seed_builtin_views() -> int:
    """Add whichever built-in view is missing by name among the shared ones (`flask seed`)."""
    added = 0
    for name, filters in BUILTIN_VIEWS:
        query = sa.select(SavedView.id).where(SavedView.shared, SavedView.name_key == name.casefold())
        taken = db.session.scalar(query)
        if taken is None:
            now = utcnow()
            db.session.add(SavedView(owner_id=None, name=name, name_key=name.casefold(), shared=True,
                                     filters=dict(filters), created_at=now, updated_at=now))
            added += 1
    commit()
    return added
