"""Ticket routes: create (idempotent, deduplicating), list with filters, read, and patch."""
from flask import jsonify, request

from ..auth.access import API, access, api_user
from ..models import Ticket
from ..services import tickets as ticket_service
from ..services.listing import ListFilter, list_page
from . import bp
from .idempotency import idempotent
from .links import links_json
from .pagination import page_json, request_cursor
from .parsing import json_object, optional_version, query_limit
from .serializers import flat_ticket, ticket_json

# API field -> keyword of services.tickets.create_ticket / create_or_dedup
CREATE_FIELDS = {
    "title": "title", "overview": "overview", "severity": "severity",
    "categoryId": "category_id", "typeId": "type_id", "itemId": "item_id",
    "assigneeId": "assignee_id", "dedupKey": "dedup_key",
}
# API field -> key of the `changes` that services.tickets.update_ticket applies
PATCH_FIELDS = {
    "title": "title", "overview": "overview", "severity": "severity", "status": "status",
    "assigneeId": "assignee_id", "categoryId": "category_id", "typeId": "type_id", "itemId": "item_id",
    "force": "force",  # resolve or close a parent whose children are still open
}


def ticket_response(ticket: Ticket, status: int = 200, *, located: bool = False, **extra):
    """The ticket as JSON with its version as ETag; `located`: a new ticket's Location too."""
    body = {**ticket_json(flat_ticket(ticket)), **extra}
    response = jsonify(body)
    response.status_code = status
    response.headers["ETag"] = f'"{ticket.version}"'
    if located:
        response.headers["Location"] = body["apiUrl"]
    return response


@bp.post("/tickets")
@access(API)
@idempotent
def create_ticket():
    """Open a ticket (201), or note a recurrence on the open ticket with the same dedupKey (200)."""
    body = json_object(set(CREATE_FIELDS))
    fields = {keyword: body.get(name) for name, keyword in CREATE_FIELDS.items()}
    ticket, deduplicated = ticket_service.create_or_dedup(api_user(), **fields)
    if deduplicated:
        return ticket_response(ticket, 200, deduplicated=True)
    return ticket_response(ticket, 201, located=True, deduplicated=False)


@bp.get("/tickets")
@access(API)
def list_tickets():
    """Tickets in queue order (SEV 1 first, then oldest) or another `sort`, filtered and searched (`q`),
    a page at a time."""
    filters = ListFilter.from_api_args(request.args)
    page = list_page(filters, api_user(), after=request_cursor(*filters.cursor), limit=query_limit(), columns="api")
    return page_json(page, ticket_json)


@bp.get("/tickets/<ref>")
@access(API)
def get_ticket(ref):
    """One ticket, by display id (V#########) or internal id, with its links (lists leave them out)."""
    ticket = ticket_service.get_ticket(ref)
    return ticket_response(ticket, links=links_json(ticket))


@bp.patch("/tickets/<ref>")
@access(API)
def update_ticket(ref):
    """Change any of the ticket's fields in one transaction; a stale `version` or If-Match gets 409."""
    ticket = ticket_service.get_ticket(ref)
    body = json_object(set(PATCH_FIELDS) | {"version"})
    changes = {PATCH_FIELDS[name]: value for name, value in body.items() if name in PATCH_FIELDS}
    ticket_service.update_ticket(api_user(), ticket, changes, expected_version=optional_version(body))
    return ticket_response(ticket)
