"""JSON shapes of API resources: camelCase keys, ids as strings, times as ISO 8601 UTC."""
from datetime import datetime, timezone

from flask import request, url_for

from ..models import SEVERITY_LABELS


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def ident(value: int | None) -> str | None:
    """Ids go out as strings ("42"), so n8n expressions carry them unchanged; both forms come in."""
    return None if value is None else str(value)


def user_ref(user) -> dict | None:
    if user is None:
        return None
    return {"id": ident(user.id), "username": user.username, "displayName": user.display_name}


def user_json(user) -> dict:
    return {**user_ref(user), "role": user.role, "active": user.active}


def cti_json(entry, parent_key: str | None = None) -> dict:
    """A category, type or item; types and items also name their parent's id."""
    data = {"id": ident(entry.id), "name": entry.name, "active": entry.active}
    if parent_key:
        data[parent_key] = ident(getattr(entry, parent_key.replace("Id", "_id")))
    return data


def ticket_web_url(display_id: str) -> str:
    """The ticket's page in the web UI (/tickets/V#########)."""
    return f"{request.url_root}tickets/{display_id}"


def ticket_json(ticket) -> dict:
    return {
        "id": ident(ticket.id),
        "displayId": ticket.display_id,
        "url": ticket_web_url(ticket.display_id),
        "apiUrl": url_for("api.get_ticket", ref=ticket.display_id, _external=True),
        "title": ticket.title,
        "overview": ticket.overview,
        "severity": ticket.severity,
        "severityLabel": SEVERITY_LABELS[ticket.severity][0],
        "status": ticket.status,
        "categoryId": ident(ticket.category_id),
        "typeId": ident(ticket.type_id),
        "itemId": ident(ticket.item_id),
        "category": {"id": ident(ticket.category_id), "name": ticket.category.name},
        "type": {"id": ident(ticket.type_id), "name": ticket.type.name},
        "item": {"id": ident(ticket.item_id), "name": ticket.item.name},
        "assigneeId": ident(ticket.assignee_id),
        "assignee": user_ref(ticket.assignee),
        "creator": user_ref(ticket.creator),
        "dedupKey": ticket.dedup_key,
        "createdAt": iso(ticket.created_at),
        "updatedAt": iso(ticket.updated_at),
        "resolvedAt": iso(ticket.resolved_at),
        "closedAt": iso(ticket.closed_at),
        "version": ticket.version,
    }


def comment_json(comment) -> dict:
    return {
        "id": ident(comment.id),
        "ticketId": ident(comment.ticket_id),
        "author": user_ref(comment.author),
        "body": comment.body,
        "createdAt": iso(comment.created_at),
    }


def audit_json(event) -> dict:
    """before/after hold the values as audited (ids inside them are stored as numbers)."""
    return {
        "id": ident(event.id),
        "action": event.action,
        "actor": user_ref(event.actor),
        "before": event.before,
        "after": event.after,
        "createdAt": iso(event.created_at),
    }
