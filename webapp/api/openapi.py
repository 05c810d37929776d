"""The OpenAPI 3.1 description of the API, kept true by tests that validate real responses against it."""
from functools import cache

from . import openapi_attachments, openapi_reports, openapi_webhooks
from ..services.bulk import BULK_MAX, INLINE_MAX
from ..services.listing import SORT_KEYS
from ..services.search import Q_MAX, RANKED
from .openapi_schemas import IDEMPOTENCY_KEY, SCHEMAS, ref
from .parsing import LIMIT_DEFAULT, LIMIT_MAX, USERNAME_MAX

ERRORS = {
    "400": "The body is not valid JSON, or not a JSON object.",
    "401": "Missing, unknown, revoked or deactivated X-Api-Key.",
    "403": "You may not do this: your role, or a shared view that is not yours, forbids it.",
    "404": ("No such ticket, comment, link, view, bulk job or notification (another person's personal view or "
            "notification is not found either)."),
    "409": ("Conflict: the ticket changed since the version you sent, a concurrent request won, or (code "
            "open_children) resolving or closing a parent whose children are open needs `force`."),
    "413": "The body is larger than the server accepts.",
    "415": "The body is not sent as application/json.",
    "422": "Invalid input; `fields` names each bad field.",
    "429": ("Too many requests for this key, or too many unknown keys from this address; "
            "retry after `Retry-After` seconds."),
    "503": "The database is unreachable (e.g. restarting); retry after `Retry-After` seconds.",
}
RATE_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "string"}, "description": "Requests allowed per window."},
    "X-RateLimit-Remaining": {"schema": {"type": "string"}, "description": "Requests left in this window."},
    "X-RateLimit-Reset": {"schema": {"type": "string"}, "description": "When the window resets (Unix time)."},
}
BODY_ERRORS = ("400", "413", "415", "422")
TICKET_REF = {
    "name": "ref", "in": "path", "required": True, "schema": {"type": "string"},
    "description": "The display id (V#########) or the internal id.", "example": "V325813929",
}
COMMENT_ID = {"name": "commentId", "in": "path", "required": True, "schema": {"type": "string"}}
BULK_JOB = {"name": "job", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "The id a bulk change's 202 answered with."}
VIEW_ID = {"name": "viewId", "in": "path", "required": True, "schema": {"type": "string"}}
LINK_ID = {"name": "linkId", "in": "path", "required": True, "schema": {"type": "string"},
           "description": "A link's id, as GET /api/tickets/{ref}/links lists it."}
PAGING = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX},
     "description": f"Page size (default {LIMIT_DEFAULT})."},
    {"name": "cursor", "in": "query", "schema": {"type": "string"},
     "description": "Opaque; taken from the previous page's `next` URL."},
]
INCLUDE_INACTIVE = {
    "name": "includeInactive", "in": "query", "schema": {"type": "boolean"},
    "description": "Also list deactivated entries (default false).",
}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _operation(op_id, tag, summary, success: dict, errors=(), params=(), body=None, description="",
               body_required=True):
    responses = {code: {"description": text, **_json(ref("Error"))} for code, text in ERRORS.items()
                 if code in {"401", "429", "503", *errors}}
    for code in ("429", "503"):
        responses[code]["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}}
    responses["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    for response in success.values():
        response.setdefault("headers", {}).update(RATE_HEADERS)
    operation = {
        "operationId": op_id, "tags": [tag], "summary": summary, "description": description,
        "parameters": list(params), "responses": {**success, **responses},
    }
    if body:
        operation["requestBody"] = {"required": body_required, **_json(ref(body))}
    return operation


def _ok(schema: str, description: str, status: str = "200", headers: dict | None = None, links=None) -> dict:
    response = {"description": description, "headers": dict(headers or {}), **_json(ref(schema))}
    if links:
        response["links"] = links
    return {status: response}


def _links(parameters: dict, *operation_ids: str) -> dict:
    """OpenAPI links: which calls a response's ids feed (clients and stateful fuzzing follow them)."""
    return {op[0].upper() + op[1:]: {"operationId": op, "parameters": dict(parameters)} for op in operation_ids}


TICKET_LINKS = _links({"ref": "$response.body#/displayId"},
                      "getTicket", "updateTicket", "listComments", "addComment", "getAudit")
COMMENT_LINKS = _links({"ref": "$request.path.ref", "commentId": "$response.body#/id"},
                       "getComment", "editComment", "deleteComment")
VIEW_LINKS = _links({"viewId": "$response.body#/id"}, "getView", "updateView", "deleteView", "listViewTickets")


ETAG = {"ETag": {"schema": {"type": "string"}, "description": 'The ticket\'s version, e.g. "3", for If-Match.'}}
LOCATION = {"Location": {"schema": {"type": "string", "format": "uri"}, "description": "The new resource."}}
REPLAYED = {"Idempotent-Replayed": {"schema": {"type": "string"}, "description": "true on a replayed response."}}

PATHS = {
    "/api/tickets": {
        "get": _operation(
            "listTickets", "Tickets", "List or search tickets, SEV 1 first, then oldest first",
            _ok("TicketPage", "A page of tickets."), errors=("422",),
            params=[
                _query("q", {"type": "string", "maxLength": Q_MAX},
                       "Full-text search of title, overview and comments: words (stemmed: `restarting` finds "
                       "`restart`), \"quoted phrases\", `-word` to leave tickets out, `or` between "
                       "alternatives. Hostnames, error codes, IPs and paths are found as typed (`web01`, "
                       "`ERR_CONN_RESET`, `10.0.3.7`, `/var/log`). Each item then has a `snippet`, and the "
                       "list is sorted by relevance unless `sort` says otherwise. 422 names `q` when there "
                       "is nothing to search for (only punctuation, or only words as common as `the`), "
                       "or it is too long."),
                _query("sort", {"type": "string", "enum": list(SORT_KEYS)},
                       "`queue` (SEV 1 first, then oldest; the default), `newest`, `updated` (recently "
                       f"changed first) or `relevance` (best match first among the {RANKED:,} most recently "
                       "filed matches; the default with `q`, and only with it). Each sort has its own cursors."),
                _query("status", {"type": "array", "items": {"type": "string"}},
                       "OPEN, IN_PROGRESS, RESOLVED, CLOSED, `active` (OPEN and IN_PROGRESS) or `all` (the "
                       "default), in any case; repeat or comma-separate for several."),
                _query("severity", {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 5}},
                       "1–5; repeat or comma-separate for several."),
                _query("categoryId", {"type": "string"}, "Only tickets in this category."),
                _query("assigneeId", {"type": "string"},
                       "Only tickets assigned to this user id; `me`: to the caller; `unassigned`: to nobody "
                       "(`none` is accepted too)."),
                _query("updatedSince", {"type": "string", "format": "date-time"},
                       "Only tickets changed at or after this time (ISO 8601; no zone means UTC)."),
                _query("dedupKey", {"type": "string"},
                       "Only tickets with this dedupKey, e.g. to resolve a monitor's ticket once it recovers."),
                _query("parent", {"type": "string"},
                       "Only the children of this ticket (its display id, V#########; 422 naming `parent` "
                       "for any other), e.g. to change them all with a bulk `filter`."),
                *PAGING,
            ],
            description="Paged by a keyset cursor: tickets created while you page never make another "
                        "ticket skip or repeat (in relevance order on SQLite, new tickets can shift the "
                        "ranks of others). Follow `next` until it is null.",
        ),
        "post": _operation(
            "createTicket", "Tickets", "Open a ticket",
            {**_ok("Ticket", "Created.", "201", {**LOCATION, **ETAG, **REPLAYED}, TICKET_LINKS),
             **_ok("Ticket", "Deduplicated: an open ticket has this dedupKey; an \"occurred again\" "
                             "comment was added to it.", "200", {**ETAG, **REPLAYED}, TICKET_LINKS)},
            errors=(*BODY_ERRORS, "409"), params=[IDEMPOTENCY_KEY], body="TicketCreate",
            description="Takes the n8n body unchanged. Send an Idempotency-Key to make retries safe, "
                        "and a dedupKey to fold repeated reports of one problem into one ticket.",
        ),
    },
    "/api/tickets/bulk": {  # before /api/tickets/{ref}, which its path would also match
        "post": _operation(
            "bulkUpdateTickets", "Tickets", "Change many tickets at once",
            {**_ok("BulkResult", f"Up to {INLINE_MAX} listed tickets were tried: which changed, which refused "
                                 "and why.", "200", REPLAYED),
             **_ok("BulkJob", "More listed tickets, or a filter's, are being changed by a job; follow Location "
                              "for its progress and results.", "202", {**LOCATION, **REPLAYED},
                   _links({"job": "$response.body#/id"}, "getBulkJob"))},
            errors=BODY_ERRORS, params=[IDEMPOTENCY_KEY], body="TicketBulkPatch",
            description="Each ticket is changed as PATCH /api/tickets/{ref} would change it (its own audit "
                        "events, version check, status rules and webhooks), all of its changes or none; "
                        "one that refuses is listed in `failed` and the rest still change. Up to "
                        f"{INLINE_MAX} listed tickets are changed before the answer (200); more (at most "
                        f"{BULK_MAX:,}), or a `filter`, run as a job (202).",
        ),
    },
    "/api/bulk/{job}": {
        "get": _operation("getBulkJob", "Tickets", "A bulk change's progress and results",
                          _ok("BulkJob", "The job; `updated` and `failed` are complete once `status` is done."),
                          errors=("404",), params=[BULK_JOB]),
    },
    "/api/tickets/{ref}": {
        "get": _operation("getTicket", "Tickets", "Read a ticket",
                          _ok("Ticket", "The ticket.", headers=ETAG, links=TICKET_LINKS),
                          errors=("404",), params=[TICKET_REF]),
        "patch": _operation(
            "updateTicket", "Tickets", "Change a ticket",
            _ok("Ticket", "The changed ticket.", headers=ETAG, links=TICKET_LINKS),
            errors=(*BODY_ERRORS, "404", "409"), body="TicketPatch",
            params=[TICKET_REF, {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                                 "description": 'The ETag you read, e.g. "3"; 409 if the ticket changed since.'}],
            description="One audit event per changed field, all in one transaction.",
        ),
    },
    "/api/tickets/{ref}/comments": {
        "get": _operation("listComments", "Comments", "List a ticket's comments, oldest first",
                          _ok("CommentPage", "A page of comments."), errors=("404", "422"),
                          params=[TICKET_REF, *PAGING]),
        "post": _operation("addComment", "Comments", "Comment on a ticket (markdown)",
                           _ok("Comment", "Added.", "201", {**LOCATION, **REPLAYED}, COMMENT_LINKS),
                           errors=(*BODY_ERRORS, "404"), params=[TICKET_REF, IDEMPOTENCY_KEY],
                           body="CommentCreate"),
    },
    "/api/tickets/{ref}/comments/{commentId}": {
        "get": _operation("getComment", "Comments", "Read a comment", _ok("Comment", "The comment."),
                          errors=("404",), params=[TICKET_REF, COMMENT_ID]),
        "patch": _operation(
            "editComment", "Comments", "Edit a comment (its author only)",
            _ok("Comment", "Edited; `editedAt` says when. The same text again changes nothing."),
            errors=(*BODY_ERRORS, "403", "404"), params=[TICKET_REF, COMMENT_ID], body="CommentCreate",
            description="The earlier text stays in the ticket's audit trail (`comment_edit`, with before and after).",
        ),
        "delete": _operation(
            "deleteComment", "Comments", "Delete a comment",
            {"204": {"description": "Deleted; the text stays in the audit trail.", "headers": {}}},
            errors=("403", "404"), params=[TICKET_REF, COMMENT_ID],
            description="Authors may delete their own comments, admins any.",
        ),
    },
    "/api/tickets/{ref}/audit": {
        "get": _operation("getAudit", "Tickets", "A ticket's history: who changed what, and when",
                          _ok("AuditPage", "A page of audit events, oldest first."), errors=("404", "422"),
                          params=[TICKET_REF, *PAGING]),
    },
    "/api/tickets/{ref}/watchers": {
        "get": _operation("listWatchers", "Watchers", "Who watches a ticket (told of its comments and status changes)",
                          _ok("Watchers", "The watchers, in the order they started."), errors=("404",),
                          params=[TICKET_REF]),
        "post": _operation(
            "watchTicket", "Watchers", "Watch a ticket, or add someone as a watcher",
            {**_ok("Watchers", "Added; the watchers now.", "201"),
             **_ok("Watchers", "They already watched it; nothing changed.")},
            errors=(*BODY_ERRORS, "403", "404"), params=[TICKET_REF], body="WatcherAdd", body_required=False,
            description="No body: you watch the ticket (service accounts too: they never watch on their own). "
                        "{\"user\": username} adds that active user; a service account may add only itself "
                        "(403). Audited as watch_add.",
        ),
        "delete": _operation(
            "unwatchTicket", "Watchers", "Stop watching a ticket, or remove a watcher",
            {"204": {"description": "They no longer watch it (also when they did not).", "headers": {}}},
            errors=("403", "404", "422"),
            params=[TICKET_REF, _query("user", {"type": "string", "minLength": 1, "maxLength": USERNAME_MAX},
                                       "The username to remove; default: you. Only admins remove someone else (403).")],
            description="Audited as watch_remove when someone is removed.",
        ),
    },
    "/api/tickets/{ref}/links": {
        "get": _operation("listLinks", "Links", "A ticket's links to other tickets",
                          _ok("TicketLinks", "Its links: parent, children, duplicate of, duplicated by, relates to."),
                          errors=("404",), params=[TICKET_REF]),
        "post": _operation(
            "addLink", "Links", "Link a ticket to another",
            _ok("TicketLink", "Linked; the link as seen from this ticket.", "201"),
            errors=(*BODY_ERRORS, "404"), params=[TICKET_REF], body="TicketLinkCreate",
            description="`kind` is the link as seen from this ticket. Refused (422, naming `kind` or `ticket`): an "
                        "unknown kind or ticket, a link to itself, a pair already linked (either way round), a "
                        "second parent, a parent loop. duplicate_of closes this ticket (duplicated_by the other) "
                        "with a note on both, in the same transaction. Audited on both tickets as link_add.",
        ),
    },
    "/api/tickets/{ref}/links/{linkId}": {
        "delete": _operation(
            "removeLink", "Links", "Remove a link",
            {"204": {"description": "Removed (a duplicate closed by it stays closed).", "headers": {}}},
            errors=("404",), params=[TICKET_REF, LINK_ID],
            description="Audited on both tickets as link_remove.",
        ),
    },
    "/api/cti/categories": {
        "get": _operation("listCategories", "Routing (CTI)", "List categories",
                          _ok("CategoryPage", "A page of categories by name."), errors=("422",),
                          params=[INCLUDE_INACTIVE, *PAGING]),
    },
    "/api/cti/types": {
        "get": _operation("listTypes", "Routing (CTI)", "List the types of a category",
                          _ok("CtiTypePage", "A page of types by name."), errors=("422",),
                          params=[_query("categoryId", {"type": "string"}, "The category.", True),
                                  INCLUDE_INACTIVE, *PAGING]),
    },
    "/api/cti/items": {
        "get": _operation("listItems", "Routing (CTI)", "List the items of a type",
                          _ok("ItemPage", "A page of items by name."), errors=("422",),
                          params=[_query("typeId", {"type": "string"}, "The type.", True),
                                  INCLUDE_INACTIVE, *PAGING]),
    },
    "/api/users": {
        "get": _operation("listUsers", "Users", "List users (to find an assigneeId)",
                          _ok("UserPage", "A page of users by username."), errors=("422",),
                          params=[_query("username", {"type": "string"}, "Find one user by username."),
                                  INCLUDE_INACTIVE, *PAGING]),
    },
    "/api/views": {
        "get": _operation("listViews", "Saved views", "List the views you can see: every shared one and yours",
                          _ok("ViewPage", "A page of views, oldest first."), errors=("422",), params=PAGING),
        "post": _operation(
            "createView", "Saved views", "Save a set of ticket filters as a named view",
            _ok("View", "Created.", "201", LOCATION, VIEW_LINKS), errors=BODY_ERRORS, body="ViewCreate",
            description="Shown in the sidebar of the web queue with its ticket count; `shared` puts it in "
                        "everyone's sidebar. A bad filter is refused under `filters.<name>`.",
        ),
    },
    "/api/views/{viewId}": {
        "get": _operation("getView", "Saved views", "Read a view", _ok("View", "The view.", links=VIEW_LINKS),
                          errors=("404",), params=[VIEW_ID]),
        "patch": _operation("updateView", "Saved views", "Rename, re-filter or (un)share a view",
                            _ok("View", "The changed view.", links=VIEW_LINKS), errors=(*BODY_ERRORS, "403", "404"),
                            params=[VIEW_ID], body="ViewPatch",
                            description="Your own views; shared ones also if you are an admin."),
        "delete": _operation("deleteView", "Saved views", "Delete a view",
                             {"204": {"description": "Deleted; its name and filters stay in the audit trail.",
                                      "headers": {}}},
                             errors=("403", "404"), params=[VIEW_ID],
                             description="Your own views; shared ones also if you are an admin."),
    },
    "/api/views/{viewId}/tickets": {
        "get": _operation("listViewTickets", "Saved views", "List a view's tickets, SEV 1 first, then oldest first",
                          _ok("TicketPage", "A page of tickets."), errors=("404", "422"), params=[VIEW_ID, *PAGING],
                          description="Paged like GET /api/tickets; `me` in the view's filters is you."),
    },
    "/api/notifications": {
        "get": _operation(
            "listNotifications", "Notifications", "Your notifications, newest first",
            _ok("NotificationPage", "A page of your notifications, and how many are unread."), errors=("422",),
            params=[_query("unread", {"type": "boolean"}, "Only unread notifications (default false)."), *PAGING],
            description="What you were told of: tickets assigned to you, mentions, your tickets resolved, "
                        "comments and status changes on tickets you watch. Paged by a keyset cursor; "
                        "follow `next` until it is null.",
        ),
    },
    "/api/notifications/read": {
        "post": _operation(
            "readNotifications", "Notifications", "Mark notifications read",
            _ok("NotificationsMarked", "How many were marked, and how many unread are left."),
            errors=(*BODY_ERRORS, "404"), body="NotificationsRead",
            description="`ids`: those notifications (404, and none marked, if one is not yours); "
                        "`all`: every unread one, or with `ticket` every unread one of that ticket. "
                        "Marking a read one again changes nothing.",
        ),
    },
    "/api/me": {
        "get": _operation("getMe", "Users", "Who this API key belongs to", _ok("User", "The key's user.")),
    },
}


def _report_paths() -> dict:
    """/api/reports and one path per report, all taking the same filters."""
    params = [_query(name, schema, text) for name, schema, text in openapi_reports.FILTERS]
    paths = {"/api/reports": {"get": _operation(
        "getReports", "Reports", "Every report at once", _ok("ReportsAll", "The figures."), errors=("422",),
        params=params, description="The figures of /reports; durations in seconds, days in UTC.")}}
    for name, (schema, body) in openapi_reports.REPORT_SCHEMAS.items():
        operation_id = "getReport" + "".join(part.capitalize() for part in name.split("-"))
        paths[f"/api/reports/{name}"] = {"get": _operation(
            operation_id, "Reports", openapi_reports.SUMMARIES[name],
            _ok(schema + "Answer", "The report."), errors=("422",), params=params,
            description=body.get("description", ""))}
    return paths


def _attachment_paths() -> dict:
    """Upload, list, read, download and remove a ticket's files."""
    files = openapi_attachments
    upload = _operation(
        "addAttachments", "Attachments", "Attach files (multipart/form-data)",
        _ok("AttachmentList", "Stored, in the order sent.", "201"), errors=("400", "403", "404", "413", "422"),
        params=[TICKET_REF], description=files.UPLOAD_DESCRIPTION)
    upload["requestBody"] = files.UPLOAD_BODY
    one = [TICKET_REF, files.ATTACHMENT_ID]
    download = _operation(
        "downloadAttachment", "Attachments", "Download a file", {"200": {
            "description": "The bytes; Content-Disposition: attachment (inline for raster images), nosniff.",
            "headers": {}, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
        errors=("404",), params=one)
    return {
        "/api/tickets/{ref}/attachments": {"post": upload, "get": _operation(
            "listAttachments", "Attachments", "A ticket's files", _ok("AttachmentList", "Oldest first."),
            errors=("404",), params=[TICKET_REF])},
        "/api/tickets/{ref}/attachments/{attachmentId}": {
            "get": _operation("getAttachment", "Attachments", "A file's details", _ok("Attachment", "The file."),
                              errors=("404",), params=one),
            "delete": _operation(
                "removeAttachment", "Attachments", "Remove a file",
                {"204": {"description": "Removed; kept until an admin purges it.", "headers": {}}},
                errors=("403", "404"), params=one, description="Its uploader or an admin. Audited as attachment_remove."),
        },
        "/api/tickets/{ref}/attachments/{attachmentId}/content": {"get": download},
    }


PATHS.update(_report_paths())
PATHS.update(_attachment_paths())


@cache
def openapi_document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ticketing API",
            "version": "1.0.0",
            "description": "JSON API for automation (n8n, cron jobs, monitors). Authenticate with "
                           "`X-Api-Key: sk_…`. Ids are sent as strings and accepted as strings or "
                           "integers. Every error is `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
        },
        "security": [{"ApiKey": []}],
        "tags": [{"name": name} for name in ("Tickets", "Comments", "Attachments", "Links", "Watchers", "Notifications", "Routing (CTI)",
                                             "Users", "Saved views", "Reports")],
        "paths": PATHS,
        "webhooks": openapi_webhooks.WEBHOOKS,
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
            "schemas": {**SCHEMAS, **openapi_reports.SCHEMAS, **openapi_webhooks.SCHEMAS,
                        **openapi_attachments.SCHEMAS},
        },
    }
