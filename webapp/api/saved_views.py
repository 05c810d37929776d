"""Saved views: list, create, read, change and delete them, and page through a view's tickets."""
from flask import jsonify, url_for

from ..auth.access import API, access, api_user
from ..services import ValidationError
from ..services import saved_views as service
from ..services.listing import QUEUE_ORDER, TICKETS, list_page
from . import bp
from .pagination import page_json, page_response, request_cursor
from .parsing import json_object, query_limit
from .serializers import ident, ticket_json, user_ref

FIELDS = {"name", "shared", "filters"}


def view_json(view) -> dict:
    """A view; `filters` are the dashboard's query arguments, so `url` opens the same list in the web UI."""
    return {
        "id": ident(view.id),
        "name": view.name,
        "shared": view.shared,
        "builtIn": view.builtin,
        "owner": user_ref(view.owner),
        "filters": dict(view.filters),
        "canEdit": service.can_edit(api_user(), view),
        "url": url_for("web.dashboard", _external=True, **service.view_filter(view).as_args()),
        "ticketsUrl": url_for("api.view_tickets", view_id=view.id, _external=True),
    }


def _view_response(view, status: int = 200):
    response = jsonify(view_json(view))
    response.status_code = status
    if status == 201:
        response.headers["Location"] = url_for("api.get_view", view_id=view.id, _external=True)
    return response


@bp.get("/views")
@access(API)
def list_views():
    """The views the caller can see: every shared one and their own, oldest first."""
    return page_response("views", service.views_query(api_user()), service.VIEW_ORDER, view_json)


@bp.post("/views")
@access(API)
def create_view():
    body = json_object(FIELDS)
    view = service.create_view(api_user(), name=body.get("name"), filters=body.get("filters", {}),
                               shared=_flag(body.get("shared", False)))
    return _view_response(view, 201)


@bp.get("/views/<view_id>")
@access(API)
def get_view(view_id):
    return _view_response(service.get_view(api_user(), view_id))


@bp.patch("/views/<view_id>")
@access(API)
def update_view(view_id):
    """Change any of name, shared and filters; filters given replace the view's filters as a whole."""
    view = service.get_view(api_user(), view_id)
    body = json_object(FIELDS)
    changes = {name: body[name] for name in FIELDS if name in body}
    if "shared" in changes:
        changes["shared"] = _flag(changes["shared"])
    service.update_view(api_user(), view, **changes)
    return _view_response(view)


@bp.delete("/views/<view_id>")
@access(API)
def delete_view(view_id):
    service.delete_view(api_user(), service.get_view(api_user(), view_id))
    return "", 204


@bp.get("/views/<view_id>/tickets")
@access(API)
def view_tickets(view_id):
    """The view's tickets in queue order, paged like GET /api/tickets (`me` is the caller)."""
    view = service.get_view(api_user(), view_id)
    page = list_page(service.view_filter(view), api_user(), after=request_cursor(TICKETS, len(QUEUE_ORDER)),
                     limit=query_limit(), columns="api")
    return page_json(page, ticket_json)


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({"shared": "Use true or false."})
    return value
