"""Comment actions; a deleted comment keeps its body in the audit trail."""
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import AuditEvent, Comment, Ticket, User
from ..db.utc import utcnow
from . import attachments, audit
from .base import commit, get_or_404, transaction
from .errors import Forbidden, NotFound, ValidationError
from .text import checked_text

BODY_MAX = 50_000


def clean_body(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"body": "Write something before posting."})
    if len(value) > BODY_MAX:
        raise ValidationError({"body": f"Keep comments under {BODY_MAX} characters."})
    return checked_text("body", value).strip()


def touch_ticket(ticket: Ticket, now) -> None:
    """Move the ticket's updated_at but not its version: comments never conflict with each other
    or with an edit of the ticket's fields made from an earlier read."""
    db.session.execute(
        db.update(Ticket).where(Ticket.id == ticket.id).values(updated_at=now),
        execution_options={"synchronize_session": False},
    )
    set_committed_value(ticket, "updated_at", now)


def add_comment(actor: User, ticket: Ticket, body, *, uploads=(), attachment_ids=()) -> Comment:
    """Post a comment with, optionally, new files (`uploads`) and files the actor uploaded to the
    ticket beforehand (`attachment_ids`); one transaction, so a refused file posts nothing."""
    body = clean_body(body)
    with transaction():
        now = utcnow()
        comment = Comment(ticket=ticket, author=actor, body=body, created_at=now)
        db.session.add(comment)
        touch_ticket(ticket, now)
        db.session.flush()
        files = attachments.attach_to_comment(actor, ticket, comment, attachment_ids)
        if uploads:
            files += attachments.add_attachments(actor, ticket, list(uploads), comment=comment)
        after = {"commentId": comment.id, "body": body}
        if files:
            after["attachments"] = [attachments.attachment_ref(attachment) for attachment in files]
        audit.record(actor, "comment_add", ticket=ticket, after=after, at=now)
    return comment


def get_comment(ticket: Ticket, comment_id) -> Comment:
    return get_or_404(Comment, comment_id, f"No comment {comment_id} on {ticket.display_id}.",
                      accept=lambda comment: comment.ticket_id == ticket.id and comment.deleted_at is None)


def can_delete(actor: User, comment: Comment) -> bool:
    """Authors may delete their own comments; admins may delete any."""
    return actor.is_admin or comment.author_id == actor.id


def can_edit(actor: User, comment: Comment) -> bool:
    """Only the author edits a comment: the words are theirs (an admin may delete, not reword)."""
    return comment.author_id == actor.id


def edit_comment(actor: User, comment: Comment, body) -> Comment:
    """Replace the comment's text; the earlier text is kept in the audit event (before/after).
    The same text again changes nothing and writes no event."""
    if comment.deleted_at is not None:
        raise NotFound("This comment was deleted.")
    if not can_edit(actor, comment):
        raise Forbidden("Only the author can edit this comment.")
    body = clean_body(body)
    if body == comment.body:
        return comment
    now, before = utcnow(), comment.body
    comment.body, comment.edited_at = body, now
    touch_ticket(comment.ticket, now)
    audit.record(actor, "comment_edit", ticket=comment.ticket, at=now,
                 before={"commentId": comment.id, "body": before}, after={"commentId": comment.id, "body": body})
    commit()
    return comment


def delete_comment(actor: User, comment: Comment) -> None:
    """Hide the comment; its body stays in the row and in the audit event."""
    if comment.deleted_at is not None:
        raise NotFound("This comment was already deleted.")
    if not can_delete(actor, comment):
        raise Forbidden("Only the author or an admin can delete this comment.")
    now = utcnow()
    comment.deleted_at = now
    comment.deleted_by_id = actor.id
    touch_ticket(comment.ticket, now)
    audit.record(
        actor, "comment_delete", ticket=comment.ticket, at=now,
        before={"commentId": comment.id, "body": comment.body, "author": audit.user_ref(comment.author)},
    )
    commit()


COMMENT_ORDER = (Comment.created_at, Comment.id)


def visible_comments_query(ticket: Ticket):
    """A ticket's comments that are not deleted, oldest first."""
    return db.select(Comment).filter_by(ticket_id=ticket.id, deleted_at=None).order_by(*COMMENT_ORDER)


def visible_comments(ticket: Ticket) -> list[Comment]:
    return list(db.session.scalars(visible_comments_query(ticket)))


def tab_counts(ticket: Ticket) -> tuple[int, int]:
    """The ticket page's two tab counts, its comments shown and its audit events, in one round trip."""
    comment_total, event_total = db.session.execute(_tab_counts(), {"ticket_id": ticket.id}).one()
    return comment_total, event_total


@cache
def _tab_counts() -> sa.Select:
    """Built once: a statement object keeps its cache key, so each page only binds the id."""
    ticket_id = sa.bindparam("ticket_id", type_=sa.Integer)
    shown = sa.select(sa.func.count()).select_from(Comment).where(
        Comment.ticket_id == ticket_id, Comment.deleted_at.is_(None))
    events = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.ticket_id == ticket_id)
    return sa.select(shown.scalar_subquery(), events.scalar_subquery())
