"""Timezone-aware UTC everywhere, including on SQLite which stores naive datetimes."""
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


_PRETEND: ContextVar[datetime | None] = ContextVar("pretend_now", default=None)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (or the moment pretend_now() sets)."""
    return _PRETEND.get() or datetime.now(timezone.utc)


@contextmanager
def pretend_now(moment: datetime) -> Iterator[None]:
    """Inject the time: every service called inside sees `moment` as now (demo data's past week)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC")
    token = _PRETEND.set(moment)
    try:
        yield
    finally:
        _PRETEND.reset(token)


class UTCDateTime(TypeDecorator):
    """Store UTC, always hand back aware UTC datetimes, refuse naive input."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def render_migration_type(type_, obj, _autogen_context):
    """Alembic autogenerate: write UTCDateTime as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
