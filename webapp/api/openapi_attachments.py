"""OpenAPI pieces of /api/tickets/{ref}/attachments: the attachment's schema and the multipart upload."""
from .openapi_schemas import ID_OUT, TIME, _object, nullable, ref

ATTACHMENT_ID = {"name": "attachmentId", "in": "path", "required": True, "schema": {"type": "string"},
                 "description": "An attachment's id, as the list shows it."}

SCHEMAS = {
    "Attachment": _object({
        "id": ID_OUT, "ticketId": ID_OUT,
        "commentId": {**nullable(ID_OUT), "description": "The comment it was posted with; null: on the ticket."},
        "filename": {"type": "string", "maxLength": 255,
                     "description": "As uploaded, cleaned: no directories or control characters, at most 255."},
        "contentType": {"type": "string", "description": "Told from the bytes by the server, never the client's word."},
        "size": {"type": "integer", "minimum": 1}, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "uploadedBy": ref("UserRef"), "createdAt": TIME,
        "inline": {"type": "boolean", "description": "A PNG, JPEG, GIF or WebP image, shown in the page; "
                                                      "everything else is only ever downloaded."},
        "downloadUrl": {"type": "string", "format": "uri"},
    }),
    "AttachmentList": _object({"items": {"type": "array", "items": ref("Attachment")}}),
}

UPLOAD_BODY = {
    "required": True,
    "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "One or more file fields, any name (n8n's HTTP node: a Form-Data binary field)."},
            "commentId": {"type": "string", "description": "Attach to this comment of yours instead of the ticket."},
        }, "required": ["file"]},
        "encoding": {"file": {"contentType": "application/octet-stream"}},
    }},
}

UPLOAD_DESCRIPTION = (
    "All files or none: each is checked first. 422 (field `files`) for an empty file, one over the per-file "
    "limit (ATTACHMENT_MAX_BYTES, default 25 MiB), a ticket over ATTACHMENT_TICKET_MAX_BYTES, more than "
    "ATTACHMENT_MAX_FILES files (default 20), or a declared type the bytes contradict (an image that is not "
    "one); 413 when the body is larger than all of them allow. Audited as attachment_add, one event per file.")
