"""The dashboard and My tickets: the severity-sorted queue with URL filters."""
from dataclasses import replace

from flask import request, url_for
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services.listing import ME, ListFilter, list_page, queue_categories
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


def _queue_page(filters: ListFilter, endpoint: str):
    """Render a queue view; htmx gets the results only, and the canonical URL to push."""
    page = list_page(filters, current_user, after=request.args.get("after"),
                     before=request.args.get("before"))
    url_args = filters.as_args()
    if endpoint == "web.my_tickets":
        url_args.pop("assignee", None)
    cursor = {key: request.args[key] for key in ("after", "before") if request.args.get(key)}
    headers = {"HX-Push-Url": url_for(endpoint, **url_args, **cursor)} if wants_fragment() else None
    return render(
        "web/dashboard.html", "results", headers=headers, oob=() if cursor else ("views_refresh",),
        filters=filters, page=page, endpoint=endpoint, url_args=url_args, views_args=filters.as_args(),
        mine=endpoint == "web.my_tickets", categories=queue_categories, users=assignable_users,
    )
