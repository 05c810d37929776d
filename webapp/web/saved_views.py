"""Saved views in the queue's sidebar: listed with their counts, saved from the current filters,
renamed, re-filtered, (un)shared and deleted. htmx swaps the sidebar alone; without it each form
redirects back to the queue."""
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from flask import flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..auth.access import STAFF, access
from ..models import SavedView
from ..services import ValidationError
from ..services import saved_views as service
from ..services.base import rollback
from ..services.listing import COUNT_CAP, ListFilter
from ..ui.rendering import render, wants_fragment
from . import bp


@dataclass(frozen=True)
class ViewLink:
    """One view as the sidebar shows it."""

    view: SavedView
    href: str
    count: str
    active: bool
    editable: bool


@dataclass
class ViewForm:
    """A refused form shown again: which view's (None: the save form), what was typed, what was wrong."""

    view_id: int | None
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ViewsNav:
    shared: list
    personal: list
    args: dict  # the current queue filters as query arguments
    filters_text: str  # the same, as the query string every form carries back
    form: ViewForm | None = None
    notice: str | None = None


def count_label(count: int) -> str:
    return f"{COUNT_CAP:,}+" if count > COUNT_CAP else f"{count:,}"


def views_nav(filters: ListFilter, form: ViewForm | None = None, notice: str | None = None) -> ViewsNav:
    """The sidebar for a queue showing `filters`: views that show the same tickets are the active ones."""
    views = service.views_for(current_user)
    counts = service.counts(current_user, views)
    links = []
    for view in views:
        shown = service.view_filter(view)
        links.append(ViewLink(view, url_for("web.dashboard", **shown.as_args()), count_label(counts[view.id]),
                              shown == filters, service.can_edit(current_user, view)))
    args = filters.as_args()
    return ViewsNav(shared=[link for link in links if link.view.shared],
                    personal=[link for link in links if not link.view.shared],
                    args=args, filters_text=urlencode(args), form=form, notice=notice)


def _page(filters: ListFilter, *, status: int = 200, form: ViewForm | None = None, notice: str | None = None):
    """The sidebar alone for htmx, or a page of its own (without JavaScript, and after a refused form)."""
    return render("web/views.html", "views_nav", status=status, nav=views_nav(filters, form, notice))


def _posted_filters() -> MultiDict:
    """The filters of the queue the form was on, exactly as it sent them."""
    return MultiDict(parse_qsl(request.form.get("filters", ""), keep_blank_values=True))


def _done(filters: ListFilter, message: str):
    if wants_fragment():
        return _page(filters, notice=message)
    flash(message, "success")
    return redirect(url_for("web.dashboard", **filters.as_args()), 303)


def _refused(filters: ListFilter, view_id: int | None, values: dict, exc: ValidationError):
    """The sidebar again with the form as typed; a bad filter is told beside the form as a whole."""
    rollback()
    errors = {}
    for name, message in exc.fields.items():
        errors.setdefault("filters" if name.startswith("filters.") else name, message)
    return _page(filters, status=422, form=ViewForm(view_id, values, errors))


@bp.get("/views")
@access(STAFF)
def views():
    """The sidebar of the queue whose filters the query string holds."""
    return _page(ListFilter.from_web_args(request.args))


@bp.post("/views")
@access(STAFF)
def create_view():
    """Save the queue's current filters as a new view."""
    current = ListFilter.from_web_args(_posted_filters())
    values = {"name": request.form.get("name", ""), "shared": request.form.get("shared") == "on"}
    try:
        view = service.create_view(current_user, name=values["name"], shared=values["shared"],
                                   filters=_posted_filters())
    except ValidationError as exc:
        return _refused(current, None, values, exc)
    return _done(current, f"Saved the view “{view.name}”.")


@bp.post("/views/<int:view_id>")
@access(STAFF)
def update_view(view_id: int):
    """Rename (`name`), share or unshare (`shared` = 1 or 0), or take the current filters (`apply_filters`)."""
    view = service.get_view(current_user, view_id)
    current = ListFilter.from_web_args(_posted_filters())
    form, changes = request.form, {}
    if "name" in form:
        changes["name"] = form["name"]
    if "shared" in form:
        changes["shared"] = form["shared"] == "1"
    if form.get("apply_filters"):
        changes["filters"] = _posted_filters()
    try:
        service.update_view(current_user, view, **changes)
    except ValidationError as exc:
        return _refused(current, view.id, {"name": form.get("name", view.name)}, exc)
    return _done(current, f"Saved the view “{view.name}”.")


@bp.post("/views/<int:view_id>/delete")
@access(STAFF)
def delete_view(view_id: int):
    view = service.get_view(current_user, view_id)
    name = view.name
    service.delete_view(current_user, view)
    return _done(ListFilter.from_web_args(_posted_filters()), f"Deleted the view “{name}”.")
