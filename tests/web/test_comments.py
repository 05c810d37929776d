"""Comments: post without a reload, errors in place, delete by author or admin with confirmation."""
import re

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Comment
from webapp.services import comments

from .conftest import PARTIAL, is_full_page


def post_comment(client, ticket, body, headers=PARTIAL):
    return client.post(f"/tickets/{ticket.display_id}/comments", data={"body": body}, headers=headers)


def delete(client, ticket, comment, headers=PARTIAL):
    return client.post(f"/tickets/{ticket.display_id}/comments/{comment.id}/delete", headers=headers)


def test_posting_returns_a_fresh_form_and_appends_the_rendered_comment(client, agent, make):
    ticket = make.ticket()
    response = post_comment(client, ticket, "| a | b |\n|---|---|\n| 1 | 2 |")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="comment-form"')
    assert "></textarea>" in html.split("</form>")[0]
    appended = html[html.index('<ol hx-swap-oob="beforeend:#comment-list">'):]
    assert "<table>" in appended and "<strong>Alex Agent</strong>" in appended
    assert '<span id="comment-count" class="count" hx-swap-oob="true">1</span>' in html
    assert '<p id="comments-empty" class="empty-note muted" hidden hx-swap-oob="true">' in html
    comment = db.session.scalar(db.select(Comment).filter_by(ticket_id=ticket.id))
    assert comment.body == "| a | b |\n|---|---|\n| 1 | 2 |"
    db.session.refresh(ticket)
    assert ticket.version == 1  # the page's forms still hold the current version...
    assert 'id="ticket-sidebar"' not in html and 'name="version"' not in html  # ...so they are not re-sent
    assert '<span id="ticket-updated" hx-swap-oob="true"><time' in html  # but "Updated" is fresh


def test_an_empty_comment_is_refused_beside_the_box_with_the_text_kept(client, agent, make):
    ticket = make.ticket()
    response = post_comment(client, ticket, "   \n ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="comment-form"')
    assert '<p class="field-error" id="body-error" role="alert">Write something before posting.</p>' in html
    assert ">   \n </textarea>" in html
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0


def test_a_too_long_comment_keeps_the_text(client, agent, make):
    ticket = make.ticket()
    body = "y" * 50_001
    html = post_comment(client, ticket, body).get_data(as_text=True)
    assert 'id="body-error"' in html and body in html


def test_posting_without_htmx_redirects(client, agent, make):
    ticket = make.ticket()
    response = post_comment(client, ticket, "plain", headers={})
    assert response.status_code == 303


def test_author_sees_a_delete_button_with_a_confirmation(client, agent, make):
    ticket = make.ticket()
    mine = comments.add_comment(agent, ticket, "mine")
    theirs = comments.add_comment(make.user("bob"), ticket, "theirs")
    html = client.get(f"/tickets/{ticket.display_id}/comments").get_data(as_text=True)
    assert f"/comments/{mine.id}/delete" in html
    assert f"/comments/{theirs.id}/delete" not in html
    assert 'hx-confirm="Delete this comment? Its text stays in the Audit Log."' in html


def test_admin_sees_delete_on_every_comment(client, make, auth, admin):
    auth.login("root")
    ticket = make.ticket()
    theirs = comments.add_comment(make.user("bob"), ticket, "theirs")
    html = client.get(f"/tickets/{ticket.display_id}/comments").get_data(as_text=True)
    assert f"/comments/{theirs.id}/delete" in html


def test_author_deletes_a_comment_and_the_body_is_audited(client, agent, make):
    ticket = make.ticket()
    comment = comments.add_comment(agent, ticket, "secret **plan**")
    response = delete(client, ticket, comment)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<li class="comment-removed"')
    assert '<span id="comment-count" class="count" hx-swap-oob="true">0</span>' in html
    assert '<p id="comments-empty" class="empty-note muted"  hx-swap-oob="true">' in html
    assert comment.deleted_at is not None and comment.body == "secret **plan**"
    event = db.session.scalar(db.select(AuditEvent).filter_by(ticket_id=ticket.id, action="comment_delete"))
    assert event.before["body"] == "secret **plan**" and event.actor_id == agent.id


def test_admin_may_delete_anyones_comment(client, make, auth, admin):
    auth.login("root")
    ticket = make.ticket()
    comment = comments.add_comment(make.user("bob"), ticket, "theirs")
    assert delete(client, ticket, comment).status_code == 200
    assert comment.deleted_by_id == admin.id


def test_another_agent_cannot_delete_and_is_told_why_in_place(client, agent, make):
    ticket = make.ticket()
    comment = comments.add_comment(make.user("bob"), ticket, "bob was here")
    response = delete(client, ticket, comment)
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert html.lstrip().startswith(f'<li class="comment" id="comment-{comment.id}"')
    assert "Only the author or an admin can delete this comment." in html
    assert "bob was here" in html
    assert comment.deleted_at is None


def test_deleting_an_already_deleted_comment_says_so(client, agent, make):
    ticket = make.ticket()
    comment = comments.add_comment(agent, ticket, "twice")
    comments.delete_comment(agent, comment)
    response = delete(client, ticket, comment)
    assert response.status_code == 404
    assert "comment-removed" in response.get_data(as_text=True)


def test_deleted_comments_disappear_from_the_tab(client, agent, make):
    ticket = make.ticket()
    comment = comments.add_comment(agent, ticket, "gone soon")
    delete(client, ticket, comment)
    html = client.get(f"/tickets/{ticket.display_id}/comments").get_data(as_text=True)
    assert "gone soon" not in html
    assert re.search(r'<p id="comments-empty" class="empty-note muted"\s+>', html)


def test_delete_without_htmx_redirects_and_a_refusal_rerenders(client, agent, make):
    ticket = make.ticket()
    mine = comments.add_comment(agent, ticket, "mine")
    assert delete(client, ticket, mine, headers={}).status_code == 303
    theirs = comments.add_comment(make.user("bob"), ticket, "theirs")
    response = delete(client, ticket, theirs, headers={})
    assert response.status_code == 403 and is_full_page(response)
    assert "Only the author or an admin" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/comments", "/comments/1/delete"])
def test_comment_actions_need_csrf(client, agent, make, path):
    ticket = make.ticket()
    comments.add_comment(agent, ticket, "x")
    response = client.post(f"/tickets/{ticket.display_id}{path}", data={"body": "y"}, headers=PARTIAL, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment).filter_by(deleted_at=None)) == 1
