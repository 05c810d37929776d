"""The caller's notifications (their inbox): list newest first, and mark read."""
from flask import jsonify

from ..auth.access import API, access, api_user
from ..services import FieldErrors
from ..services import inbox
from ..services.base import parse_id
from ..services.bulk import REF_MAX
from ..services.text import text_fault
from ..services.tickets import get_ticket
from . import bp
from .pagination import page_json, request_cursor
from .parsing import LIMIT_MAX, json_object, query_flag, query_limit
from .serializers import notification_json

IDS_MAX = LIMIT_MAX  # one page's worth of ids per call


@bp.get("/notifications")
@access(API)
def list_notifications():
    """The caller's notifications, newest first, a page at a time (`unread=true`: only unread ones),
    with the caller's unread count."""
    user = api_user()
    unread_only = query_flag("unread", blank=False)
    after = request_cursor(inbox.INBOX, 1)
    page = inbox.page(user, after=after, unread_only=unread_only, limit=query_limit())
    return page_json(page, notification_json, unreadCount=inbox.unread_count(user))


@bp.post("/notifications/read")
@access(API)
def read_notifications():
    """Mark {"ids": [...]} or {"all": true} (of one ticket, with "ticket") read: how many were
    unread, and how many unread remain. An id that is not one of the caller's is 404, and none is marked."""
    user = api_user()
    ids, ticket_ref = _read_request(json_object({"ids", "all", "ticket"}))
    if ids is not None:
        marked = inbox.mark_read_ids(user, ids)  # every id is checked before any is marked
    else:
        marked = inbox.mark_all_read(user, ticket=get_ticket(ticket_ref) if ticket_ref is not None else None)
    return jsonify({"marked": marked, "unreadCount": inbox.unread_count(user)})


def _read_request(body: dict) -> tuple[list[int] | None, str | None]:
    """(the ids to mark, None) for {"ids"}, or (None, the ticket or None) for {"all": true}; 422 naming
    each bad field otherwise."""
    errors = FieldErrors()
    ids = None
    if "ids" in body:
        raw = body["ids"]
        ids = [parse_id(value) for value in raw] if isinstance(raw, list) else None
        if ids is None or not 0 < len(ids) <= IDS_MAX or None in ids:
            errors.add("ids", f'Give 1 to {IDS_MAX} notification ids, e.g. ["12", "13"].')
        else:
            ids = list(dict.fromkeys(ids))
    if "all" in body and body["all"] is not True:
        errors.add("all", 'Send "all": true to mark every notification read (or give ids instead).')
    ticket_ref = body.get("ticket")
    if "ticket" in body and (not isinstance(ticket_ref, str) or not 0 < len(ticket_ref.strip()) <= REF_MAX
                             or text_fault(ticket_ref)):
        errors.add("ticket", f"Give a ticket's display id (V#########), as text of 1 to {REF_MAX} characters.")
    errors.raise_if_any()
    if "ids" in body and "all" in body:
        errors.add("all", "Give ids or all, not both.")
    elif "ids" not in body and "all" not in body:
        errors.add("ids", 'Give the ids to mark read, or "all": true.')
    elif "ticket" in body and "all" not in body:
        errors.add("ticket", 'A ticket narrows "all": true; it does not go with ids.')
    errors.raise_if_any()
    return (ids, None) if "ids" in body else (None, ticket_ref)
