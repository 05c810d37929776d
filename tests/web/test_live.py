"""Live pages by conditional polling: ETags that move with what a page shows, 304s that cost nothing,
and presence on the ticket page."""
import re

from webapp.services import comments, presence, tickets
from webapp.models import Status

from .conftest import PARTIAL, is_full_page


def etag_of(response) -> str:
    return response.headers["ETag"]


def test_the_queue_answers_304_until_a_ticket_changes(client, agent, make):
    ticket = make.ticket(actor=agent)
    first = client.get("/")
    tag = etag_of(first)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    assert f'data-live="queue" data-live-etag="{tag.strip(chr(34))}"' in first.get_data(as_text=True)
    again = client.get("/", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and etag_of(again) == tag
    assert "Set-Cookie" not in again.headers
    tickets.change_status(make.user(), ticket, Status.IN_PROGRESS)
    changed = client.get("/", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and etag_of(changed) != tag and is_full_page(changed)


def test_the_etag_differs_by_url_and_fragments_carry_none(client, agent, make):
    make.ticket(actor=agent)
    page, other_url = client.get("/"), client.get("/?severity=1")
    assert etag_of(page) != etag_of(other_url)
    assert "ETag" not in client.get("/", headers=PARTIAL).headers  # htmx swaps; live polls ask for pages


def test_a_notification_moves_the_queues_etag(client, agent, make):
    ticket = make.ticket(actor=agent)
    tag = etag_of(client.get("/"))
    comments.add_comment(make.user(), ticket, "news for the filer")
    response = client.get("/", headers={"If-None-Match": tag})
    assert response.status_code == 200
    assert '<span class="unread-badge">1</span>' in response.get_data(as_text=True)


def test_the_ticket_page_answers_304_until_its_events_move(client, agent, make):
    ticket = make.ticket(actor=agent)
    path = f"/tickets/{ticket.display_id}"
    tag = etag_of(client.get(path))
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304
    other = make.ticket(actor=agent)
    comments.add_comment(agent, other, "elsewhere")  # another ticket's event: still 304 here
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304
    comments.add_comment(agent, ticket, "here")  # its own
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 200


def test_presence_shows_who_else_is_there_and_what_they_do(client, agent, make, app):
    ticket = make.ticket(actor=agent)
    path = f"/tickets/{ticket.display_id}"
    tag = etag_of(client.get(path))
    bob = make.user("bob", display_name="Bob Builder")
    presence.note(ticket.id, bob, "commenting")
    response = client.get(path, headers={"If-None-Match": tag})
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # someone arrived: the ETag moved
    assert re.search(r'<span class="present" data-state="commenting" data-name="Bob Builder">.*Bob Builder is writing a comment</span>', html)
    assert "Alex Agent is" not in html  # never oneself
    presence.note(ticket.id, bob, "editing-overview")
    html = client.get(path).get_data(as_text=True)
    assert 'data-editing="overview"' in html and "Bob Builder is editing the overview" in html


def test_a_poll_says_what_the_caller_is_doing(client, agent, make):
    ticket = make.ticket(actor=agent)
    client.get(f"/tickets/{ticket.display_id}", headers={"X-Presence": "editing-title"})
    seen = presence.others(ticket.id, make.user())
    assert [(p.name, p.state, p.editing) for p in seen] == [("Alex Agent", "editing-title", "title")]
    client.get(f"/tickets/{ticket.display_id}", headers={"X-Presence": "<script>"})
    assert presence.others(ticket.id, make.user())[0].state == "viewing"  # unknown states are plain viewing


def test_presence_expires(app, make):
    ticket, bob = make.ticket(), make.user()
    presence.note(ticket.id, bob, "viewing", now=1000.0)
    assert presence.others(ticket.id, make.user(), now=1000.0 + presence.TTL_SECONDS - 1)
    assert presence.others(ticket.id, make.user(), now=1000.0 + presence.TTL_SECONDS + 1) == []


def test_a_live_poll_leaves_flash_messages_for_the_next_page(client, agent, make):
    ticket = make.ticket(actor=agent)
    client.post(f"/tickets/{ticket.display_id}/watch")  # without htmx: a flash, then a redirect
    polled = client.get(f"/tickets/{ticket.display_id}", headers={"X-Live-Poll": "1"})
    assert "You were already watching." not in polled.get_data(as_text=True)
    assert "You were already watching." in client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)


def test_within_a_second_a_process_answers_polls_from_the_global_stamp_it_read(client, agent, make, app,
                                                                              monkeypatch):
    """While the newest change, event and notification anywhere stand still, a poll is a 304 without
    a question about the page; the stamp is read again once its second is over."""
    from webapp.web import live
    monkeypatch.setitem(app.config, "LIVE_GLOBAL_SECONDS", 1.0)
    clock = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: clock[0])
    monkeypatch.delitem(app.extensions, "live_global", raising=False)  # read on this test's clock
    ticket = make.ticket(actor=agent)
    path = f"/tickets/{ticket.display_id}/comments"
    tag = etag_of(client.get(path))
    comments.add_comment(make.user(), ticket, "a change within the second")
    assert client.get(path, headers={"If-None-Match": tag}).status_code == 304  # the kept stamp
    clock[0] += 1.5
    changed = client.get(path, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and "a change within the second" in changed.get_data(as_text=True)


def test_a_global_change_elsewhere_gives_a_304_that_carries_the_new_etag(client, agent, make):
    ticket, other = make.ticket(actor=agent), make.ticket(actor=agent)
    path = f"/tickets/{ticket.display_id}"
    tag = etag_of(client.get(path))
    tickets.change_status(agent, other, Status.IN_PROGRESS)  # moves the global stamp, not this page's
    response = client.get(path, headers={"If-None-Match": tag})
    assert response.status_code == 304 and etag_of(response) != tag
    assert client.get(path, headers={"If-None-Match": etag_of(response)}).status_code == 304


def test_someone_arriving_moves_the_page_part_too(client, agent, make):
    """Presence is in both parts of the ETag: a changed global stamp with the page's own stamp
    unchanged still renders the page when someone arrived."""
    ticket, other = make.ticket(actor=agent), make.ticket(actor=agent)
    path = f"/tickets/{ticket.display_id}"
    tag = etag_of(client.get(path))
    tickets.change_status(agent, other, Status.IN_PROGRESS)
    presence.note(ticket.id, make.user(display_name="Cleo"), "commenting")
    response = client.get(path, headers={"If-None-Match": tag})
    assert response.status_code == 200 and "Cleo is writing a comment" in response.get_data(as_text=True)
