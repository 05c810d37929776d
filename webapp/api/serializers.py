"""JSON shapes of API resources: camelCase keys, ids as strings, times as ISO 8601 UTC."""
from datetime import datetime, timezone

from flask import g, request, url_for

from ..models import SEVERITY_LABELS
from ..services.audit import with_string_ids
from ..services.listing import TICKET_FIELDS


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


def _ticket_roots() -> tuple[str, str]:
    """`.../tickets/` and `.../api/tickets/` for this request, built once however many tickets it serializes."""
    roots = g.get("ticket_roots")
    if roots is None:
        roots = g.ticket_roots = ticket_web_url(""), url_for("api.get_ticket", ref="-", _external=True)[:-1]
    return roots


def _person(ident_value, username, display_name) -> dict | None:
    if ident_value is None:
        return None
    return {"id": ident(ident_value), "username": username, "displayName": display_name}


def flat_ticket(ticket) -> dict:
    """An ORM ticket as the values of a services.listing.TICKET_ROW row, which ticket_json reads."""
    assignee, creator = ticket.assignee, ticket.creator
    return {
        **{name: getattr(ticket, name) for name in TICKET_FIELDS},
        "category_name": ticket.category.name, "type_name": ticket.type.name, "item_name": ticket.item.name,
        "assignee_username": assignee and assignee.username,
        "assignee_display_name": assignee and assignee.display_name,
        "creator_username": creator.username, "creator_display_name": creator.display_name,
    }


def ticket_json(row) -> dict:
    """A ticket from a TICKET_ROW row (lists, with the `snippet` of a search) or flat_ticket's values
    (single tickets)."""
    web_root, api_root = _ticket_roots()
    t = row if isinstance(row, dict) else row._asdict()  # one dict lookup per field
    display_id, category_id, type_id, item_id = t["display_id"], t["category_id"], t["type_id"], t["item_id"]
    body = {
        "id": ident(t["id"]),
        "displayId": display_id,
        "url": web_root + display_id,
        "apiUrl": api_root + display_id,
        "title": t["title"],
        "overview": t["overview"],
        "severity": t["severity"],
        "severityLabel": SEVERITY_LABELS[t["severity"]][0],
        "status": t["status"],
        "categoryId": ident(category_id),
        "typeId": ident(type_id),
        "itemId": ident(item_id),
        "category": {"id": ident(category_id), "name": t["category_name"]},
        "type": {"id": ident(type_id), "name": t["type_name"]},
        "item": {"id": ident(item_id), "name": t["item_name"]},
        "assigneeId": ident(t["assignee_id"]),
        "assignee": _person(t["assignee_id"], t["assignee_username"], t["assignee_display_name"]),
        "creator": _person(t["creator_id"], t["creator_username"], t["creator_display_name"]),
        "dedupKey": t["dedup_key"],
        "createdAt": iso(t["created_at"]),
        "updatedAt": iso(t["updated_at"]),
        "resolvedAt": iso(t["resolved_at"]),
        "closedAt": iso(t["closed_at"]),
        "version": t["version"],
    }
    if "snippet" in t:  # a search's result
        body["snippet"] = str(t["snippet"])
    return body


def comment_json(comment) -> dict:
    return {
        "id": ident(comment.id),
        "ticketId": ident(comment.ticket_id),
        "author": user_ref(comment.author),
        "body": comment.body,
        "createdAt": iso(comment.created_at),
        "editedAt": iso(comment.edited_at),
    }


def audit_json(event) -> dict:
    """before/after hold the values as audited, their ids as strings like every other id."""
    return {
        "id": ident(event.id),
        "action": event.action,
        "actor": user_ref(event.actor),
        "before": with_string_ids(event.before),
        "after": with_string_ids(event.after),
        "createdAt": iso(event.created_at),
    }


def notification_json(item) -> dict:
    """A services.inbox.Item: why the caller was told, of what, by whom, and where to look."""
    return {
        "id": ident(item.id),
        "reason": str(item.reason),
        "summary": item.sentence,
        "excerpt": item.excerpt,
        "ticket": {"id": item.display_id, "title": item.title, "severity": item.severity, "status": str(item.status)},
        "actor": user_ref(item.actor),
        "eventId": ident(item.event_id),
        "url": request.url_root + item.path.lstrip("/"),  # request.host_url and the app's script root
        "createdAt": iso(item.created_at),
        "readAt": iso(item.read_at),
    }
