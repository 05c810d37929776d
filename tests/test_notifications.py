"""Watches and notifications, fanned out by the outbox dispatch (inline after each commit here)."""
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Notification, Reason, Role, Status, Watch
from webapp.services import comments, inbox, mentions, sweep, tickets, watchers
from webapp.services.dispatch import dispatch_outbox
from webapp.db.utc import utcnow
from webapp.models import OutboxEvent


def told(user) -> list[tuple[str, str]]:
    """(reason, event action) of every notification `user` has, oldest first."""
    from webapp.models import AuditEvent
    rows = db.session.execute(sa.select(Notification.reason, AuditEvent.action)
                              .join(AuditEvent, AuditEvent.id == Notification.audit_event_id)
                              .where(Notification.recipient_id == user.id).order_by(Notification.id))
    return [tuple(row) for row in rows]


def watcher_names(ticket) -> list[str]:
    return [user.username for user in watchers.watchers(ticket)]


def test_the_filer_and_the_assignee_watch_and_the_assignee_is_told(make):
    filer, carol = make.user("filer"), make.user("carol")
    ticket = make.ticket(actor=filer, assignee=carol)
    assert sorted(watcher_names(ticket)) == ["carol", "filer"]
    assert told(carol) == [("assigned", "create")]
    assert told(filer) == []  # nobody is told of their own action


def test_a_comment_tells_every_watcher_but_its_author_who_starts_watching(make):
    filer, bob, carol = make.user(), make.user(), make.user()
    ticket = make.ticket(actor=filer)
    watchers.watch(carol, ticket)
    comments.add_comment(bob, ticket, "Looking at it")
    assert told(filer) == [("comment", "comment_add")]
    assert told(carol) == [("comment", "comment_add")]
    assert told(bob) == []
    assert watchers.is_watching(bob, ticket)
    comments.add_comment(filer, ticket, "Thanks")
    assert told(bob) == [("comment", "comment_add")] and len(told(filer)) == 1


def test_a_mention_tells_the_person_once_and_makes_them_watch(make):
    filer, dave = make.user(), make.user("dave")
    ticket = make.ticket(actor=filer)
    watchers.watch(dave, ticket)
    comments.add_comment(filer, ticket, "@dave can you look? `@dave` in code and dave@example.com are not mentions")
    assert told(dave) == [("mentioned", "comment_add")]  # mentioned wins over "a comment you watch"
    erin = make.user("erin")
    comments.add_comment(filer, ticket, "cc @Erin.")
    assert told(erin) == [("mentioned", "comment_add")] and watchers.is_watching(erin, ticket)


def test_mentions_of_unknown_deactivated_or_service_users_tell_no_one(make):
    filer = make.user()
    gone, robot = make.user("gone", active=False), make.user("robot", role=Role.SERVICE)
    ticket = make.ticket(actor=filer)
    comments.add_comment(filer, ticket, "@gone @robot @nobody-here")
    assert told(gone) == [] and told(robot) == []
    assert not watchers.is_watching(gone, ticket) and not watchers.is_watching(robot, ticket)


def test_an_edit_tells_only_whom_it_newly_mentions(make):
    filer, frank, gina = make.user(), make.user("frank"), make.user("gina")
    ticket = make.ticket(actor=filer)
    comment = comments.add_comment(filer, ticket, "ping @frank")
    comments.edit_comment(filer, comment, "ping @frank and @gina")
    assert told(frank) == [("mentioned", "comment_add")]
    assert told(gina) == [("mentioned", "comment_edit")]
    tickets.edit_overview(filer, ticket, "Owner: @gina")  # the overview is a text of its own
    assert told(gina) == [("mentioned", "comment_edit"), ("mentioned", "overview")]
    tickets.edit_overview(filer, ticket, "Owner: @gina, backup @frank")
    assert told(gina)[-1] == ("mentioned", "overview") and len(told(gina)) == 2
    assert told(frank) == [("mentioned", "comment_add"), ("mentioned", "overview")]


def test_an_overview_mention_at_creation_tells_them(make):
    filer, hana = make.user(), make.user("hana")
    ticket = make.ticket(actor=filer, overview="Seen by @hana on web01")
    assert told(hana) == [("mentioned", "create")] and watchers.is_watching(hana, ticket)


def test_assigning_tells_the_new_assignee_unless_they_assigned_themselves(make):
    lead, ivan = make.user(), make.user("ivan")
    ticket = make.ticket(actor=lead)
    tickets.assign(lead, ticket, ivan.id)
    assert told(ivan) == [("assigned", "assignee")] and watchers.is_watching(ivan, ticket)
    other = make.ticket(actor=lead)
    tickets.assign(ivan, other, ivan.id)
    assert told(ivan) == [("assigned", "assignee")]


def test_resolving_tells_the_filer_and_a_status_change_tells_watchers(make):
    filer, agent, watcher = make.user(), make.user(), make.user()
    ticket = make.ticket(actor=filer)
    watchers.watch(watcher, ticket)
    tickets.change_status(agent, ticket, Status.IN_PROGRESS)
    assert told(filer) == [("status", "status")] and told(watcher) == [("status", "status")]
    tickets.change_status(agent, ticket, Status.RESOLVED)
    assert told(filer)[-1] == ("yours_done", "status") and told(watcher)[-1] == ("status", "status")


def test_the_sweeps_auto_close_tells_the_filer(app, make):
    from datetime import timedelta
    filer, agent = make.user(), make.user()
    ticket = make.ticket(actor=filer)
    tickets.change_status(agent, ticket, Status.RESOLVED)
    assert sweep.auto_close(as_of=utcnow() + timedelta(days=15)) == 1
    dispatch_outbox()
    assert told(filer)[-1] == ("yours_done", "auto_close")


def test_preferences_turn_a_reason_off(make):
    filer, quiet = make.user(), make.user()
    quiet.notify_prefs = {"comment": "off"}
    db.session.commit()
    ticket = make.ticket(actor=filer)
    watchers.watch(quiet, ticket)
    comments.add_comment(filer, ticket, "hello")
    assert told(quiet) == []


def test_service_accounts_watch_only_when_they_ask_and_then_are_told(make):
    robot, agent = make.user(role=Role.SERVICE), make.user()
    ticket = make.ticket(actor=robot)
    assert not watchers.is_watching(robot, ticket)
    assert watchers.watch(robot, ticket) is True and watchers.watch(robot, ticket) is False
    comments.add_comment(agent, ticket, "on it")
    assert told(robot) == [("comment", "comment_add")]


def test_a_second_dispatch_of_the_same_events_adds_nothing(make):
    filer, bob = make.user(), make.user()
    ticket = make.ticket(actor=filer)
    comments.add_comment(bob, ticket, "first")
    before = told(filer)
    db.session.execute(sa.update(OutboxEvent).values(dispatched_at=None))
    db.session.commit()
    dispatch_outbox()
    assert told(filer) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Watch).where(Watch.ticket_id == ticket.id)) == 2


def test_inactive_people_are_not_told(make):
    filer, bob = make.user(), make.user()
    ticket = make.ticket(actor=filer)
    filer.active = False
    db.session.commit()
    comments.add_comment(bob, ticket, "anyone?")
    assert told(filer) == []


def test_watch_and_unwatch_are_audited_and_guarded(make):
    from webapp.models import AuditEvent
    from webapp.services.errors import Forbidden
    import pytest
    admin, agent, other = make.user(role=Role.ADMIN), make.user(), make.user()
    robot = make.user(role=Role.SERVICE)
    ticket = make.ticket(actor=admin)
    assert watchers.watch(agent, ticket, other) is True
    with pytest.raises(Forbidden):
        watchers.unwatch(agent, ticket, other)
    with pytest.raises(Forbidden):
        watchers.watch(robot, ticket, other)
    assert watchers.unwatch(admin, ticket, other) is True and watchers.unwatch(other, ticket) is False
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)
                                 .order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["watch_add", "watch_remove"]


def test_the_inbox_pages_counts_and_marks_read(make):
    filer, bob = make.user(), make.user("bobby")
    ticket = make.ticket(actor=filer)
    for n in range(5):
        comments.add_comment(bob, ticket, f"note {n}")
    assert inbox.unread_count(filer) == 5
    first = inbox.page(filer, limit=2)
    assert [item.excerpt for item in first.items] == ["note 4", "note 3"]
    assert first.items[0].sentence == f"Bobby commented on {ticket.display_id}"
    assert first.items[0].path.startswith(f"/tickets/{ticket.display_id}/comments#comment-")
    second = inbox.page(filer, after=first.next_after, limit=2)
    assert [item.excerpt for item in second.items] == ["note 2", "note 1"]
    inbox.mark_read(filer, inbox.get(filer, first.items[0].id))
    assert inbox.unread_count(filer) == 4
    assert [item.excerpt for item in inbox.page(filer, unread_only=True).items][0] == "note 3"
    assert inbox.mark_all_read(filer, ticket=ticket) == 4 and inbox.unread_count(filer) == 0


def test_the_unread_count_stops_past_its_cap(make, monkeypatch):
    monkeypatch.setattr(inbox, "UNREAD_CAP", 3)
    inbox._unread_count.cache_clear()
    try:
        filer, bob = make.user(), make.user()
        ticket = make.ticket(actor=filer)
        for n in range(6):
            comments.add_comment(bob, ticket, f"note {n}")
        assert inbox.unread_count(filer) == 4  # "3+"
    finally:
        inbox._unread_count.cache_clear()


def test_mention_parsing_follows_markdown():
    assert mentions.mentioned_names("hi @bob, and **@eve**") == {"bob", "eve"}
    assert mentions.mentioned_names("`@code` bob@example.com https://x.org/@bob [@link](http://x)") == set()
    assert mentions.new_mentions("@a1 @b2", "@a1 @b2 @c3") == {"c3"}
