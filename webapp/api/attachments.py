"""A ticket's files: upload (multipart, several at once), list, read, download and remove."""
from flask import jsonify, request, url_for

from ..auth.access import API, access, api_user
from ..http.bodies import accepts_uploads
from ..http.files import attachment_response, uploads_in_request
from ..services import ValidationError
from ..services import attachments as service
from ..services.comments import get_comment
from ..services.tickets import get_ticket
from . import bp
from .serializers import ident, iso, user_ref


def attachment_json(ticket, attachment) -> dict:
    return {
        "id": ident(attachment.id), "ticketId": ident(ticket.id), "commentId": ident(attachment.comment_id),
        "filename": attachment.filename, "contentType": attachment.content_type, "size": attachment.size,
        "sha256": attachment.sha256, "uploadedBy": user_ref(attachment.uploader), "createdAt": iso(attachment.created_at),
        "inline": service.is_inline(attachment),
        "downloadUrl": url_for("api.download_attachment", ref=ticket.display_id, attachment_id=attachment.id,
                               _external=True),
    }


@bp.post("/tickets/<ref>/attachments")
@accepts_uploads
@access(API)
def add_attachments(ref):
    """Store every file of a multipart/form-data body (any field name), all or none; a `commentId`
    field hangs them on that comment (its author only)."""
    ticket = get_ticket(ref)
    if request.mimetype != "multipart/form-data":
        raise ValidationError({"files": "Send the files as multipart/form-data (a form with one or more file fields)."})
    comment = get_comment(ticket, request.form["commentId"]) if request.form.get("commentId") else None
    added = service.add_attachments(api_user(), ticket, uploads_in_request(), comment=comment)
    response = jsonify({"items": [attachment_json(ticket, attachment) for attachment in added]})
    response.status_code = 201
    return response


@bp.get("/tickets/<ref>/attachments")
@access(API)
def list_attachments(ref):
    """The ticket's files not removed, oldest first (its comments' files included)."""
    ticket = get_ticket(ref)
    return jsonify({"items": [attachment_json(ticket, attachment) for attachment in service.attachments_of(ticket)]})


@bp.get("/tickets/<ref>/attachments/<attachment_id>")
@access(API)
def get_attachment(ref, attachment_id):
    ticket = get_ticket(ref)
    return jsonify(attachment_json(ticket, service.get_attachment(ticket, attachment_id)))


@bp.get("/tickets/<ref>/attachments/<attachment_id>/content")
@access(API)
def download_attachment(ref, attachment_id):
    """The file's bytes, always as a download (Content-Disposition: attachment unless a raster image)."""
    ticket = get_ticket(ref)
    found = service.get_attachment(ticket, attachment_id)
    return attachment_response(found)


@bp.delete("/tickets/<ref>/attachments/<attachment_id>")
@access(API)
def remove_attachment(ref, attachment_id):
    """Remove a file (its uploader or an admin); the bytes are kept until an admin purges them."""
    ticket = get_ticket(ref)
    service.remove_attachment(api_user(), ticket, service.get_attachment(ticket, attachment_id))
    return "", 204
