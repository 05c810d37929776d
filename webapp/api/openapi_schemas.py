"""JSON Schemas (OpenAPI 3.1 components) of every request and response body the API uses."""
from ..models import BulkStatus, Reason, Role, Status
from ..services.bulk import BULK_MAX, INLINE_MAX, REF_MAX
from ..services.comments import BODY_MAX
from ..services.idempotency import KEY_MAX
from ..services.inbox import UNREAD_CAP
from ..services.links import LABELS as LINK_LABELS, REF_MAX as LINK_REF_MAX, SIDES as LINK_KINDS
from ..services.listing import FILTER_NAMES
from ..services.saved_views import NAME_MAX as VIEW_NAME_MAX
from ..services.tickets import DEDUP_KEY_MAX, OVERVIEW_MAX, TITLE_MAX
from ..services.watchers import WATCHERS_SHOWN
from .parsing import LIMIT_MAX, USERNAME_MAX


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    """The same schema, also allowing null (3.1 style: a type list)."""
    return {**schema, "type": [schema["type"], "null"]}


ID_OUT = {"type": "string", "pattern": "^[0-9]+$", "description": "An id, always sent as a string of digits."}
ID_IN = {
    "type": ["string", "integer"], "pattern": "^[0-9]+$", "minimum": 1,
    "description": "An id: a string of digits (\"42\") or an integer (42); both are accepted.",
}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC."}
STATUS = {"type": "string", "enum": [s.value for s in Status]}


def _any_case(name: str) -> str:
    """`name` as an ECMA-262 pattern that matches it in any case, a space or dash for its underscore."""
    return "".join("[ _-]" if c == "_" else f"[{c}{c.lower()}]" for c in name)


# What the API accepts (services.tickets.status_named): the names in any case; it always answers upper case.
STATUS_IN = {"type": "string", "pattern": f"^(?:{'|'.join(_any_case(s.value) for s in Status)})$",
             "examples": ["RESOLVED", "resolved", "in_progress"]}
SEVERITY_OUT = {"type": "integer", "minimum": 1, "maximum": 5}
SEVERITY_IN = {
    "type": ["integer", "string"], "minimum": 1, "maximum": 5, "pattern": "^[1-5]$",
    "description": "1 Critical, 2 High, 3 Medium, 4 Low, 5 Minimal (informational / automated).",
}


def _object(properties: dict, required=None, **extra) -> dict:
    """A closed object: an undocumented field in a response fails the schema tests."""
    return {
        "type": "object", "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False, **extra,
    }


def _page(item: str) -> dict:
    return _object({
        "items": {"type": "array", "items": ref(item)},
        "next": {
            "type": ["string", "null"], "format": "uri",
            "description": "The next page's full URL; null on the last page.",
        },
    })


_NAMED = {"id": ID_OUT, "name": {"type": "string"}}
_FILTER_VALUE = {"type": ["string", "integer", "array"], "items": {"type": ["string", "integer"]}}
VIEW_NAME = {"type": "string", "minLength": 1, "maxLength": VIEW_NAME_MAX,
             "description": "Unique among the shared views, or among your own; no control characters."}
VIEW_SHARED = {"type": "boolean", "description": "true: every agent sees it in their sidebar; false: only you."}
VIEW_FILTERS_IN = {
    "type": "object", "additionalProperties": False,
    "properties": {name: _FILTER_VALUE for names in FILTER_NAMES.values() for name in names},
    "description": "The filters of GET /api/tickets or of the dashboard URL (`status`, `severity`, `queue` or "
                   "`categoryId`, `assignee` or `assigneeId` with `me` meaning whoever looks, `updatedSince`, "
                   "`dedupKey`); stored as the dashboard's arguments. No `status` means OPEN and IN_PROGRESS, "
                   "as on the dashboard; give `all` for every status.",
}

ERROR_DETAIL = _object({
    "code": {"type": "string", "description": "Stable, machine-readable: invalid, not_found, conflict, …"},
    "message": {"type": "string", "description": "For people: what went wrong and how to fix it."},
    "fields": {
        "type": "object", "additionalProperties": {"type": "string"},
        "description": "One message per bad field (request field or header name).",
    },
})
FILTER_VALUE = {"type": ["string", "integer", "array"], "items": {"type": ["string", "integer"]}}
TICKET_PATCH = {
    "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
    "overview": {"type": ["string", "null"], "maxLength": OVERVIEW_MAX},
    "severity": SEVERITY_IN,
    "status": {**STATUS_IN, "description": "OPEN → IN_PROGRESS → RESOLVED → CLOSED, in any case; re-opening is allowed."},
    "assigneeId": {**ID_IN, "type": ["string", "integer", "null"], "description": "null unassigns."},
    "categoryId": ID_IN, "typeId": ID_IN, "itemId": ID_IN,
}

SCHEMAS = {
    "Error": _object({"error": ERROR_DETAIL}),
    "UserRef": _object({"id": ID_OUT, "username": {"type": "string"}, "displayName": {"type": "string"}}),
    "User": _object({
        "id": ID_OUT, "username": {"type": "string"}, "displayName": {"type": "string"},
        "role": {"type": "string", "enum": [r.value for r in Role]}, "active": {"type": "boolean"},
    }),
    "Named": _object(_NAMED),
    "Category": _object({**_NAMED, "active": {"type": "boolean"}}),
    "CtiType": _object({**_NAMED, "active": {"type": "boolean"}, "categoryId": ID_OUT}),
    "Item": _object({**_NAMED, "active": {"type": "boolean"}, "typeId": ID_OUT}),
    "Ticket": _object({
        "id": ID_OUT,
        "displayId": {"type": "string", "pattern": "^V[0-9]{9}$", "description": "Use it in URLs."},
        "url": {"type": "string", "format": "uri", "description": "The ticket's page in the web UI."},
        "apiUrl": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "overview": {"type": "string", "description": "Markdown."},
        "severity": SEVERITY_OUT,
        "severityLabel": {"type": "string", "enum": ["Critical", "High", "Medium", "Low", "Minimal"]},
        "status": STATUS,
        "categoryId": ID_OUT, "typeId": ID_OUT, "itemId": ID_OUT,
        "category": ref("Named"), "type": ref("Named"), "item": ref("Named"),
        "assigneeId": nullable(ID_OUT),
        "assignee": {"oneOf": [ref("UserRef"), {"type": "null"}]},
        "creator": ref("UserRef"),
        "dedupKey": {"type": ["string", "null"]},
        "createdAt": TIME, "updatedAt": TIME,
        "resolvedAt": nullable(TIME), "closedAt": nullable(TIME),
        "version": {
            "type": "integer", "minimum": 1,
            "description": "Changes with every change; send it back (or If-Match) to refuse stale writes.",
        },
        "deduplicated": {
            "type": "boolean",
            "description": "POST /api/tickets only: true when an open ticket with the same dedupKey took the report.",
        },
        "snippet": {
            "type": "string",
            "description": "GET /api/tickets with `q` only: where the overview or the comments match, as HTML: "
                           "the text escaped, each match in <mark>…</mark> (no other tags), fragments joined "
                           "by … (only the title matched: the overview's first words, unmarked).",
        },
        "links": {
            "type": "array", "items": ref("TicketLink"),
            "description": "GET /api/tickets/{ref} only (not in lists): its links, as GET …/links lists them.",
        },
    }, required=[
        "id", "displayId", "url", "apiUrl", "title", "overview", "severity", "severityLabel", "status",
        "categoryId", "typeId", "itemId", "category", "type", "item", "assigneeId", "assignee", "creator",
        "dedupKey", "createdAt", "updatedAt", "resolvedAt", "closedAt", "version",
    ]),
    "LinkedTicket": _object({
        "id": ID_OUT, "displayId": {"type": "string", "pattern": "^V[0-9]{9}$"}, "title": {"type": "string"},
        "status": STATUS, "severity": SEVERITY_OUT, "url": {"type": "string", "format": "uri"},
        "apiUrl": {"type": "string", "format": "uri"},
    }),
    "TicketLink": _object({
        "id": {**ID_OUT, "description": "The link's id (DELETE /api/tickets/{ref}/links/{linkId})."},
        "kind": {"type": "string", "enum": list(LINK_KINDS),
                 "description": "What the ticket asked about is to `ticket`: e.g. child_of means `ticket` is "
                                "its parent, duplicate_of that it was closed as a duplicate of `ticket`."},
        "label": {"type": "string", "enum": list(LINK_LABELS.values()),
                  "description": "What `ticket` is to it, as the web page groups them."},
        "ticket": ref("LinkedTicket"),
    }),
    "TicketLinks": _object({"items": {"type": "array", "items": ref("TicketLink")}}),
    "TicketLinkCreate": _object({
        "kind": {"type": "string", "enum": list(LINK_KINDS),
                 "description": "relates_to, duplicate_of (closes this ticket, with a note on both), "
                                "duplicated_by (closes the other), parent_of or child_of."},
        "ticket": {"type": ["string", "integer"], "minLength": 1, "maxLength": LINK_REF_MAX,
                   "description": "The other ticket: its display id (or internal id).", "examples": ["V325813929"]},
    }, examples=[{"kind": "child_of", "ticket": "V325813929"}]),
    "TicketCreate": _object({
        "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
        "overview": {"type": ["string", "null"], "maxLength": OVERVIEW_MAX, "description": "Markdown."},
        "severity": SEVERITY_IN,
        "categoryId": ID_IN, "typeId": ID_IN, "itemId": ID_IN,
        "assigneeId": {**ID_IN, "type": ["string", "integer", "null"], "description": "Optional; null: nobody."},
        "dedupKey": {
            "type": ["string", "null"], "minLength": 1, "maxLength": DEDUP_KEY_MAX,
            "description": "While a ticket with this key is OPEN or IN_PROGRESS, a create comments on it instead.",
        },
    }, required=["title", "severity", "categoryId", "typeId", "itemId"], examples=[{
        "title": "[Plex] Backup - 2026-03-30T02:00:00",
        "overview": "Automated nightly Plex backup completed.",
        "severity": 5, "categoryId": "3", "typeId": "7", "itemId": "12", "assigneeId": "5",
    }]),
    "TicketPatch": _object({
        **TICKET_PATCH,
        "version": {**ID_IN, "description": "The version you last read; 409 if the ticket changed since."},
        "force": {"type": "boolean", "description": "Resolve or close a parent whose children are still open "
                                                    "(without it: 409, code open_children)."},
    }, required=[], description="Only the fields given change; rerouting needs categoryId, typeId and itemId together."),
    "BulkChangesPatch": _object({
        **TICKET_PATCH,
        "comment": {"type": "string", "minLength": 1, "maxLength": BODY_MAX,
                    "description": "Markdown, added to each ticket as a comment after its field changes."},
    }, required=[], minProperties=1, description="The fields of PATCH /api/tickets/{ref} (no version: give "
                                                "it per ticket), and a comment."),
    "TicketBulkPatch": _object({
        "tickets": {
            "type": "array", "minItems": 1, "maxItems": BULK_MAX,
            "description": f"Display ids, at most {BULK_MAX:,}; up to {INLINE_MAX} are answered at once (200), "
                           "more run as a job (202).",
            "items": {"oneOf": [
                {"type": "string", "minLength": 1, "maxLength": REF_MAX, "examples": ["V325813929"]},
                _object({"ticket": {"type": "string", "minLength": 1, "maxLength": REF_MAX},
                         "version": {**ID_IN, "description": "Refuse this ticket (conflict) if it changed since."}},
                        required=["ticket"]),
            ]},
        },
        "filter": {
            "type": "object", "description": "The filters of GET /api/tickets (every status unless `status` is "
                                             f"given); runs as a job (202). At most {BULK_MAX:,} may match.",
            "properties": {name: {**FILTER_VALUE, "description": text} for name, text in (
                ("status", "OPEN, IN_PROGRESS, RESOLVED, CLOSED, active or all, in any case; a list for several."),
                ("severity", "1–5; a list for several."), ("categoryId", "A category id."),
                ("assigneeId", "A user id, me or unassigned."), ("updatedSince", "ISO 8601."),
                ("dedupKey", "A dedupKey."), ("parent", "A parent's display id: its children."))},
        },
        "changes": ref("BulkChangesPatch"),
    }, required=["changes"], oneOf=[{"required": ["tickets"]}, {"required": ["filter"]}],
        description="Give `tickets` or `filter`, and the `changes` to make to each ticket."),
    "BulkFailure": _object({"ticket": {"type": "string", "description": "The display id, or the reference as given."},
                            "error": ERROR_DETAIL}),
    "BulkResult": _object({
        "updated": {"type": "array", "items": {"type": "string"},
                    "description": "Changed, or already as asked (nothing to change)."},
        "failed": {"type": "array", "items": ref("BulkFailure"),
                   "description": "Not changed, with the reason: not_found, duplicate, conflict, invalid, …"},
    }),
    "BulkJob": _object({
        "id": ID_OUT,
        "url": {"type": "string", "format": "uri"},
        "status": {"type": "string", "enum": [s.value for s in BulkStatus],
                   "description": "queued, running, done, or error (stopped; `error` says why)."},
        "total": {"type": "integer", "minimum": 0, "description": "Tickets selected (matching when it was made)."},
        "done": {"type": "integer", "minimum": 0, "description": "Tickets tried so far, changed or not."},
        "failedCount": {"type": "integer", "minimum": 0},
        "changes": {"type": "object"},
        "filter": {"type": ["object", "null"]},
        "error": {"type": ["string", "null"]},
        "createdAt": TIME, "startedAt": nullable(TIME), "finishedAt": nullable(TIME),
        "updated": {"type": "array", "items": {"type": "string"}, "description": "So far; all once done."},
        "failed": {"type": "array", "items": ref("BulkFailure"), "description": "So far; all once done."},
    }),
    "CommentCreate": _object({"body": {"type": "string", "minLength": 1, "maxLength": BODY_MAX}}),
    "Comment": _object({
        "id": ID_OUT, "ticketId": ID_OUT, "author": ref("UserRef"),
        "body": {"type": "string", "description": "Markdown."}, "createdAt": TIME,
        "editedAt": {**nullable(TIME), "description": "When the author last edited it; null if never."},
    }),
    "AuditEvent": _object({
        "id": ID_OUT,
        "action": {"type": "string", "description": "create, status, assignee, severity, reroute, title, "
                                                    "overview, comment_add, comment_edit, comment_delete, link_add, "
                                                    "link_remove, auto_close, …"},
        "actor": {"oneOf": [ref("UserRef"), {"type": "null"}], "description": "null: the system."},
        "before": {"description": "The value before the change, as audited."},
        "after": {"description": "The value after the change, as audited."},
        "createdAt": TIME,
    }),
    "View": _object({
        "id": ID_OUT, "name": {"type": "string"}, "shared": {"type": "boolean"},
        "builtIn": {"type": "boolean", "description": "Seeded for everyone (no owner); admins may change it."},
        "owner": {"oneOf": [ref("UserRef"), {"type": "null"}], "description": "null: a built-in view."},
        "filters": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": 'The dashboard\'s query arguments, e.g. {"severity": "1", "assignee": "me"}.'},
        "canEdit": {"type": "boolean", "description": "Whether you may change or delete it (its owner; admins: shared)."},
        "url": {"type": "string", "format": "uri", "description": "The view in the web UI."},
        "ticketsUrl": {"type": "string", "format": "uri", "description": "Its tickets, paged like /api/tickets."},
    }),
    "ViewCreate": _object({"name": VIEW_NAME, "shared": VIEW_SHARED, "filters": VIEW_FILTERS_IN}, required=["name"],
                          examples=[{"name": "Critical infra", "shared": True,
                                     "filters": {"severity": "1,2", "categoryId": "3"}}]),
    "ViewPatch": _object({"name": VIEW_NAME, "shared": VIEW_SHARED, "filters": VIEW_FILTERS_IN}, required=[],
                         description="Only the fields given change; `filters` replaces all of the view's filters."),
    "Watchers": _object({
        "items": {"type": "array", "items": ref("User"), "maxItems": WATCHERS_SHOWN,
                  "description": f"In the order they started watching; at most {WATCHERS_SHOWN}."},
        "count": {"type": "integer", "minimum": 0, "description": "How many watch it (all of them, even past "
                                                                 f"the {WATCHERS_SHOWN} listed)."},
    }),
    "WatcherAdd": _object({
        "user": {"type": "string", "minLength": 1, "maxLength": USERNAME_MAX,
                 "description": "The username of the active user to add; default: you. A service account "
                                "may add only itself."},
    }, required=[], description="Send no body (or {}) to watch the ticket yourself."),
    "NotificationTicket": _object({
        "id": {"type": "string", "pattern": "^V[0-9]{9}$", "description": "The ticket's display id."},
        "title": {"type": "string"}, "severity": SEVERITY_OUT, "status": STATUS,
    }),
    "Notification": _object({
        "id": ID_OUT,
        "reason": {"type": "string", "enum": [r.value for r in Reason],
                   "description": "Why you were told: assigned, mentioned, yours_done (a ticket you filed was "
                                  "resolved or closed), comment or status (on a ticket you watch)."},
        "summary": {"type": "string", "description": "One sentence for people, e.g. \"Alice commented on V325813929\"."},
        "excerpt": {"type": ["string", "null"], "description": "The start of the comment or change, if any."},
        "ticket": ref("NotificationTicket"),
        "actor": {"oneOf": [ref("UserRef"), {"type": "null"}], "description": "Who did it; null: the system."},
        "eventId": {**ID_OUT, "description": "The audit event it tells of (GET /api/tickets/{ref}/audit)."},
        "url": {"type": "string", "format": "uri", "description": "Where to look in the web UI."},
        "createdAt": TIME,
        "readAt": {**nullable(TIME), "description": "When it was marked read; null while unread."},
    }),
    "NotificationPage": _object({
        **_page("Notification")["properties"],
        "unreadCount": {"type": "integer", "minimum": 0, "maximum": UNREAD_CAP + 1,
                        "description": f"Your unread notifications, counted up to {UNREAD_CAP + 1} "
                                       f"({UNREAD_CAP + 1} means more than {UNREAD_CAP})."},
    }),
    "NotificationsRead": _object({
        "ids": {"type": "array", "items": ID_IN, "minItems": 1, "maxItems": LIMIT_MAX,
                "description": f"Up to {LIMIT_MAX} of your notifications' ids."},
        "all": {"type": "boolean", "const": True, "description": "Every unread notification of yours."},
        "ticket": {"type": "string", "minLength": 1, "maxLength": REF_MAX,
                   "description": "With `all`: only those of this ticket (display id)."},
    }, required=[], oneOf=[{"required": ["ids"]}, {"required": ["all"]}], dependentRequired={"ticket": ["all"]},
        description="Give `ids`, or `all` (optionally with `ticket`)."),
    "NotificationsMarked": _object({
        "marked": {"type": "integer", "minimum": 0, "description": "How many were unread and are now read."},
        "unreadCount": {"type": "integer", "minimum": 0, "maximum": UNREAD_CAP + 1,
                        "description": f"Your unread notifications left, counted up to {UNREAD_CAP + 1}."},
    }),
    "ViewPage": _page("View"),
    "TicketPage": _page("Ticket"),
    "CommentPage": _page("Comment"),
    "AuditPage": _page("AuditEvent"),
    "CategoryPage": _page("Category"),
    "CtiTypePage": _page("CtiType"),
    "ItemPage": _page("Item"),
    "UserPage": _page("User"),
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "^[ -~]+$"},
    "description": "Retry-safe POST: the same key and body within 24 h replay the first response "
                   "(with `Idempotent-Replayed: true`); the same key with another body gets 422.",
}
