"""Change stamps for live pages: a few numbers that move whenever something a page shows changes,
read from indexes in one statement, so an open page can ask "anything new?" every few seconds and
be told 304 Not Modified almost for free (webapp/web/live.py, static/js/live.js).
"""
from functools import cache

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, Notification, Ticket, User
from .inbox import unread_count_of


def queue_stamp(user: User) -> tuple[str, str, int]:
    """(global stamp, page stamp, unread count). The page stamp moves when any ticket changes (its
    updated_at), when an admin event lands (people, CTI, views), and when the person's notifications
    change; the unread count (services.inbox's capped count) is the header bell's, so the page
    needs no other query for it."""
    row = db.session.execute(_queue_stamp(), {"user_id": user.id}).one()
    return _joined(row[:3]), _joined(row[3:]), row[-1]


def ticket_stamp(user: User, ticket_id: int) -> tuple[str, str, int, bool]:
    """(global stamp, page stamp, unread count, unread about this ticket?). The page stamp moves with
    each audit event of the ticket (every change, comment and watch writes one), each admin event,
    and the person's notifications; the last tells the page whether opening it has notifications
    to mark read."""
    row = db.session.execute(_ticket_stamp(), {"user_id": user.id, "ticket_id": ticket_id}).one()
    return _joined(row[:3]), _joined(row[3:-1]), row[-2], bool(row[-1])


def _joined(values) -> str:
    return ".".join(str(value) for value in values)


def _global() -> tuple:
    """Whatever any live page shows may have changed when one of these moves: the newest ticket
    change, audit event and notification anywhere (the ends of three indexes)."""
    return (sa.select(sa.func.max(Ticket.updated_at)).scalar_subquery(),
            sa.select(sa.func.max(AuditEvent.id)).scalar_subquery(),
            sa.select(sa.func.max(Notification.id)).scalar_subquery())


def _notifications(user_id) -> tuple:
    newest = sa.select(sa.func.max(Notification.id)).where(Notification.recipient_id == user_id)
    return newest.scalar_subquery(), unread_count_of(user_id).scalar_subquery()


def _admin_events():
    return sa.select(sa.func.max(AuditEvent.id)).where(AuditEvent.ticket_id.is_(None)).scalar_subquery()


@cache
def _queue_stamp() -> sa.Select:
    user_id = sa.bindparam("user_id", type_=sa.Integer)
    changed = sa.select(sa.func.max(Ticket.updated_at)).scalar_subquery()
    return sa.select(*_global(), changed, _admin_events(), *_notifications(user_id))


@cache
def _ticket_stamp() -> sa.Select:
    user_id, ticket_id = sa.bindparam("user_id", type_=sa.Integer), sa.bindparam("ticket_id", type_=sa.Integer)
    events = sa.select(sa.func.max(AuditEvent.id)).where(AuditEvent.ticket_id == ticket_id).scalar_subquery()
    waiting = sa.exists().where(Notification.recipient_id == user_id, Notification.ticket_id == ticket_id,
                                Notification.read_at.is_(None))
    return sa.select(*_global(), events, _admin_events(), *_notifications(user_id), waiting)
