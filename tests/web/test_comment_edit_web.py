"""Comment editing on the ticket page: the author's Edit opens an inline editor (a full page without
htmx), a save shows the comment "edited", a refused edit keeps the text, others get no button."""
import re

import pytest

from webapp.services import comments as svc

from ..security.xss import injections, payloads
from .conftest import PARTIAL


@pytest.fixture
def mine(make, auth):
    author = make.user("writer", display_name="Wren Writer")
    auth.login("writer")
    ticket = make.ticket()
    return ticket, svc.add_comment(author, ticket, "First *draft*")


def test_the_web_editor_opens_saves_and_shows_edited(client, mine):
    ticket, comment = mine
    base = f"/tickets/{ticket.display_id}/comments/{comment.id}"
    page = client.get(f"/tickets/{ticket.display_id}/comments").get_data(as_text=True)
    assert f'href="{base}/edit"' in page
    editor = client.get(base + "/edit", headers=PARTIAL).get_data(as_text=True)
    assert editor.lstrip().startswith(f'<li class="comment" id="comment-{comment.id}"')
    assert "First *draft*</textarea>" in editor and f'action="{base}"' in editor
    saved = client.post(base, data={"body": "Final **text**"}, headers=PARTIAL)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "<strong>text</strong>" in html and "· edited" in html
    assert 'id="audit-count"' in html  # the audit tab's count follows
    audit = client.get(f"/tickets/{ticket.display_id}/audit").get_data(as_text=True)
    assert "edited a comment" in audit and "<em>draft</em>" in audit  # the earlier text, in the diff


def test_a_refused_edit_keeps_the_text_and_marks_the_field(client, mine):
    ticket, comment = mine
    typed = "x" * 50_001
    response = client.post(f"/tickets/{ticket.display_id}/comments/{comment.id}", data={"body": typed}, headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and typed in html and 'aria-invalid="true"' in html
    assert comment.body == "First *draft*"


def test_without_htmx_the_editor_is_the_comments_tab_and_saving_redirects(client, mine):
    ticket, comment = mine
    page = client.get(f"/tickets/{ticket.display_id}/comments/{comment.id}/edit")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    saved = client.post(f"/tickets/{ticket.display_id}/comments/{comment.id}", data={"body": "Plain"})
    assert saved.status_code == 303 and comment.body == "Plain"


def test_someone_elses_comment_has_no_edit_button_and_refuses(client, make, mine):
    ticket, _ = mine
    theirs = svc.add_comment(make.user(), ticket, "Not yours")
    page = client.get(f"/tickets/{ticket.display_id}/comments").get_data(as_text=True)
    assert f"/comments/{theirs.id}/edit" not in page
    assert client.get(f"/tickets/{ticket.display_id}/comments/{theirs.id}/edit").status_code == 403
    refused = client.post(f"/tickets/{ticket.display_id}/comments/{theirs.id}", data={"body": "Mine now"})
    assert refused.status_code == 403 and theirs.body == "Not yours"


def test_every_xss_payload_as_an_edit_renders_inert(client, mine):
    """The edited text goes through the same sanitised markdown as a new comment, in the fragment a
    save answers with and on the page."""
    ticket, comment = mine
    url = f"/tickets/{ticket.display_id}/comments/{comment.id}"
    for payload in payloads():
        html = client.post(url, data={"body": payload}, headers=PARTIAL).get_data(as_text=True)
        shown = re.search(r'<div class="markdown">(.*?)</div>\s*</article>', html, re.S)
        assert shown and injections(shown.group(1)) == [], payload
