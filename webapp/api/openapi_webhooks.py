"""The webhooks section of the OpenAPI document: what the app POSTs to each webhook's URL."""
from ..services.webhooks import EVENT_CHOICES, TEST_ACTION
from .openapi_schemas import ID_OUT, SEVERITY_OUT, STATUS, TIME, _object, nullable, ref

_HEADER_TEXT = {
    "X-Ticketing-Event": "The action (also `action` in the body).",
    "X-Ticketing-Event-Id": "The audit event's id; the same on every retry of this event.",
    "X-Ticketing-Delivery-Id": "This delivery (one event to one webhook); the same on its retries.",
    "X-Ticketing-Attempt": "1 for the first try, then 2, 3, …",
    "X-Ticketing-Timestamp": "Unix time of this try; part of what is signed.",
    "X-Ticketing-Signature": "`sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` with the webhook's secret.",
}
_VALUE = {"description": "The value as audited, every id inside it a string (docs/webhooks.md)."}

SCHEMAS = {
    "WebhookEvent": _object({
        "eventId": ID_OUT,
        "action": {"type": "string", "enum": [name for name, _ in EVENT_CHOICES] + [TEST_ACTION]},
        "occurredAt": TIME,
        "actor": {"oneOf": [ref("WebhookActor"), {"type": "null"}], "description": "null: the system (the sweep)."},
        "ticket": {"oneOf": [ref("WebhookTicket"), {"type": "null"}],
                   "description": "As it is when the delivery is made; null for admin events."},
        "target": {"oneOf": [ref("WebhookTarget"), {"type": "null"}], "description": "What an admin event concerns."},
        "before": _VALUE,
        "after": _VALUE,
    }),
    "WebhookActor": _object({"id": ID_OUT, "username": {"type": "string"}, "displayName": {"type": "string"}}),
    "WebhookTicket": _object({
        "id": ID_OUT, "displayId": {"type": "string", "pattern": "^V[0-9]{9}$"}, "title": {"type": "string"},
        "status": STATUS, "severity": SEVERITY_OUT,
    }),
    "WebhookTarget": _object({"type": {"type": "string"}, "id": nullable(ID_OUT)}),
}

WEBHOOKS = {
    "ticketEvent": {
        "post": {
            "summary": "An audit event, sent to each webhook whose filter takes its action",
            "description": "Sent after the change commits, through the outbox: at least once, retried "
                           "with backoff until the receiver answers 2xx. Verify the signature; use "
                           "`eventId` to drop repeats (docs/webhooks.md).",
            "parameters": [{"name": name, "in": "header", "required": True, "schema": {"type": "string"},
                            "description": text} for name, text in _HEADER_TEXT.items()],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("WebhookEvent")}}},
            "responses": {"2XX": {"description": "Received: not sent again."},
                          "default": {"description": "Anything else (or no answer in time): retried later."}},
        },
    },
}
