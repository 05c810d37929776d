"""The Category -> Type -> Item tree on one page, edited in place with htmx."""
from dataclasses import dataclass, field

from flask import flash, redirect, request, url_for

from ..auth.access import ADMIN, access
from ..services import cti_admin
from ..services.base import parse_id
from ..ui.rendering import render, render_partial, wants_fragment
from . import bp
from .helpers import actor, attempt

LEVEL = "<any(category,type,item):level>"
NAME_TEMPLATE = "admin/_cti_name.html"


@dataclass
class TreeState:
    """What the tree shows besides the data: an entry being renamed, messages, half-typed additions."""

    editing: tuple | None = None
    rename_value: str | None = None
    rename_error: str | None = None
    notices: dict = field(default_factory=dict)      # (level, id) -> (kind, message)
    add_values: dict = field(default_factory=dict)   # (level, parent_id) -> text typed
    add_errors: dict = field(default_factory=dict)   # (level, parent_id) -> message
    banner: tuple | None = None                      # (kind, message) with no entry to sit beside

    def notice(self, level, entry_id):
        return self.notices.get((level, entry_id))


def _tree(state: TreeState | None = None, status: int = 200):
    """The whole page, or only the tree for an htmx swap; one context for both."""
    return render("admin/cti.html", "tree", status=status, categories=cti_admin.load_tree(), state=state or TreeState())


def _done(message: str, anchor: str, state: TreeState):
    """After a change: the refreshed tree for htmx, or a redirect back to the entry for a plain form."""
    if wants_fragment():
        return _tree(state)
    flash(message, "success")
    return redirect(url_for("admin.cti") + f"#{anchor}", 303)


@bp.get("/cti")
@access(ADMIN)
def cti():
    return _tree()


@bp.post(f"/cti/{LEVEL}")
@access(ADMIN)
def cti_add(level: str):
    name, parent_id = request.form.get("name", ""), request.form.get("parent_id") or None
    entry, error = attempt(cti_admin.add_entry, actor(), level, name, parent_id)
    slot = (level, parse_id(parent_id))
    if error and "name" not in error.fields:  # the parent vanished: no form of its own to show it
        return _tree(TreeState(banner=("error", error.message)), 422)
    if error:
        return _tree(TreeState(add_values={slot: name}, add_errors={slot: error.fields["name"]}), 422)
    state = TreeState(notices={(level, entry.id): ("ok", "Added.")})
    return _done(f"Added {level} “{entry.name}”.", f"{level}-{entry.id}", state)


def _name(level: str, entry, *, editing: bool, value=None, error=None, status: int = 200):
    """The entry's name cell alone: plain (click to edit) or the inline rename form."""
    return render_partial(NAME_TEMPLATE, status=status, level=level, entry=entry, editing=editing, value=value, error=error)


def _back_to(level: str, entry_id: int):
    return redirect(url_for("admin.cti") + f"#{level}-{entry_id}", 303)


@bp.get(f"/cti/{LEVEL}/<int:entry_id>/edit")
@access(ADMIN)
def cti_edit(level: str, entry_id: int):
    """Click to rename: the inline form for htmx, or the page with this entry in edit mode."""
    entry = cti_admin.get_entry(level, entry_id)
    if wants_fragment():
        return _name(level, entry, editing=True)
    return _tree(TreeState(editing=(level, entry_id)))


@bp.get(f"/cti/{LEVEL}/<int:entry_id>/name")
@access(ADMIN)
def cti_name(level: str, entry_id: int):
    """Cancel a rename: the plain name again."""
    entry = cti_admin.get_entry(level, entry_id)
    return _name(level, entry, editing=False) if wants_fragment() else _back_to(level, entry_id)


@bp.post(f"/cti/{LEVEL}/<int:entry_id>/name")
@access(ADMIN)
def cti_rename(level: str, entry_id: int):
    name = request.form.get("name", "")
    entry, error = attempt(cti_admin.rename_entry, actor(), level, entry_id, name)
    if error:
        message = error.fields.get("name", error.message)
        if wants_fragment():
            original = cti_admin.get_entry(level, entry_id)
            return _name(level, original, editing=True, value=name, error=message, status=422)
        return _tree(TreeState(editing=(level, entry_id), rename_value=name, rename_error=message), 422)
    if wants_fragment():  # the whole tree: the delete confirmation and screen-reader labels name it too
        state = TreeState(notices={(level, entry_id): ("ok", f"Renamed to “{entry.name}”.")})
        response = _tree(state)
        response.headers.update({"HX-Retarget": "#cti-tree", "HX-Reswap": "outerMorph"})
        return response
    flash(f"Renamed to “{entry.name}”.", "success")
    return _back_to(level, entry_id)


@bp.post(f"/cti/{LEVEL}/<int:entry_id>/deactivate")
@access(ADMIN)
def cti_deactivate(level: str, entry_id: int):
    entry = cti_admin.set_entry_active(actor(), level, entry_id, False)
    message = "Deactivated: no longer offered for new tickets or reroutes; existing tickets keep it."
    state = TreeState(notices={(level, entry_id): ("ok", message)})
    return _done(f"Deactivated “{entry.name}”.", f"{level}-{entry_id}", state)


@bp.post(f"/cti/{LEVEL}/<int:entry_id>/reactivate")
@access(ADMIN)
def cti_reactivate(level: str, entry_id: int):
    entry = cti_admin.set_entry_active(actor(), level, entry_id, True)
    state = TreeState(notices={(level, entry_id): ("ok", "Active again: offered for new tickets.")})
    return _done(f"Reactivated “{entry.name}”.", f"{level}-{entry_id}", state)


@bp.post(f"/cti/{LEVEL}/<int:entry_id>/delete")
@access(ADMIN)
def cti_delete(level: str, entry_id: int):
    entry = cti_admin.get_entry(level, entry_id)
    name = entry.name
    _, error = attempt(cti_admin.delete_entry, actor(), level, entry_id)
    if error:
        return _tree(TreeState(notices={(level, entry_id): ("error", error.message)}), error.status)
    message = f"Deleted {level} “{name}”."
    return _done(message, "cti-tree", TreeState(banner=("ok", message)))
