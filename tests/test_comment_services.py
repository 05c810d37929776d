"""Comments: markdown bodies, deletion by author or admin, the body kept in the audit trail."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Comment, Role
from webapp.services import Forbidden, NotFound, ValidationError
from webapp.services import comments as svc


def test_add_comment_audits_the_body(make):
    ticket = make.ticket()
    author = make.user()
    comment = svc.add_comment(author, ticket, "  **Looks** fixed  ")
    assert comment.body == "**Looks** fixed"
    event = db.session.scalar(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="comment_add"))
    assert event.after == {"commentId": comment.id, "body": "**Looks** fixed"}
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(ticket_id=ticket.id))
    assert events >= 2 and svc.tab_counts(ticket) == (1, events)  # the ticket page's tab counts


@pytest.mark.parametrize("body", ["", "   ", None, 5, "x" * 50_001])
def test_empty_or_huge_comment_is_refused(make, body):
    ticket = make.ticket()
    with pytest.raises(ValidationError) as caught:
        svc.add_comment(make.user(), ticket, body)
    assert "body" in caught.value.fields


def test_author_deletes_own_comment_and_body_is_kept(make):
    ticket = make.ticket()
    author = make.user()
    comment = svc.add_comment(author, ticket, "secret-ish text")
    svc.delete_comment(author, comment)
    assert svc.visible_comments(ticket) == []
    assert svc.tab_counts(ticket)[0] == 0  # a deleted comment no longer counts
    assert db.session.get(Comment, comment.id).body == "secret-ish text"
    event = db.session.scalar(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="comment_delete"))
    assert event.before["body"] == "secret-ish text" and event.actor_id == author.id


def test_admin_deletes_any_comment_but_other_agents_cannot(make):
    ticket = make.ticket()
    comment = svc.add_comment(make.user(), ticket, "hello")
    with pytest.raises(Forbidden):
        svc.delete_comment(make.user(), comment)
    svc.delete_comment(make.user(role=Role.ADMIN), comment)
    with pytest.raises(NotFound):
        svc.delete_comment(make.user(role=Role.ADMIN), comment)


def test_get_comment_checks_the_ticket(make):
    first, second = make.ticket(), make.ticket()
    comment = svc.add_comment(make.user(), first, "on the first")
    assert svc.get_comment(first, comment.id) is comment
    with pytest.raises(NotFound):
        svc.get_comment(second, comment.id)
