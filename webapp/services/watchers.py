"""Who watches a ticket: told of its comments and status changes (services.notify).

People start watching on their own when they file, are assigned, comment or are mentioned (the
fan-out adds those, in the worker); anyone may watch or unwatch by hand, which is audited.
Service accounts never watch on their own (a monitor filing thousands of tickets would collect
every comment on them) but may watch through the API.
"""
import sqlalchemy as sa

from ..extensions import db
from ..models import Role, Ticket, User, Watch
from ..db.sql import in_ids, insert_rows_or_skip
from ..db.utc import utcnow
from . import audit
from .base import commit
from .errors import Forbidden, NotFound, ValidationError

WATCHERS_SHOWN = 200  # a ticket page and the API list at most this many (the count is exact)


def watchers(ticket: Ticket, limit: int = WATCHERS_SHOWN) -> list[User]:
    """The people watching `ticket`, in the order they started."""
    query = (sa.select(User).join(Watch, Watch.user_id == User.id).where(Watch.ticket_id == ticket.id)
             .order_by(Watch.created_at, User.id).limit(limit))
    return list(db.session.scalars(query))


def is_watching(user: User, ticket: Ticket) -> bool:
    query = sa.select(Watch.user_id).where(Watch.ticket_id == ticket.id, Watch.user_id == user.id)
    return db.session.scalar(query) is not None


def find_person(username) -> User:
    """The active user a watch request names (any role)."""
    if not isinstance(username, str) or not username.strip():
        raise ValidationError({"user": "Name a user by their username."})
    user = db.session.scalar(sa.select(User).filter_by(username=username.strip().lower()))
    if user is None or not user.active:
        raise ValidationError({"user": f"No active user {username.strip()!r}."})
    return user


def watch(actor: User, ticket: Ticket, person: User | None = None) -> bool:
    """`person` (default: the actor) watches `ticket`; False if they already did. Adding someone
    else is for admins and agents."""
    person = person or actor
    if person.id != actor.id and actor.role == Role.SERVICE:
        raise Forbidden("A service account can add only itself as a watcher.")
    if is_watching(person, ticket):
        return False
    now = utcnow()
    db.session.add(Watch(ticket_id=ticket.id, user_id=person.id, created_at=now))
    audit.record(actor, "watch_add", ticket=ticket, after={"user": audit.user_ref(person)}, at=now)
    commit()
    return True


def unwatch(actor: User, ticket: Ticket, person: User | None = None) -> bool:
    """`person` (default: the actor) stops watching; False if they were not. Only admins remove
    someone else."""
    person = person or actor
    if person.id != actor.id and not actor.is_admin:
        raise Forbidden("Only an admin can remove someone else from the watchers.")
    removed = db.session.execute(sa.delete(Watch).where(Watch.ticket_id == ticket.id, Watch.user_id == person.id))
    if not removed.rowcount:
        return False
    audit.record(actor, "watch_remove", ticket=ticket, before={"user": audit.user_ref(person)})
    commit()
    return True


def add_automatic(pairs: set[tuple[int, int]], now) -> None:
    """(ticket id, user id) pairs start watching, in the caller's transaction; existing ones are kept."""
    if pairs:
        db.session.execute(insert_rows_or_skip(Watch.__table__),
                           [{"ticket_id": t, "user_id": u, "created_at": now} for t, u in sorted(pairs)])


def watching(ticket_ids: list[int]) -> dict[int, set[int]]:
    """ticket id → the ids of the people watching it, for a batch of tickets (one query)."""
    found: dict[int, set[int]] = {ticket_id: set() for ticket_id in ticket_ids}
    if ticket_ids:
        rows = db.session.execute(sa.select(Watch.ticket_id, Watch.user_id).where(in_ids(Watch.ticket_id, ticket_ids)))
        for ticket_id, user_id in rows:
            found[ticket_id].add(user_id)
    return found
