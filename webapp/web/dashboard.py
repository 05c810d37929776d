"""The dashboard and My tickets: the severity-sorted queue with URL filters and search."""
from dataclasses import replace

from flask import redirect, request, url_for
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services.listing import ME, ListFilter, list_page, queue_categories
from ..services.search import ticket_named
from ..services.users import assignable_users
from . import bp
from ..ui.rendering import render, wants_fragment


@bp.get("/")
@access(STAFF)
def dashboard():
    return _queue_page(ListFilter.from_web_args(request.args), "web.dashboard")


@bp.get("/my-tickets")
@access(STAFF)
def my_tickets():
    return _queue_page(replace(ListFilter.from_web_args(request.args), assignee=ME), "web.my_tickets")


@bp.get("/search")
@access(STAFF)
def search_tickets():
    """The header's search box, from any page: a ticket's id opens the ticket; anything else is searched
    for in the queue, through every status."""
    q = request.args.get("q", "").strip()
    named, exists = ticket_named(q)
    if exists:
        return redirect(url_for("web.ticket", display_id=named), 303)
    return redirect(url_for("web.dashboard", q=q or None, status="all"), 303)


def _queue_page(filters: ListFilter, endpoint: str):
    """Render a queue view; htmx gets the results only, and the canonical URL to push. A search that is a
    ticket's id, submitted, opens that ticket."""
    named, exists = ticket_named(filters.q)
    if exists and _submitted():
        return redirect(url_for("web.ticket", display_id=named), 303)
    page = list_page(filters, current_user, after=request.args.get("after"),
                     before=request.args.get("before"))
    url_args = filters.as_args()
    if endpoint == "web.my_tickets":
        url_args.pop("assignee", None)
    cursor = {key: request.args[key] for key in ("after", "before") if request.args.get(key)}
    headers = {"HX-Push-Url": url_for(endpoint, **url_args, **cursor)} if wants_fragment() else None
    return render(
        "web/dashboard.html", "results", headers=headers,
        oob=("sort_menu",) if cursor else ("sort_menu", "views_refresh"),
        status=422 if filters.search_error else 200,
        filters=filters, page=page, endpoint=endpoint, url_args=url_args, views_args=filters.as_args(),
        named=named, named_exists=exists,
        mine=endpoint == "web.my_tickets", categories=queue_categories, users=assignable_users,
    )


def _submitted() -> bool:
    """A search sent on purpose: not the live search's request while typing (an htmx partial), and
    not a page the back button restores (it would open the ticket again)."""
    return not wants_fragment() and request.headers.get("HX-History-Restore-Request") != "true"
