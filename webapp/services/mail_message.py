"""A notification as a mail: subject, plain text and HTML, a link back, and one-click unsubscribe.

Links are absolute, on PUBLIC_URL: mail is written by the worker, which has no request to take
the host from. The Message-ID is derived from the notification, so a resend after a crash between
sending and recording it is recognised by mail clients as the same message.
"""
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from markupsafe import escape

from ..models import Reason, Status
from . import notify_prefs

EXCERPT_MAX = 1_500
UNSUBSCRIBE_SALT = "notification-unsubscribe"


def describe(reason: str, action: str, actor: str | None, display_id: str, after) -> str:
    """One sentence: what happened, in words a person reads in an inbox or a mail subject."""
    who = actor or "Ticketing"
    if reason == Reason.ASSIGNED:
        return f"{who} assigned {display_id} to you"
    if reason == Reason.MENTIONED:
        return f"{who} mentioned you on {display_id}"
    if action == "comment_add":
        return f"{who} commented on {display_id}"
    if action == "auto_close":
        owner = "Your ticket " if reason == Reason.YOURS_DONE else ""
        return f"{owner}{display_id} was closed automatically after staying resolved"
    status = Status(after).value.replace("_", " ").lower() if after in Status._value2member_map_ else str(after)
    if reason == Reason.YOURS_DONE:
        return f"{who} {'resolved' if after == Status.RESOLVED else 'closed'} your ticket {display_id}"
    return f"{who} changed {display_id} to {status}"


def excerpt(action: str, before, after) -> str | None:
    """The words a mail quotes: a comment's body, or the overview as edited."""
    text = after.get("body") if isinstance(after, dict) else after if action == "overview" else None
    if not isinstance(text, str):
        return None
    return text if len(text) <= EXCERPT_MAX else text[:EXCERPT_MAX].rstrip() + " …"


def event_path(display_id: str, action: str, event_id: int, after) -> str:
    """Where a notification points: the comment on the Comments tab, or the event on the Audit tab."""
    if action in ("comment_add", "comment_edit") and isinstance(after, dict) and after.get("commentId"):
        return f"/tickets/{display_id}/comments#comment-{after['commentId']}"
    return f"/tickets/{display_id}/audit#event-{event_id}"


def unsubscribe_token(user_id: int, reason: str) -> str:
    return _signer().dumps([user_id, reason])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, reason) of a token this installation signed, else None."""
    try:
        user_id, reason = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    return (user_id, reason) if isinstance(user_id, int) and reason in Reason._value2member_map_ else None


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def build(item: dict, *, digest: list[dict] | None = None) -> EmailMessage:
    """The mail for one notification `item` (see mail_run.load), or a digest of several for one person."""
    base = current_app.config["PUBLIC_URL"]
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = item["to"]
    message["Date"] = format_datetime(item["now"])
    message["Auto-Submitted"] = "auto-generated"
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2].strip("> ") or "localhost"
    if digest is None:
        message["Subject"] = f"{item['sentence']}: {item['title']}"
        message["Message-ID"] = f"<notification-{item['id']}.{item['event_id']}@{domain}>"
        reason, items = item["reason"], [item]
    else:
        message["Subject"] = f"Your daily digest: {len(digest)} notification{'s' if len(digest) != 1 else ''}"
        message["Message-ID"] = make_msgid("digest", domain=domain)
        reason, items = "digest", digest
    settings = f"{base}/profile#notifications"
    if reason != "digest":
        unsubscribe = f"{base}/notifications/unsubscribe/{unsubscribe_token(item['recipient_id'], reason)}"
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_text(items, base, settings, reason))
    message.add_alternative(_html(items, base, settings, reason), subtype="html")
    return message


def _why(reason: str) -> str:
    if reason == "digest":
        return "You get this digest because you chose it for some notifications."
    return f"You get this because of your setting for: {notify_prefs.REASONS[Reason(reason)].lower()}."


def _text(items: list[dict], base: str, settings: str, reason: str) -> str:
    parts = []
    for item in items:
        block = [f"{item['sentence']}: {item['title']}"]
        if item["excerpt"]:
            block += ["", *("> " + line for line in item["excerpt"].splitlines())]
        block += ["", f"Open it: {base}{item['path']}"]
        parts.append("\n".join(block))
    return "\n\n---\n\n".join(parts) + f"\n\n-- \n{_why(reason)}\nChange your notifications: {settings}\n"


def _html(items: list[dict], base: str, settings: str, reason: str) -> str:
    parts = []
    for item in items:
        quote = (f'<blockquote style="margin:8px 0;padding-left:8px;border-left:3px solid #ccc;'
                 f'white-space:pre-wrap">{escape(item["excerpt"])}</blockquote>') if item["excerpt"] else ""
        parts.append(f'<p><strong>{escape(item["sentence"])}</strong>: {escape(item["title"])}</p>{quote}'
                     f'<p><a href="{escape(base + item["path"])}">Open {escape(item["display_id"])}</a></p>')
    return ("<!doctype html><html><body style=\"font-family:sans-serif\">" + "<hr>".join(parts)
            + f'<p style="color:#666;font-size:12px">{escape(_why(reason))} '
              f'<a href="{escape(settings)}">Change your notifications</a>.</p></body></html>')
