"""Removed attachments still kept: an admin reviews them and purges their bytes for good."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..auth.access import ADMIN, access
from ..services import attachments as service
from . import bp


@bp.get("/attachments")
@access(ADMIN)
def attachments():
    return render_template("admin/attachments.html", removed=service.removed_attachments())


@bp.post("/attachments/<int:attachment_id>/purge")
@access(ADMIN)
def purge_attachment(attachment_id):
    """Delete one removed file's bytes; its row and audit trail stay on the ticket."""
    attachment = service.get_removed(attachment_id)
    service.purge(current_user, attachment)
    flash(f"{attachment.filename} purged: its bytes are gone for good.", "success")
    return redirect(url_for("admin.attachments"), 303)
