"""The inbox, the header bell, watching from the ticket page, @mentions on the page, unsubscribe."""
import re

from webapp.extensions import db
from webapp.models import Notification
from webapp.services import comments, mail_message, notify_prefs, watchers

from .conftest import PARTIAL, is_full_page


def bell(html: str) -> str:
    return re.search(r'<a id="notifications-bell".*?</a>', html, re.S).group(0)


def test_the_bell_counts_unread_and_the_inbox_lists_them_newest_first(client, agent, make):
    bob = make.user("bob", display_name="Bob Builder")
    ticket = make.ticket(actor=agent, title="Disk full on web01")
    comments.add_comment(bob, ticket, "first look")
    comments.add_comment(bob, ticket, "second look")
    html = client.get("/").get_data(as_text=True)
    assert '<span class="unread-badge">2</span>' in bell(html) and "2 unread" in bell(html)
    page = client.get("/notifications").get_data(as_text=True)
    items = re.findall(r'<li class="inbox-item unread" id="notification-(\d+)">', page)
    assert len(items) == 2 and int(items[0]) > int(items[1])
    assert f"Bob Builder commented on {ticket.display_id}" in page and "Disk full on web01" in page
    assert page.index("second look") < page.index("first look")
    assert f'href="/tickets/{ticket.display_id}/comments#comment-' in page


def test_marking_one_read_answers_the_inbox_and_the_bell_out_of_band(client, agent, make):
    ticket = make.ticket(actor=agent)
    comments.add_comment(make.user(), ticket, "ping")
    notification = db.session.scalar(db.select(Notification).filter_by(recipient_id=agent.id))
    response = client.post(f"/notifications/{notification.id}/read", headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and not is_full_page(response)
    assert html.lstrip().startswith('<section id="inbox"')
    assert 'id="notifications-bell"' in html and 'hx-swap-oob="true"' in bell(html)
    assert "unread-badge" not in bell(html)
    db.session.refresh(notification)
    assert notification.read_at is not None


def test_read_all_and_the_empty_states(client, agent, make):
    assert "No notifications yet." in client.get("/notifications").get_data(as_text=True)
    ticket = make.ticket(actor=agent)
    for n in range(3):
        comments.add_comment(make.user(), ticket, f"note {n}")
    response = client.post("/notifications/read-all")
    assert response.status_code == 303 and response.headers["Location"] == "/notifications"
    page = client.get("/notifications?unread=1").get_data(as_text=True)
    assert "Marked 3 notifications read." in page and "You're all caught up." in page


def test_another_persons_notification_cannot_be_marked(client, agent, make):
    other, bob = make.user(), make.user()
    ticket = make.ticket(actor=other)
    comments.add_comment(bob, ticket, "for the filer")
    theirs = db.session.scalar(db.select(Notification).filter_by(recipient_id=other.id))
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    db.session.refresh(theirs)
    assert theirs.read_at is None


def test_opening_the_ticket_reads_its_notifications(client, agent, make):
    ticket, elsewhere = make.ticket(actor=agent), make.ticket(actor=agent)
    bob = make.user()
    comments.add_comment(bob, ticket, "here")
    comments.add_comment(bob, elsewhere, "there")
    client.get(f"/tickets/{ticket.display_id}/comments")
    unread = db.session.scalars(db.select(Notification.ticket_id).filter_by(recipient_id=agent.id, read_at=None)).all()
    assert unread == [elsewhere.id]


def test_watch_and_unwatch_from_the_sidebar(client, agent, make):
    ticket = make.ticket(actor=make.user())
    page = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert 'aria-labelledby="side-watchers"' in page and ">Watch</button>" in page
    response = client.post(f"/tickets/{ticket.display_id}/watch", headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ">Unwatch</button>" in html and 'aria-pressed="true"' in html
    assert watchers.is_watching(agent, ticket)
    assert 'id="audit-count"' in html  # the audit tab's count, out of band: watching is audited
    response = client.post(f"/tickets/{ticket.display_id}/unwatch")
    assert response.status_code == 303 and not watchers.is_watching(agent, ticket)


def test_mentions_link_active_people_and_leave_others_as_text(client, agent, make):
    make.user("carol", display_name="Carol Chen")
    make.user("gone", active=False)
    ticket = make.ticket(actor=agent, overview="Ask @carol, not @gone or @nobody. Mail carol@example.com")
    page = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    carol = re.search(r'<a class="mention" href="/\?assignee=(\d+)" title="Carol Chen: their tickets">@carol</a>', page)
    assert carol is not None
    assert "@gone" in page and 'mention" href="/?assignee' not in page.replace(carol.group(0), "")
    assert "<span class=\"mention\">" not in page  # every span became a link or text


def test_mention_suggestions_offer_active_staff_only(client, agent, make):
    make.user("carol", display_name="Carol Chen")
    make.user("carl-bot", role="SERVICE")
    make.user("cathy", active=False)
    html = client.get("/mentions?q=ca", headers=PARTIAL).get_data(as_text=True)
    assert re.findall(r'data-username="([^"]+)"', html) == ["carol"]
    assert 'role="option"' in html and 'aria-selected="true"' in html
    by_name = client.get("/mentions?q=chen").get_data(as_text=True)
    assert 'data-username="carol"' in by_name
    assert "No one by that name" in client.get("/mentions?q=zz%25").get_data(as_text=True)


def test_one_click_unsubscribe_turns_that_mail_off_and_keeps_the_inbox(client, make):
    person = make.user("dana")
    token = mail_message.unsubscribe_token(person.id, "assigned")
    page = client.get(f"/notifications/unsubscribe/{token}")
    assert page.status_code == 200 and b"Stop this mail?" in page.data
    done = client.post(f"/notifications/unsubscribe/{token}", csrf=False)  # as a mail client would
    assert done.status_code == 200 and b"Unsubscribed" in done.data
    db.session.refresh(person)
    assert notify_prefs.modes(person)[notify_prefs.Reason.ASSIGNED] == notify_prefs.INAPP
    assert client.get("/notifications/unsubscribe/forged.token").status_code == 404
