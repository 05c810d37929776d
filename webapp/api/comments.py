"""A ticket's comments (list, add, read, edit, delete) and its audit trail."""
from flask import jsonify, url_for

from ..auth.access import API, access, api_user
from ..services import audit as audit_service
from ..services import comments as comment_service
from ..services.tickets import get_ticket
from . import bp
from .idempotency import idempotent
from .pagination import page_response
from .parsing import json_object
from .serializers import audit_json, comment_json


@bp.get("/tickets/<ref>/comments")
@access(API)
def list_comments(ref):
    """Comments oldest first; deleted ones are left out (their text stays in the audit trail)."""
    ticket = get_ticket(ref)
    query = comment_service.visible_comments_query(ticket)
    return page_response("comments", query, comment_service.COMMENT_ORDER, comment_json)


@bp.post("/tickets/<ref>/comments")
@access(API)
@idempotent
def add_comment(ref):
    ticket = get_ticket(ref)
    body = json_object({"body"})
    comment = comment_service.add_comment(api_user(), ticket, body.get("body"))
    response = jsonify(comment_json(comment))
    response.status_code = 201
    response.headers["Location"] = url_for(
        "api.get_comment", ref=ticket.display_id, comment_id=comment.id, _external=True,
    )
    return response


@bp.get("/tickets/<ref>/comments/<comment_id>")
@access(API)
def get_comment(ref, comment_id):
    return jsonify(comment_json(comment_service.get_comment(get_ticket(ref), comment_id)))


@bp.patch("/tickets/<ref>/comments/<comment_id>")
@access(API)
def edit_comment(ref, comment_id):
    """The author replaces the comment's text (403 for anyone else); the earlier text stays in the audit."""
    comment = comment_service.get_comment(get_ticket(ref), comment_id)
    body = json_object({"body"})
    return jsonify(comment_json(comment_service.edit_comment(api_user(), comment, body.get("body"))))


@bp.delete("/tickets/<ref>/comments/<comment_id>")
@access(API)
def delete_comment(ref, comment_id):
    """Authors delete their own comments, admins any (403 otherwise); 204 when done."""
    comment = comment_service.get_comment(get_ticket(ref), comment_id)
    comment_service.delete_comment(api_user(), comment)
    return "", 204


@bp.get("/tickets/<ref>/audit")
@access(API)
def ticket_audit(ref):
    """Who changed what and when, oldest first, with before and after values."""
    query = audit_service.ticket_history_query(get_ticket(ref))
    return page_response("audit", query, audit_service.AUDIT_ORDER, audit_json)
