"""Notification mail through a real SMTP server on 127.0.0.1: sent once, retried, given up, digested."""
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Mail, Notification
from webapp.services import comments, mail_message, mail_run, tickets
from webapp.db.utc import utcnow

from .mail_fixtures import mail_on, smtp_server  # noqa: F401
from .factories import Factories


def person(make: Factories, username: str, **prefs):
    user = make.user(username)
    user.email = f"{username}@example.test"
    user.notify_prefs = prefs or None
    db.session.commit()
    return user


def mail_state(user) -> list[tuple]:
    rows = db.session.execute(sa.select(Notification.mail, Notification.mail_attempts)
                              .where(Notification.recipient_id == user.id).order_by(Notification.id))
    return [tuple(row) for row in rows]


def test_an_assignment_is_mailed_once_with_text_html_a_link_and_one_click_unsubscribe(mail_on, make):
    lead, carol = make.user("lead", display_name="Lead Person"), person(make, "carol")
    ticket = make.ticket(actor=lead, title="Disk full on web01")
    tickets.assign(lead, ticket, carol.id)
    [message] = mail_on.to("carol@example.test")
    assert message["Subject"] == f"Lead Person assigned {ticket.display_id} to you: Disk full on web01"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"http://tickets.test/tickets/{ticket.display_id}/audit#event-" in text
    assert "Disk full on web01" in html and "<script" not in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = urlsplit(message["List-Unsubscribe"].strip("<>")).path.rsplit("/", 1)[1]
    assert mail_message.read_unsubscribe_token(token) == (carol.id, "assigned")
    assert message["Message-ID"].startswith("<notification-")
    assert mail_state(carol) == [("sent", 1)]
    assert mail_run.send_due(now=utcnow() + timedelta(hours=1)) == 0  # never twice
    assert len(mail_on.to("carol@example.test")) == 1


def test_titles_and_comments_are_escaped_in_the_html_part(mail_on, make):
    lead, dave = make.user(), person(make, "dave", comment="email")
    ticket = make.ticket(actor=lead, title="<img src=x onerror=alert(1)>")
    tickets.assign(lead, ticket, dave.id)
    comments.add_comment(lead, ticket, "<script>alert(1)</script> done")
    for message in mail_on.to("dave@example.test"):
        html = message.get_body(("html",)).get_content()
        assert "<script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html or "&lt;img src=x" in html
    assert len(mail_on.to("dave@example.test")) == 2


def test_a_refusing_server_gets_retried_on_the_backoff_schedule(mail_on, make):
    mail_on.answer = "451 4.3.0 try again later"
    lead, erin = make.user(), person(make, "erin")
    ticket = make.ticket(actor=lead)
    start = utcnow()
    tickets.assign(lead, ticket, erin.id)
    notification = db.session.scalar(sa.select(Notification).filter_by(recipient_id=erin.id))
    assert (notification.mail, notification.mail_attempts) == ("pending", 1)
    assert "451" in notification.mail_error
    wait = (notification.mail_next_at - start).total_seconds()
    assert 55 <= wait <= 70, wait  # the first retry after a minute
    assert mail_run.send_due(now=start + timedelta(seconds=30)) == 0  # not due yet
    mail_on.answer = None
    assert mail_run.send_due(now=start + timedelta(seconds=75)) == 1
    assert len(mail_on.to("erin@example.test")) == 1 and mail_state(erin) == [("sent", 2)]


def test_a_mail_server_that_is_down_loses_nothing(app, make, monkeypatch, smtp_server):
    from .mail_fixtures import free_port
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nothing listens
    lead, fay = make.user(), person(make, "fay")
    tickets.assign(lead, make.ticket(actor=lead), fay.id)
    assert mail_state(fay) == [("pending", 1)]
    inbox, url = smtp_server
    monkeypatch.setitem(app.config, "SMTP_URL", url)
    assert mail_run.send_due(now=utcnow() + timedelta(minutes=2)) == 1
    assert len(inbox.to("fay@example.test")) == 1


def test_a_permanent_refusal_gives_up_at_once_and_attempts_run_out(app, mail_on, make, monkeypatch):
    mail_on.answer = "550 5.1.1 no such mailbox"
    lead, gus = make.user(), person(make, "gus")
    tickets.assign(lead, make.ticket(actor=lead), gus.id)
    assert mail_state(gus) == [("failed", 1)]
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    mail_on.answer = "421 4.7.0 busy"
    hal = person(make, "hal")
    tickets.assign(lead, make.ticket(actor=lead), hal.id)
    assert mail_run.send_due(now=utcnow() + timedelta(minutes=2)) == 0
    assert mail_state(hal) == [("failed", 2)]


def test_no_address_or_inbox_only_sends_no_mail(mail_on, make):
    lead, ida = make.user(), make.user("ida")  # no address
    jon = person(make, "jon", assigned="inapp")
    ticket = make.ticket(actor=lead)
    tickets.assign(lead, ticket, ida.id)
    tickets.assign(lead, ticket, jon.id)
    assert mail_on.messages == [] and mail_state(ida) == [(None, 0)] and mail_state(jon) == [(None, 0)]


def test_the_daily_digest_gathers_a_days_notifications_into_one_mail(mail_on, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "DIGEST_HOUR", 8)
    lead, kim = make.user(), person(make, "kim", comment="digest")
    kim.time_zone = "Europe/Berlin"
    db.session.commit()
    ticket = make.ticket(actor=lead)
    from webapp.services import watchers
    watchers.watch(kim, ticket)
    for n in range(3):
        comments.add_comment(lead, ticket, f"update {n}")
    assert mail_on.messages == [] and [state for state, _ in mail_state(kim)] == ["digest"] * 3
    now = utcnow()
    soon = now + timedelta(minutes=1) if _berlin_hour(now + timedelta(minutes=1)) != 8 else now + timedelta(hours=2)
    assert mail_run.send_digests(now=soon) == 0  # not kim's digest hour, and nothing has waited a day
    eight = now.replace(hour=7, minute=5, second=0, microsecond=0)  # 08:05 in Berlin in winter (UTC+1)
    sent = mail_run.send_digests(now=eight if eight > now else eight + timedelta(days=1))
    assert sent == 1
    [digest] = mail_on.to("kim@example.test")
    assert digest["Subject"] == "Your daily digest: 3 notifications"
    body = digest.get_body(("plain",)).get_content()
    assert all(f"update {n}" in body for n in range(3))
    assert [state for state, _ in mail_state(kim)] == ["sent"] * 3
    assert mail_run.send_digests(now=utcnow() + timedelta(days=2)) == 0


def _berlin_hour(moment) -> int:
    from zoneinfo import ZoneInfo
    return moment.astimezone(ZoneInfo("Europe/Berlin")).hour


def test_a_digest_that_waited_a_day_goes_out_whatever_the_hour(mail_on, make, app, monkeypatch):
    lead, lou = make.user(), person(make, "lou", assigned="digest")
    tickets.assign(lead, make.ticket(actor=lead), lou.id)
    monkeypatch.setitem(app.config, "DIGEST_HOUR", (utcnow() + timedelta(hours=12)).hour)
    assert mail_run.send_digests(now=utcnow() + timedelta(days=1, minutes=1)) == 1
    assert len(mail_on.to("lou@example.test")) == 1


def test_the_minutely_safety_net_sends_mail_whose_run_was_lost(mail_on, make, monkeypatch, app):
    from webapp.jobs import tasks
    lead, max_ = make.user(), person(make, "maxine")
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://127.0.0.1:9")  # the first try finds no server
    tickets.assign(lead, make.ticket(actor=lead), max_.id)
    assert mail_state(max_) == [("pending", 1)]
    db.session.execute(sa.update(Notification).values(mail_next_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()  # its retry is due, and the run scheduled for it was lost with Redis
    monkeypatch.setitem(app.config, "SMTP_URL", mail_on.url)
    assert tasks.requeue_undelivered() >= 1
    assert len(mail_on.to("maxine@example.test")) == 1 and mail_state(max_) == [("sent", 2)]


def test_without_smtp_url_no_mail_is_queued(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_URL", None)
    lead, nia = make.user(), person(make, "nia")
    tickets.assign(lead, make.ticket(actor=lead), nia.id)
    assert mail_state(nia) == [(None, 0)]
