"""Stored responses of API POSTs, so a retried request (same Idempotency-Key) is answered, not redone."""
from datetime import timedelta

from ..extensions import db
from ..models import IdempotencyRecord, User
from ..db.utc import utcnow
from .base import commit

KEY_MAX = 255
TTL = timedelta(hours=24)


def find_record(user: User, key: str) -> IdempotencyRecord | None:
    """The user's record for this key if it is younger than the 24-hour window."""
    record = db.session.scalar(db.select(IdempotencyRecord).filter_by(user_id=user.id, key=key))
    if record is None or record.created_at <= utcnow() - TTL:
        return None
    return record


def save_record(user: User, key: str, request_hash: str, status: int, body: str, headers: dict) -> None:
    """Add the record to the current transaction (replacing an expired one) and flush it.

    Flushing here makes a concurrent twin request fail inside the caller's transaction,
    which then rolls back its ticket as well.
    """
    db.session.execute(
        db.delete(IdempotencyRecord)
        .filter_by(user_id=user.id, key=key)
        .where(IdempotencyRecord.created_at <= utcnow() - TTL)
    )
    db.session.add(IdempotencyRecord(
        user_id=user.id, key=key, request_hash=request_hash, response_status=status,
        response_body=body, response_headers=headers, created_at=utcnow(),
    ))
    db.session.flush()


def purge_expired() -> int:
    """Delete records past the window (a periodic job calls this); returns how many went."""
    result = db.session.execute(db.delete(IdempotencyRecord).where(IdempotencyRecord.created_at <= utcnow() - TTL))
    commit()
    return result.rowcount
