"""Posting, editing and deleting comments without a page reload."""
from flask import request
from flask_login import current_user

from ..auth.access import STAFF, access
from ..http.bodies import accepts_uploads
from ..http.files import uploads_in_request
from ..services import Forbidden, NotFound, ValidationError
from ..services import comments as service
from ..services.base import rollback
from . import bp
from .ticket_page import AFFECTED_BY_COMMENTS, render_ticket, respond, ticket_from_url


@bp.post("/tickets/<display_id>/comments")
@accepts_uploads
@access(STAFF)
def add_comment(display_id):
    """Post a comment, with the files sent beside it and those the editor uploaded beforehand."""
    ticket = ticket_from_url(display_id)
    body, attachment_ids = request.form.get("body", ""), request.form.getlist("attachment_ids")
    try:
        comment = service.add_comment(current_user, ticket, body, uploads=uploads_in_request("files"),
                                      attachment_ids=attachment_ids)
    except ValidationError as exc:
        rollback()
        return respond(ticket, "comment_form", status=422, tab="comments", errors=exc.fields,
                       values={"body": body, "attachment_ids": attachment_ids})
    return respond(ticket, "comment_form", tab="comments", new_comment=comment,
                   affected=AFFECTED_BY_COMMENTS, extra_oob=("new_comment", "comments_empty"))


@bp.post("/tickets/<display_id>/comments/<int:comment_id>/delete")
@access(STAFF)
def delete_comment(display_id, comment_id):
    ticket = ticket_from_url(display_id)
    try:
        comment = service.get_comment(ticket, comment_id)
    except NotFound as exc:  # already deleted, e.g. by an admin a moment ago
        return respond(ticket, "removed_comment", status=404, tab="comments",
                       alert=exc.message, alert_at="removed_comment")
    try:
        service.delete_comment(current_user, comment)
    except Forbidden as exc:
        rollback()
        return respond(ticket, "comment_refused", status=403, tab="comments",
                       alert=exc.message, alert_at="comment_refused", refused_comment=comment)
    return respond(ticket, "removed_comment", tab="comments", message="Comment deleted.",
                   affected=AFFECTED_BY_COMMENTS, extra_oob=("comments_empty",))


@bp.get("/tickets/<display_id>/comments/<int:comment_id>")
@access(STAFF)
def show_comment(display_id, comment_id):
    """One comment as shown (what its editor's Cancel swaps back in)."""
    ticket = ticket_from_url(display_id)
    return render_ticket(ticket, "comment_item", tab="comments", shown_comment=service.get_comment(ticket, comment_id))


@bp.get("/tickets/<display_id>/comments/<int:comment_id>/edit")
@access(STAFF)
def edit_comment_form(display_id, comment_id):
    """The comment's inline editor, for its author; the comments tab with it open without htmx."""
    ticket = ticket_from_url(display_id)
    comment = service.get_comment(ticket, comment_id)
    if not service.can_edit(current_user, comment):
        raise Forbidden("Only the author can edit this comment.")
    return render_ticket(ticket, "comment_item", tab="comments", shown_comment=comment, editing_comment=comment.id)


@bp.post("/tickets/<display_id>/comments/<int:comment_id>")
@access(STAFF)
def edit_comment(display_id, comment_id):
    """The author saves their edit; anyone else is refused (403, as for the editor) before the text is read."""
    ticket = ticket_from_url(display_id)
    comment = service.get_comment(ticket, comment_id)
    body = request.form.get("body", "")
    try:
        service.edit_comment(current_user, comment, body)
    except ValidationError as exc:
        rollback()
        return respond(ticket, "comment_item", status=422, tab="comments", shown_comment=comment,
                       editing_comment=comment.id, errors=exc.fields, values={"body": body})
    return respond(ticket, "comment_item", tab="comments", shown_comment=comment, message="Comment saved.",
                   affected=AFFECTED_BY_COMMENTS)
