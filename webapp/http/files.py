"""Serving a stored file safely: raster images inline, everything else as a download, never sniffed."""
import re
from urllib.parse import quote

from flask import Response, request

# A served file may not run anything or load anything, even if a browser were to render it.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


MARKUP = {"text/html", "image/svg+xml", "application/xml"}  # served as bytes: nothing may parse them


def content_disposition(filename: str, inline: bool) -> str:
    """`attachment; filename="plain ascii"; filename*=UTF-8''percent-encoded` (RFC 6266)."""
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", filename) or "attachment"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(*, chunks, filename: str, content_type: str, size: int, digest: str, inline: bool) -> Response:
    """Stream `chunks` with headers that keep the browser from rendering or sniffing the file;
    304 when the client holds this exact file (ETag: its SHA-256)."""
    etag = f'"{digest}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": content_disposition(filename, inline),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_POLICY,
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    served_type = "application/octet-stream" if content_type in MARKUP else content_type
    response = Response(chunks, headers=headers, mimetype=served_type, direct_passthrough=True)
    response.content_length = size
    return response


def attachment_response(attachment) -> Response:
    """A stored attachment's bytes, streamed with file_response's headers (web and API alike)."""
    from ..services import attachments  # noqa: PLC0415 - the view layer's one way to serve a file

    return file_response(chunks=attachments.content(attachment), filename=attachment.filename,
                         content_type=attachment.content_type, size=attachment.size, digest=attachment.sha256,
                         inline=attachments.is_inline(attachment))


def uploads_in_request(field: str | None = None) -> list:
    """The files of this multipart request (of form field `field`, or all), as services take them;
    a file input left empty (no name, no bytes) is no file."""
    from ..services.attachment_files import Upload  # noqa: PLC0415 - the view layer hands services their type

    parts = request.files.getlist(field) if field else [part for _, part in request.files.items(multi=True)]
    return [Upload(part.filename or "", part.mimetype or None, part.stream) for part in parts
            if part.filename or part.stream.read(1)]
