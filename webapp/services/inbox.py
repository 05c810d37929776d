"""A person's notifications: the inbox page and API, the unread count in the header, marking read."""
from dataclasses import dataclass, replace
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import AuditEvent, Notification, Ticket, User
from ..db.sql import in_ids
from ..db.utc import utcnow
from . import mail_message
from .base import commit, get_or_404
from .errors import NotFound
from .listing import Page, keyset_page

UNREAD_CAP = 99  # the header says "99+" past this: the count never scans a long unread backlog
PAGE_SIZE = 30
INBOX = "inbox"  # the cursor's list name
ACTOR = aliased(User, name="actor")


@dataclass
class Item:
    """One notification as the inbox shows it."""
    id: int
    reason: str
    sentence: str
    excerpt: str | None
    path: str
    created_at: object
    read_at: object
    display_id: str
    title: str
    severity: int
    status: str
    actor: User | None
    event_id: int


def unread_count(user: User) -> int:
    """Unread notifications, counted up to UNREAD_CAP + 1 on the partial index."""
    return db.session.scalar(_unread_count(), {"user_id": user.id})


@cache
def _unread_count() -> sa.Select:
    return unread_count_of(sa.bindparam("user_id", type_=sa.Integer))


def unread_count_of(user_id) -> sa.Select:
    """SELECT the capped unread count of `user_id` (a parameter or a column), on the partial index."""
    unread = (sa.select(Notification.id).where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
              .limit(UNREAD_CAP + 1).subquery())
    return sa.select(sa.func.count()).select_from(unread)


def page(user: User, *, after: tuple | None = None, unread_only: bool = False, limit: int = PAGE_SIZE) -> Page:
    """One page of `user`'s notifications, newest first, keyset-paged on (recipient, id)."""
    query = (sa.select(Notification, AuditEvent, Ticket.display_id, Ticket.title, Ticket.severity, Ticket.status,
                       ACTOR, Notification.id.label("id"))
             .join(AuditEvent, AuditEvent.id == Notification.audit_event_id)
             .join(Ticket, Ticket.id == Notification.ticket_id)
             .outerjoin(ACTOR, ACTOR.id == AuditEvent.actor_id)
             .where(Notification.recipient_id == user.id))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    found = keyset_page(query, (Notification.id,), after, limit, descending=True, list_name=INBOX)
    return replace(found, items=[_item(*row[:-1]) for row in found.items])


def _item(notification, event, display_id, title, severity, status, actor) -> Item:
    return Item(
        id=notification.id, reason=notification.reason, created_at=notification.created_at,
        read_at=notification.read_at, display_id=display_id, title=title, severity=severity, status=status,
        actor=actor, event_id=event.id,
        sentence=mail_message.describe(notification.reason, event.action, actor.display_name if actor else None,
                                       display_id, event.after),
        excerpt=mail_message.excerpt(event.action, event.before, event.after),
        path=mail_message.event_path(display_id, event.action, event.id, event.after),
    )


def get(user: User, notification_id) -> Notification:
    return get_or_404(Notification, notification_id, f"No notification {notification_id}.",
                      accept=lambda found: found.recipient_id == user.id)


def mark_read(user: User, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()
        commit()


def mark_read_ids(user: User, ids: list[int]) -> int:
    """Mark the notifications `ids` read, all or none: any id that is not one of `user`'s is
    NotFound; returns how many were unread. One read and one write, however many ids."""
    owned = set(db.session.scalars(sa.select(Notification.id).where(
        Notification.recipient_id == user.id, in_ids(Notification.id, ids))))
    if missing := [ident for ident in ids if ident not in owned]:
        raise NotFound(f"No notification {missing[0]}.")
    marked = db.session.execute(
        sa.update(Notification).where(in_ids(Notification.id, ids), Notification.read_at.is_(None))
        .values(read_at=utcnow()), execution_options={"synchronize_session": False})
    commit()
    return marked.rowcount


def mark_all_read(user: User, *, ticket: Ticket | None = None) -> int:
    """Mark `user`'s unread notifications read (those of one ticket, with `ticket`); how many."""
    query = sa.update(Notification).where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    if ticket is not None:
        query = query.where(Notification.ticket_id == ticket.id)
    marked = db.session.execute(query.values(read_at=utcnow()), execution_options={"synchronize_session": False})
    commit(keep_loaded=True)  # only notifications changed: the ticket and the person stay loaded
    return marked.rowcount

