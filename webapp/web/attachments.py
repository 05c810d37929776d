"""Adding, showing and removing a ticket's files in the web UI."""
from flask import jsonify, request, url_for
from flask_login import current_user

from ..auth.access import STAFF, access
from ..http.bodies import accepts_uploads
from ..http.errors import error_body
from ..http.files import attachment_response, uploads_in_request
from ..services import Forbidden, NotFound, ValidationError
from ..services import attachments as service
from ..services.base import rollback
from . import bp
from .ticket_page import AFFECTED_BY_COMMENTS, respond, ticket_from_url


def attachment_url(ticket, attachment) -> str:
    return url_for("web.attachment", display_id=ticket.display_id, attachment_id=attachment.id,
                   filename=attachment.filename)


def _wants_json() -> bool:
    """The editor's uploader (static/js/attach.js) asks for JSON: it inserts links itself."""
    return request.accept_mimetypes.best == "application/json"


@bp.post("/tickets/<display_id>/attachments")
@accepts_uploads
@access(STAFF)
def add_attachments(display_id):
    """Attach the files of a multipart form to the ticket (all or none)."""
    ticket = ticket_from_url(display_id)
    try:
        added = service.add_attachments(current_user, ticket, uploads_in_request("files"))
    except ValidationError as exc:
        rollback()
        if _wants_json():
            return jsonify(error_body(exc.code, exc.message, exc.fields)), 422
        return respond(ticket, "attachments", status=422, errors=exc.fields)
    if _wants_json():
        return jsonify({"attachments": [_as_json(ticket, a) for a in added]}), 201
    message = f"{len(added)} file{'s' if len(added) != 1 else ''} attached."
    return respond(ticket, "attachments", message=message, affected=AFFECTED_BY_COMMENTS)


def _as_json(ticket, attachment) -> dict:
    url = attachment_url(ticket, attachment)
    image = service.is_inline(attachment)
    return {"id": str(attachment.id), "filename": attachment.filename, "size": attachment.size, "url": url,
            "inline": image, "markdown": f"{'!' if image else ''}[{_label(attachment.filename)}]({url})"}


def _label(filename: str) -> str:
    """A file name as markdown link text: no brackets to close the link early."""
    return filename.replace("[", "(").replace("]", ")").replace("\\", "/")


@bp.get("/tickets/<display_id>/attachments/<int:attachment_id>/<path:filename>")
@access(STAFF)
def attachment(display_id, attachment_id, filename):
    """The file itself (the name in the URL is for people; the id decides). Admins may also fetch a
    removed file that is still kept, to decide whether to purge it."""
    ticket = ticket_from_url(display_id)
    found = service.get_attachment(ticket, attachment_id, removed=current_user.is_admin)
    return attachment_response(found)


@bp.post("/tickets/<display_id>/attachments/<int:attachment_id>/remove")
@access(STAFF)
def remove_attachment(display_id, attachment_id):
    ticket = ticket_from_url(display_id)
    try:
        found = service.get_attachment(ticket, attachment_id)
        service.remove_attachment(current_user, ticket, found)
    except (NotFound, Forbidden) as exc:
        rollback()
        return respond(ticket, "attachments", status=exc.status, alert=exc.message, alert_at="attachments")
    return respond(ticket, "attachments", message=f"{found.filename} removed.", affected=AFFECTED_BY_COMMENTS)
