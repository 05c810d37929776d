"""The dashboard and My tickets: the severity-sorted queue with URL filters, search and bulk changes."""
from dataclasses import replace

from flask import redirect, request, url_for
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services.bulk import BULK_MAX
from ..services.listing import ME, ListFilter, list_page, queue_categories
from ..services.search import ticket_named
from ..services.users import assignable_users
from . import bp, live
from .forms import CtiChoices, cti_choices
from ..ui.rendering import render, wants_fragment


# The queue views, by the name a bulk change's form gives back to say which one it came from.
VIEWS = {"dashboard": "web.dashboard", "my_tickets": "web.my_tickets"}


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
    """A queue page asked for by its URL. A search that is a ticket's id, submitted, opens that ticket."""
    named, exists = ticket_named(filters.q)
    if exists and _submitted():
        return redirect(url_for("web.ticket", display_id=named), 303)
    args = {"after": request.args.get("after"), "before": request.args.get("before"),
            "status": 422 if filters.search_error else 200, "named": (named, exists)}
    if wants_fragment():  # a filter or a page swapped in by htmx; live polls ask for the whole page
        return queue_page(filters, endpoint, **args)
    poll = live.queue_poll()
    if poll.response is not None:
        return poll.response
    live.watched("queue", poll.etag)
    page = queue_page(filters, endpoint, **args)
    return live.tagged(page, poll.etag) if page.status_code == 200 else page


def queue_page(filters: ListFilter, endpoint: str, *, after=None, before=None, status: int = 200, oob=(),
               named=(None, False), **bulk):
    """Render a queue view; htmx gets the results only (and the `oob` blocks: the sort menu, which
    follows the search, and on a first page the saved views' sidebar), and the canonical URL to push.
    `named`: the ticket id the search is, and whether it exists; `bulk`: a bulk change's answer to
    show with it (web.bulk)."""
    page = list_page(filters, current_user, after=after, before=before)
    url_args = filters.as_args()
    if endpoint == "web.my_tickets":
        url_args.pop("assignee", None)
    cursor = {key: value for key, value in (("after", after), ("before", before)) if value}
    headers = {"HX-Push-Url": url_for(endpoint, **url_args, **cursor)} if wants_fragment() else None
    oob = (*oob, "sort_menu") if cursor else (*oob, "sort_menu", "views_refresh")
    return render(
        "web/dashboard.html", "results", headers=headers, status=status, oob=oob,
        filters=filters, page=page, endpoint=endpoint, url_args=url_args, cursor=cursor,
        views_args=filters.as_args(), named=named[0], named_exists=named[1],
        mine=endpoint == "web.my_tickets", categories=queue_categories, users=assignable_users,
        view=next(name for name, view in VIEWS.items() if view == endpoint), bulk=bulk,
        route_choices=_route_choices, bulk_limit=BULK_MAX,
    )


def _submitted() -> bool:
    """A search sent on purpose: not the live search's request while typing (an htmx partial), and
    not a page the back button restores (it would open the ticket again)."""
    return not wants_fragment() and request.headers.get("HX-History-Restore-Request") != "true"


def _route_choices(category_id=None, type_id=None, item_id=None) -> CtiChoices:
    """The action bar's Reroute picker; its categories are the queue menu's active rows (no query of its own)."""
    choices = cti_choices(category_id, type_id, item_id, categories=False)
    choices.categories = [row for row in queue_categories() if row.active]
    return choices
