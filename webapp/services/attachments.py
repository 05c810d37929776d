"""Attachment actions: add files to a ticket or a comment, remove them (kept), purge them (gone).

Every action is audited on the ticket in the same transaction. Files are checked whole before any
is stored: an upload is stored completely or not at all.
"""
from collections import defaultdict

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Attachment, Comment, Ticket, User
from ..db.sql import in_ids
from ..db.utc import utcnow
from . import audit, comments  # comments: its touch_ticket (a partial import is enough at load)
from .attachment_files import RASTER, Upload, megabytes
from .attachment_store import configured_store, store_for
from .base import commit, get_or_404, parse_id
from .errors import Forbidden, NotFound, ValidationError


def limits() -> tuple[int, int, int]:
    """(bytes per file, bytes per ticket, files per upload) from the settings."""
    config = current_app.config
    return config["ATTACHMENT_MAX_BYTES"], config["ATTACHMENT_TICKET_MAX_BYTES"], config["ATTACHMENT_MAX_FILES"]


def check_uploads(ticket: Ticket, uploads: list[Upload]) -> None:
    """Measure every file and check the limits; ValidationError (field `files`) naming each fault."""
    per_file, per_ticket, most = limits()
    if not uploads:
        raise ValidationError({"files": "Choose at least one file."})
    if len(uploads) > most:
        raise ValidationError({"files": f"Attach at most {most} files at once ({len(uploads)} sent)."})
    faults = []
    for upload in uploads:
        try:
            upload.measure(per_file)
        except ValidationError as exc:
            faults.append(exc.fields["files"])
    if faults:
        raise ValidationError({"files": " ".join(faults)})
    held = stored_bytes(ticket, lock=True)
    adding = sum(upload.size for upload in uploads)
    if held + adding > per_ticket:
        raise ValidationError({"files": f"A ticket holds at most {megabytes(per_ticket)} of attachments; "
                                        f"this one has {megabytes(held)} and these files add {megabytes(adding)}."})


def stored_bytes(ticket: Ticket, *, lock: bool = False) -> int:
    """What `ticket`'s attachments not removed hold; `lock`: first take the ticket's row lock
    (PostgreSQL), so two uploads to one ticket cannot both pass the limit."""
    if lock and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Ticket.id).where(Ticket.id == ticket.id).with_for_update())
    query = sa.select(sa.func.coalesce(sa.func.sum(Attachment.size), 0)).where(
        Attachment.ticket_id == ticket.id, Attachment.removed_at.is_(None))
    return db.session.scalar(query)


def add_attachments(actor: User, ticket: Ticket, uploads: list[Upload], *, comment: Comment | None = None,
                    ) -> list[Attachment]:
    """Store `uploads` on `ticket` (and `comment`, if given: its author only), one audit event each;
    all or none. Like a comment, it moves the ticket's updated_at but not its version."""
    if comment is not None and comment.author_id != actor.id:
        raise Forbidden("Only the comment's author can attach files to it.")
    check_uploads(ticket, uploads)
    store, now, added = configured_store(), utcnow(), []
    try:
        for upload in uploads:
            attachment = Attachment(
                ticket_id=ticket.id, comment_id=comment.id if comment else None, uploader_id=actor.id,
                filename=upload.name, content_type=upload.content_type, size=upload.size, sha256=upload.sha256,
                storage=store.name, created_at=now)
            db.session.add(attachment)
            db.session.flush()
            added.append(attachment)
            store.write(attachment, upload.stream)
            audit.record(actor, "attachment_add", ticket=ticket, after=attachment_ref(attachment), at=now)
        comments.touch_ticket(ticket, now)
        commit()
    except BaseException:
        for attachment in added:
            store.discard(attachment)
        raise
    return added


def attach_to_comment(actor: User, ticket: Ticket, comment: Comment, ids) -> list[Attachment]:
    """Hang files the actor uploaded to `ticket` a moment ago (the editor's drop and paste) on
    their new comment, in the caller's transaction; ValidationError if an id names anything else."""
    wanted = sorted({parse_id(value) for value in ids} - {None})
    if len(wanted) != len(set(ids)):
        raise ValidationError({"attachments": "Unknown attachment id."})
    if not wanted:
        return []
    found = list(db.session.scalars(sa.select(Attachment).where(in_ids(Attachment.id, wanted))))
    if len(found) != len(wanted) or any(
            a.ticket_id != ticket.id or a.uploader_id != actor.id or a.comment_id is not None or a.removed_at
            for a in found):
        raise ValidationError({"attachments": "Only files you uploaded to this ticket and not yet attached can go with a comment."})
    for attachment in found:
        attachment.comment_id = comment.id
    return found


def attachment_ref(attachment: Attachment) -> dict:
    """How an attachment appears in audit values and webhook payloads."""
    ref = {"attachmentId": attachment.id, "filename": attachment.filename, "size": attachment.size,
           "contentType": attachment.content_type}
    if attachment.comment_id:
        ref["commentId"] = attachment.comment_id
    return ref


def attachments_of(ticket: Ticket) -> list[Attachment]:
    """`ticket`'s attachments not removed, oldest first (one query along ix_attachment_ticket)."""
    query = (sa.select(Attachment).where(Attachment.ticket_id == ticket.id, Attachment.removed_at.is_(None))
             .order_by(Attachment.id))
    return list(db.session.scalars(query))


def by_comment(attachments: list[Attachment]) -> dict[int | None, list[Attachment]]:
    """The same list keyed by comment id (None: on the ticket itself)."""
    grouped = defaultdict(list)
    for attachment in attachments:
        grouped[attachment.comment_id].append(attachment)
    return grouped


def get_attachment(ticket: Ticket, attachment_id, *, removed: bool = False) -> Attachment:
    """An attachment of `ticket`, or NotFound; `removed`: also one removed but not yet purged."""
    return get_or_404(Attachment, attachment_id, f"No attachment {attachment_id} on {ticket.display_id}.",
                      accept=lambda a: a.ticket_id == ticket.id and a.purged_at is None
                      and (removed or a.removed_at is None))


def is_inline(attachment: Attachment) -> bool:
    """Only raster images are shown in the page; everything else is a download."""
    return attachment.content_type in RASTER


def content(attachment: Attachment):
    """The file's bytes, a chunk at a time."""
    return store_for(attachment).read(attachment)


def can_remove(actor: User, attachment: Attachment) -> bool:
    return actor.is_admin or attachment.uploader_id == actor.id


def remove_attachment(actor: User, ticket: Ticket, attachment: Attachment) -> None:
    """Hide the file from the ticket; its bytes stay until an admin purges them."""
    if attachment.removed_at is not None:
        raise NotFound("This attachment was already removed.")
    if not can_remove(actor, attachment):
        raise Forbidden("Only the uploader or an admin can remove this attachment.")
    now = utcnow()
    attachment.removed_at, attachment.removed_by_id = now, actor.id
    comments.touch_ticket(ticket, now)
    audit.record(actor, "attachment_remove", ticket=ticket, before=attachment_ref(attachment), at=now)
    commit()


def removed_attachments(limit: int = 200) -> list[tuple[Attachment, Ticket]]:
    """Removed files whose bytes are still kept, newest removal first (the admin's purge list)."""
    query = (sa.select(Attachment, Ticket).join(Ticket, Ticket.id == Attachment.ticket_id)
             .where(Attachment.removed_at.is_not(None), Attachment.purged_at.is_(None))
             .order_by(Attachment.removed_at.desc(), Attachment.id.desc()).limit(limit))
    return [tuple(row) for row in db.session.execute(query)]


def purge(actor: User, attachment: Attachment) -> None:
    """Delete a removed file's bytes for good (admins only); its row and audit trail stay."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can purge attachments.")
    if attachment.removed_at is None or attachment.purged_at is not None:
        raise ValidationError({"attachment": "Only a removed attachment that is still kept can be purged."})
    store_for(attachment).delete(attachment)
    now = utcnow()
    attachment.purged_at = now
    ticket = db.session.get(Ticket, attachment.ticket_id)
    audit.record(actor, "attachment_purge", ticket=ticket, before=attachment_ref(attachment), at=now)
    commit()


def get_removed(attachment_id) -> Attachment:
    """A removed attachment still kept, for the admin's purge (NotFound otherwise)."""
    return get_or_404(Attachment, attachment_id, f"No removed attachment {attachment_id}.",
                      accept=lambda a: a.removed_at is not None and a.purged_at is None)
