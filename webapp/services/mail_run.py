"""Mail runs: send notification mail that is due, on one SMTP connection, retried with backoff.

A run claims a batch (its lease moves `mail_next_at` forward and counts the attempt, then commits),
sends each, and records sent or the next try; it never holds a transaction open while it talks to
the mail server. A worker that dies mid-send leaves its batch to be claimed again when the lease
ends, so a mail is sent at least once and, outside that window, exactly once (its Message-ID is
stable). The daily digest gathers each person's `digest` notifications into one mail at DIGEST_HOUR
in their time zone (or once the oldest has waited a day).
"""
import logging
import smtplib
import ssl
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import AuditEvent, Mail, Notification, Ticket, User
from ..db.sql import in_ids, locked_batch, among
from ..db.utc import utcnow
from . import mail_message
from .base import commit

log = logging.getLogger(__name__)
BATCH = 50
LEASE = timedelta(minutes=10)
BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600)  # after attempt 1, 2, …; the last repeats
PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def send_due(now: datetime | None = None, batch: int = BATCH) -> int:
    """Send every pending notification mail that is due; returns how many were sent."""
    sent = 0
    while True:
        claimed = _claim(now or utcnow(), batch)
        if not claimed:
            return sent
        sent += _send(claimed, now or utcnow())
        if len(claimed) < batch:
            return sent


def _claim(now: datetime, batch: int) -> list[int]:
    table = Notification.__table__
    due = (sa.select(table.c.id).where(table.c.mail == Mail.PENDING.value, table.c.mail_next_at <= now)
           .order_by(table.c.mail_next_at, table.c.id))
    picked = locked_batch(due, "batch")
    claim = (sa.update(table).where(among(table.c.id, sa.select(picked.c.id)), table.c.mail == Mail.PENDING.value)
             .values(mail_next_at=now + LEASE, mail_attempts=table.c.mail_attempts + 1).returning(table.c.id))
    ids = list(db.session.scalars(claim, {"batch": batch}))
    commit()
    return ids


def _send(ids: list[int], now: datetime) -> int:
    items = load(ids, now)
    results: dict[int, str | None] = {}
    try:
        with connect() as smtp:
            for item in items:
                results[item["id"]] = _deliver(smtp, mail_message.build(item))
    except (OSError, smtplib.SMTPException) as exc:  # the server is down or dropped us: retry the rest
        log.warning("mail server unavailable: %s", exc)
        for item in items:
            results.setdefault(item["id"], f"retry: {exc}"[:300])
    _record(items, results, now)
    return sum(1 for error in results.values() if error is None)


def _deliver(smtp, message) -> str | None:
    """Send one message; None when the server took it, else why not ('permanent: …' or 'retry: …')."""
    try:
        smtp.send_message(message)
        return None
    except PERMANENT as exc:
        return f"permanent: {exc}"[:300]
    except smtplib.SMTPResponseException as exc:
        kind = "permanent" if 500 <= exc.smtp_code < 600 else "retry"
        return f"{kind}: {exc.smtp_code} {exc.smtp_error!r}"[:300]


def _record(items: list[dict], results: dict, now: datetime) -> None:
    limit = current_app.config.get("MAIL_MAX_ATTEMPTS", 6)
    for item in items:
        error = results.get(item["id"], "retry: not sent")
        values: dict = {"mail_error": error}
        if error is None:
            values |= {"mail": Mail.SENT.value, "mail_sent_at": now, "mail_next_at": None}
        elif error.startswith("permanent") or item["attempts"] >= limit:
            values |= {"mail": Mail.FAILED.value, "mail_next_at": None}
            log.warning("notification mail given up", extra={"notification_id": item["id"], "reason": error,
                                                              "attempt": item["attempts"]})
        else:
            values["mail_next_at"] = now + backoff(item["attempts"])
        db.session.execute(sa.update(Notification).where(Notification.id.in_(item["ids"])).values(values))
    commit()


def load(ids: list[int], now: datetime) -> list[dict]:
    """What a mail says about each notification of `ids`, read in one query."""
    actor = sa.orm.aliased(User)
    rows = db.session.execute(
        sa.select(Notification.id, Notification.recipient_id, Notification.reason, Notification.mail_attempts,
                  Notification.audit_event_id, AuditEvent.action, AuditEvent.before, AuditEvent.after,
                  actor.display_name.label("actor"), Ticket.display_id, Ticket.title, User.email)
        .join(AuditEvent, AuditEvent.id == Notification.audit_event_id)
        .join(Ticket, Ticket.id == Notification.ticket_id)
        .join(User, User.id == Notification.recipient_id)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(in_ids(Notification.id, ids)).order_by(Notification.id)).all()
    return [{
        "id": row.id, "ids": [row.id], "recipient_id": row.recipient_id, "reason": row.reason,
        "attempts": row.mail_attempts, "event_id": row.audit_event_id, "to": row.email, "now": now,
        "display_id": row.display_id, "title": row.title,
        "sentence": mail_message.describe(row.reason, row.action, row.actor, row.display_id, row.after),
        "excerpt": mail_message.excerpt(row.action, row.before, row.after),
        "path": mail_message.event_path(row.display_id, row.action, row.audit_event_id, row.after),
    } for row in rows]


def connect() -> smtplib.SMTP:
    """An SMTP connection to SMTP_URL, signed in when the URL has a user; STARTTLS when offered."""
    url = urlsplit(current_app.config["SMTP_URL"])
    timeout = current_app.config.get("MAIL_TIMEOUT_SECONDS", 10)
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(url.hostname, url.port or 25, timeout=timeout)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        elif parse_qs(url.query).get("starttls") == ["require"]:
            smtp.close()
            raise smtplib.SMTPNotSupportedError("the mail server offers no STARTTLS and SMTP_URL requires it")
    if url.username:
        smtp.login(unquote(url.username), unquote(url.password or ""))
    return smtp


def next_due_at(after: datetime | None = None) -> datetime | None:
    """When the next pending mail falls due after `after` (a retry, or a lease ending); ends the read."""
    query = (sa.select(Notification.mail_next_at)
             .where(Notification.mail == Mail.PENDING.value, Notification.mail_next_at > (after or utcnow()))
             .order_by(Notification.mail_next_at).limit(1))
    due = db.session.scalar(query)
    commit()
    return due


def has_due(now: datetime | None = None) -> bool:
    query = sa.select(Notification.id).where(Notification.mail == Mail.PENDING.value,
                                             Notification.mail_next_at <= (now or utcnow())).limit(1)
    due = db.session.scalar(query) is not None
    commit()
    return due


def send_digests(now: datetime | None = None) -> int:
    """Hourly: each person whose digest hour it is (or whose oldest digest item waited a day) gets
    one mail of their `digest` notifications; returns how many digests were sent."""
    now = now or utcnow()
    waiting = db.session.execute(
        sa.select(Notification.recipient_id, sa.func.min(Notification.created_at), User.time_zone)
        .join(User, User.id == Notification.recipient_id)
        .where(Notification.mail == Mail.DIGEST.value,
               sa.or_(Notification.mail_next_at.is_(None), Notification.mail_next_at <= now))
        .group_by(Notification.recipient_id, User.time_zone)).all()
    commit()
    hour = current_app.config.get("DIGEST_HOUR", 8)
    sent = 0
    for recipient_id, oldest, time_zone in waiting:
        if _local_hour(now, time_zone) == hour or now - oldest >= timedelta(days=1):
            sent += _send_digest(recipient_id, now)
    return sent


def _local_hour(now: datetime, time_zone: str | None) -> int:
    try:
        return now.astimezone(ZoneInfo(time_zone or "UTC")).hour
    except (KeyError, ValueError):
        return now.hour


def _send_digest(recipient_id: int, now: datetime) -> int:
    table = Notification.__table__
    claim = (sa.update(table).where(table.c.recipient_id == recipient_id, table.c.mail == Mail.DIGEST.value,
                                    sa.or_(table.c.mail_next_at.is_(None), table.c.mail_next_at <= now))
             .values(mail_next_at=now + LEASE, mail_attempts=table.c.mail_attempts + 1).returning(table.c.id))
    ids = sorted(db.session.scalars(claim))
    commit()
    items = load(ids, now)
    if not items:
        return 0
    digest = {**items[0], "ids": ids, "attempts": max(item["attempts"] for item in items)}
    try:
        with connect() as smtp:
            error = _deliver(smtp, mail_message.build(digest, digest=items))
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail server unavailable: %s", exc)
        error = f"retry: {exc}"[:300]
    if error is not None and not error.startswith("permanent") and digest["attempts"] < \
            current_app.config.get("MAIL_MAX_ATTEMPTS", 6):
        db.session.execute(sa.update(Notification).where(Notification.id.in_(ids))
                           .values(mail_next_at=now + backoff(digest["attempts"]), mail_error=error))
        commit()
        return 0
    _record([digest], {digest["id"]: error}, now)
    return int(error is None)
