"""Comment editing: the author rewords their comment (web and API call the same service), the edit is
audited with before and after, the comment shows "edited", and search finds the new words only."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, OutboxEvent, Role
from webapp.services import Forbidden, NotFound, ValidationError
from webapp.services import comments as svc
from webapp.services.listing import ListFilter, list_page


def edits(ticket) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="comment_edit")))


def test_the_author_edits_and_the_earlier_text_is_audited_with_its_outbox_row(make):
    ticket, author = make.ticket(), make.user()
    comment = svc.add_comment(author, ticket, "Restarted nginx")
    svc.edit_comment(author, comment, "  Restarted **php-fpm**, not nginx  ")
    assert comment.body == "Restarted **php-fpm**, not nginx" and comment.edited_at is not None
    [event] = edits(ticket)
    assert event.actor_id == author.id
    assert event.before == {"commentId": comment.id, "body": "Restarted nginx"}
    assert event.after == {"commentId": comment.id, "body": "Restarted **php-fpm**, not nginx"}
    assert db.session.scalar(sa.select(OutboxEvent).filter_by(audit_event_id=event.id)) is not None
    assert ticket.updated_at == comment.edited_at


def test_the_same_text_again_changes_nothing(make):
    ticket, author = make.ticket(), make.user()
    comment = svc.add_comment(author, ticket, "Looking")
    svc.edit_comment(author, comment, " Looking ")
    assert comment.edited_at is None and edits(ticket) == []


def test_only_the_author_edits_not_even_an_admin(make):
    ticket, author = make.ticket(), make.user()
    comment = svc.add_comment(author, ticket, "Mine")
    for other in (make.user(), make.user(role=Role.ADMIN)):
        with pytest.raises(Forbidden):
            svc.edit_comment(other, comment, "Theirs")
    assert comment.body == "Mine" and edits(ticket) == []


@pytest.mark.parametrize("body", ["", "   ", None, "x" * 50_001, "bad\x00text"])
def test_a_bad_body_is_refused_by_name_and_nothing_changes(make, body):
    ticket, author = make.ticket(), make.user()
    comment = svc.add_comment(author, ticket, "Kept")
    with pytest.raises(ValidationError) as caught:
        svc.edit_comment(author, comment, body)
    assert "body" in caught.value.fields and comment.body == "Kept"


def test_a_deleted_comment_cannot_be_edited(make):
    ticket, author = make.ticket(), make.user()
    comment = svc.add_comment(author, ticket, "Gone soon")
    svc.delete_comment(author, comment)
    with pytest.raises(NotFound):
        svc.edit_comment(author, comment, "Back")


def test_search_finds_the_edited_words_and_not_the_old_ones(make):
    ticket, author = make.ticket(title="Printer"), make.user()
    comment = svc.add_comment(author, ticket, "toner cartridge empty")
    svc.edit_comment(author, comment, "paper tray jammed")

    def found(q):
        return [row.display_id for row in list_page(ListFilter(q=q, statuses=()), None).items]
    assert found("jammed") == [ticket.display_id] and found("cartridge") == []
