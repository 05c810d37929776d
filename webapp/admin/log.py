"""Admin audit events in words: who did what to which account or CTI entry."""
from dataclasses import dataclass

from flask import url_for

from ..extensions import db
from ..models import AuditEvent, User
from ..services.listing import Page, keyset_page

CTI_TARGETS = ("category", "type", "item")
KINDS = {"users": ("user",), "cti": CTI_TARGETS}
FIELD_LABELS = {
    "displayName": "Display name", "role": "Role", "username": "Username", "active": "Active",
    "prefix": "Key prefix", "name": "Name", "path": "Path", "types": "Types removed",
    "items": "Items removed", "shared": "Shared", "filters": "Filters",
}
VERBS = {
    "user_create": "created", "user_update": "edited", "user_deactivate": "deactivated",
    "user_reactivate": "reactivated", "user_password_reset": "reset the password of",
    "user_password_change": "changed the password of", "user_sign_out": "signed out one browser of",
    "user_sign_out_everywhere": "signed out every browser of", "api_key_rotate": "regenerated the API key of", "cti_add": "added", "cti_rename": "renamed",
    "cti_deactivate": "deactivated", "cti_reactivate": "reactivated", "cti_delete": "deleted",
    "view_create": "saved", "view_update": "changed", "view_delete": "deleted",
}
# Fields that only identify the target; the sentence already names it.
QUIET = {"user_create": {"username", "displayName", "role"}, "cti_add": {"name", "path"}, "cti_rename": {"path"}, "cti_deactivate": {"path", "active"}, "cti_reactivate": {"path", "active"},
         "cti_delete": {"name", "path"}, "user_deactivate": {"active"}, "user_reactivate": {"active"},
         "view_create": {"name"}, "view_delete": {"name"}}


@dataclass
class Change:
    label: str
    before: object
    after: object


@dataclass
class Entry:
    event: AuditEvent
    verb: str
    target: str
    target_url: str | None
    changes: list[Change]


def admin_events(kind: str | None = None, *, target_id=None, before_id=None, after_id=None, limit: int = 50) -> Page:
    """One page of admin events (ticket_id NULL), newest first, keyset-paged on the partial index:
    older than `before_id`, or newer than `after_id`. `kind` narrows to users or CTI entries, and
    `target_id` (with a kind) to one of them."""
    query = db.select(AuditEvent).where(AuditEvent.ticket_id.is_(None))
    if kind in KINDS:
        query = query.where(AuditEvent.target_type.in_(KINDS[kind]))
        if target_id is not None:
            query = query.where(AuditEvent.target_id == target_id)
    newer = (after_id,) if after_id is not None else None
    older = (before_id,) if before_id is not None and newer is None else None
    return keyset_page(query, (AuditEvent.id,), older, limit, before=newer, descending=True, list_name="admin_log")


def describe(events: list[AuditEvent]) -> list[Entry]:
    """Turn events into sentences; the users they name are loaded in one query."""
    user_ids = {e.target_id for e in events if e.target_type == "user" and e.target_id is not None}
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    return [_entry(event, users) for event in events]


ROLE_WORDS = {"ADMIN": "admin", "AGENT": "agent", "SERVICE": "service account"}


def _entry(event: AuditEvent, users: dict) -> Entry:
    verb = VERBS.get(event.action, event.action.replace("_", " "))
    if event.action == "user_create" and isinstance(event.after, dict):
        verb = f"created {ROLE_WORDS.get(event.after.get('role'), 'account')}"
    target, url = _target(event, users)
    return Entry(event, verb, target, url, _changes(event))


def _target(event: AuditEvent, users: dict) -> tuple[str, str | None]:
    before, after = event.before or {}, event.after or {}
    if event.target_type == "user":
        user = users.get(event.target_id)
        if user is None:
            return f"user #{event.target_id}", None
        return f"{user.display_name} (@{user.username})", url_for("admin.user_edit", user_id=user.id)
    if event.target_type in CTI_TARGETS:
        path = before.get("path") if isinstance(before, dict) else None
        path = path or (after.get("path") if isinstance(after, dict) else None) or f"#{event.target_id}"
        url = None if event.action == "cti_delete" else url_for("admin.cti") + f"#{event.target_type}-{event.target_id}"
        return f"{event.target_type} “{path}”", url
    if event.target_type == "view":
        names = [side["name"] for side in (before, after) if isinstance(side, dict) and "name" in side]
        return (f"view “{names[0]}”" if names else f"view #{event.target_id}"), None
    if event.target_type:
        return f"{event.target_type} #{event.target_id}", None
    return "", None


def _changes(event: AuditEvent) -> list[Change]:
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    quiet = QUIET.get(event.action, set())
    keys = [k for k in dict.fromkeys([*before, *after])
            if k not in quiet and not (k in before and k in after and before[k] == after[k])]  # named, not changed
    return [Change(FIELD_LABELS.get(k, k), _show(before.get(k)), _show(after.get(k))) for k in keys]


def _show(value):
    if isinstance(value, dict):  # a view's filters
        return "&".join(f"{key}={item}" for key, item in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
