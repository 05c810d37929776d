"""The dashboard and My tickets: the severity-sorted queue with URL filters."""
from dataclasses import replace

from flask import request, url_for
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services.bulk import BULK_MAX
from ..services.listing import ME, ListFilter, list_page, queue_categories
from ..services.users import assignable_users
from . import bp
from .forms import CtiChoices, cti_choices
from ..ui.rendering import render, wants_fragment


# The queue views, by the name a bulk change's form gives back to say which one it came from.
VIEWS = {"dashboard": "web.dashboard", "my_tickets": "web.my_tickets"}


@bp.get("/")
@access(STAFF)
def dashboard():
    return queue_page(ListFilter.from_web_args(request.args), "web.dashboard",
                      after=request.args.get("after"), before=request.args.get("before"))


@bp.get("/my-tickets")
@access(STAFF)
def my_tickets():
    return queue_page(replace(ListFilter.from_web_args(request.args), assignee=ME), "web.my_tickets",
                      after=request.args.get("after"), before=request.args.get("before"))


def queue_page(filters: ListFilter, endpoint: str, *, after=None, before=None, status: int = 200, oob=(), **bulk):
    """Render a queue view; htmx gets the results only (and the `oob` blocks), and the canonical URL
    to push. `bulk`: a bulk change's answer to show with it (web.bulk)."""
    page = list_page(filters, current_user, after=after, before=before)
    url_args = filters.as_args()
    if endpoint == "web.my_tickets":
        url_args.pop("assignee", None)
    cursor = {key: value for key, value in (("after", after), ("before", before)) if value}
    headers = {"HX-Push-Url": url_for(endpoint, **url_args, **cursor)} if wants_fragment() else None
    return render(
        "web/dashboard.html", "results", headers=headers, status=status, oob=oob,
        filters=filters, page=page, endpoint=endpoint, url_args=url_args, cursor=cursor,
        mine=endpoint == "web.my_tickets", categories=queue_categories, users=assignable_users,
        view=next(name for name, view in VIEWS.items() if view == endpoint), bulk=bulk,
        route_choices=_route_choices, bulk_limit=BULK_MAX,
    )


def _route_choices(category_id=None, type_id=None, item_id=None) -> CtiChoices:
    """The action bar's Reroute picker; its categories are the queue menu's active rows (no query of its own)."""
    choices = cti_choices(category_id, type_id, item_id, categories=False)
    choices.categories = [row for row in queue_categories() if row.active]
    return choices
