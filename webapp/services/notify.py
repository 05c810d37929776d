"""The fan-out: who is told of each ticket event, run by the outbox dispatch (in the worker).

For a batch of dispatched events, in event order: the people an event makes watchers start
watching (the filer, a new assignee, a commenter, everyone mentioned: admins and agents only), then
each person the event concerns gets one notification, for the first reason that applies
(`Reason`'s order), in the mode their preferences give it. Nobody is told of their own action,
nor is anyone inactive. Notifications are unique per person and event, so a dispatch that runs
again adds none twice. Mail waits in the notification row for the mail run (services.mail_run).
"""
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import AuditEvent, Mail, Notification, Reason, Role, Status, Ticket, User
from ..db.sql import in_ids, insert_rows_or_skip
from . import mentions, notify_prefs, watchers
from .base import after_commit

SEND_MAIL_JOB = "webapp.jobs.tasks.send_mail"
DONE = {Status.RESOLVED.value, Status.CLOSED.value}
TOLD_OF = ("create", "assignee", "status", "auto_close", "comment_add", "comment_edit", "overview")


@dataclass
class Concern:
    """What one event means for people: who starts watching, and who is told why (first reason wins)."""
    watch: set = field(default_factory=set)
    told: dict = field(default_factory=dict)

    def tell(self, user_ids, reason: Reason) -> None:
        for user_id in user_ids:
            if user_id is not None:
                self.told.setdefault(user_id, reason)


def fan_out(event_ids: list[int], now) -> int:
    """Watches and notifications for the ticket events among `event_ids`, in the caller's
    transaction; returns how many notifications it wrote."""
    events = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.ticket_id, AuditEvent.actor_id, AuditEvent.action,
                  AuditEvent.before, AuditEvent.after, AuditEvent.created_at)
        .where(in_ids(AuditEvent.id, list(event_ids)), AuditEvent.ticket_id.is_not(None), AuditEvent.action.in_(TOLD_OF))
        .order_by(AuditEvent.id)).all()
    if not events:
        return 0
    ticket_ids = sorted({event.ticket_id for event in events})
    creators = _creators({event.ticket_id for event in events if event.action in ("status", "auto_close")})
    named = _people_named(events)
    watching = watchers.watching(ticket_ids)
    concerns = [(event, _concern(event, creators.get(event.ticket_id), named)) for event in events]
    people = _people({user for _, c in concerns for user in (*c.watch, *c.told)}
                     | {user for ticket in watching.values() for user in ticket})
    new_watches, rows = set(), []
    for event, concern in concerns:
        followers = watching[event.ticket_id]
        for user_id in concern.watch:
            if user_id in people and people[user_id].role != Role.SERVICE:
                followers.add(user_id)
                new_watches.add((event.ticket_id, user_id))
        if event.action in ("comment_add", "status", "auto_close"):
            concern.tell(sorted(followers), Reason.COMMENT if event.action == "comment_add" else Reason.STATUS)
        rows.extend(_notifications(event, concern, people, now))
    watchers.add_automatic(new_watches, now)
    if rows:
        db.session.execute(insert_rows_or_skip(Notification.__table__), rows)
        if any(row["mail"] == Mail.PENDING for row in rows):
            after_commit(SEND_MAIL_JOB)
    return len(rows)


def _concern(event, creator_id: int | None, named: dict[str, int]) -> Concern:
    """The watchers and the first reasons an event gives, before its watchers are told of it."""
    concern = Concern()
    if event.action == "create":
        assignee = ((event.after or {}).get("assignee") or {}).get("id")
        mentioned = _ids((event.after or {}).get("mentions") or (), named)
        concern.watch |= {event.actor_id, assignee, *mentioned}
        concern.tell([assignee], Reason.ASSIGNED)
        concern.tell(mentioned, Reason.MENTIONED)
    elif event.action == "assignee":
        assignee = (event.after or {}).get("id")
        concern.watch.add(assignee)
        concern.tell([assignee], Reason.ASSIGNED)
    elif event.action in ("status", "auto_close"):
        if event.action == "auto_close" or event.after in DONE:
            concern.tell([creator_id], Reason.YOURS_DONE)
    else:  # comment_add, comment_edit, overview: whom the new text mentions
        mentioned = _ids(mentions.new_mentions(*_texts(event)), named)
        concern.watch |= set(mentioned) | ({event.actor_id} if event.action == "comment_add" else set())
        concern.tell(mentioned, Reason.MENTIONED)
    concern.watch.discard(None)
    return concern


def _notifications(event, concern: Concern, people: dict, now) -> list[dict]:
    mail_on = bool(current_app.config.get("SMTP_URL"))
    rows = []
    for user_id, reason in concern.told.items():
        person = people.get(user_id)
        if person is None or not person.active or user_id == event.actor_id:
            continue
        mode = notify_prefs.mode_of(person.notify_prefs, reason.value)
        if mode == notify_prefs.OFF:
            continue
        mail = None
        if mail_on and person.email and mode in (notify_prefs.EMAIL, notify_prefs.DIGEST):
            mail = Mail.PENDING if mode == notify_prefs.EMAIL else Mail.DIGEST
        rows.append({"recipient_id": user_id, "audit_event_id": event.id, "ticket_id": event.ticket_id,
                     "reason": reason.value, "created_at": event.created_at, "read_at": None,
                     "mail": mail and mail.value, "mail_attempts": 0,
                     "mail_next_at": now if mail == Mail.PENDING else None, "mail_sent_at": None,
                     "mail_error": None})
    return rows


def _texts(event) -> tuple[str | None, str | None]:
    """The text before and after an event that writes text (a comment's body, the overview)."""
    if event.action == "overview":
        return event.before, event.after
    return (event.before or {}).get("body"), (event.after or {}).get("body")


def _creators(ticket_ids: set[int]) -> dict[int, int]:
    """ticket id → who filed it, for the status events of a batch (one query, none without them)."""
    if not ticket_ids:
        return {}
    return dict(db.session.execute(sa.select(Ticket.id, Ticket.creator_id).where(in_ids(Ticket.id, sorted(ticket_ids)))).all())


def _people_named(events) -> dict[str, int]:
    """username → id of the mentionable people the batch's texts name (one query)."""
    names: set[str] = set()
    for event in events:
        if event.action == "create":
            names |= set((event.after or {}).get("mentions") or ())
        elif event.action in ("comment_add", "comment_edit", "overview"):
            names |= mentions.mentioned_names(_texts(event)[1])
    if not names:
        return {}
    rows = db.session.execute(sa.select(User.username, User.id).where(User.username.in_(sorted(names)),
                                                                      mentions.MENTIONABLE))
    return dict(rows.all())


def _ids(names, named: dict[str, int]) -> list[int]:
    return sorted(named[name] for name in names if name in named)


def _people(user_ids: set) -> dict[int, object]:
    user_ids.discard(None)
    if not user_ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.active, User.role, User.email, User.notify_prefs)
                              .where(in_ids(User.id, sorted(user_ids))))
    return {row.id: row for row in rows}
