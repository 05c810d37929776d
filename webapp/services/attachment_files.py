"""What an uploaded file is: its cleaned name, its size and digest, and its type as its bytes say."""
import hashlib
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from .errors import ValidationError

NAME_MAX = 255
HEAD = 4096  # the bytes the type is told from
RASTER = {"image/png", "image/jpeg", "image/gif", "image/webp"}  # the only types shown inline
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"), (b"%PDF-", "application/pdf"), (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"), (b"\x1f\x8b", "application/gzip"), (b"BZh", "application/x-bzip2"),
    (b"\xfd7zXZ\x00", "application/x-xz"), (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
)
_MARKUP = (("<svg", "image/svg+xml"), ("<!doctype html", "text/html"), ("<html", "text/html"),
           ("<script", "text/html"), ("<?xml", "application/xml"))
_TEXT_TYPES = {"application/json", "application/xml", "application/x-yaml", "application/yaml", "application/x-sh"}
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-gzip": "application/gzip",
            "application/x-zip-compressed": "application/zip"}
_TEXTUAL = {"text/plain", "text/html", "image/svg+xml", "application/xml"}


def clean_filename(raw) -> str:
    """The name a file is stored under: no directories, no control or format characters, at most
    255 characters keeping the extension; "attachment" when nothing is left."""
    name = str(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in name)
    name = " ".join(name.split()).strip(" .") or "attachment"
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        keep = extension if dot and 0 < len(extension) <= 16 else ""
        name = name[:NAME_MAX - len(keep) - 1].rstrip() + "." + keep if keep else name[:NAME_MAX]
    return name


def sniff(head: bytes) -> str:
    """The content type the first bytes show; never the client's word."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if b"\x00" in head:
        return "application/octet-stream"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut at the end of the head
            return "application/octet-stream"
        text = head[:exc.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n").lower()
    for marker, content_type in _MARKUP:
        if start.startswith(marker) or (marker != "<?xml" and marker in start):
            return content_type
    return "text/plain"


def declared_disagrees(declared: str | None, sniffed: str) -> bool:
    """True when the client named a type its bytes are not: an image or PDF that is something
    else, or text that is binary. A generic or missing type never disagrees."""
    kind = _ALIASES.get((declared or "").split(";")[0].strip().lower(), (declared or "").split(";")[0].strip().lower())
    if kind in RASTER or kind == "application/pdf":
        return kind != sniffed
    if kind.startswith("text/") or kind in _TEXT_TYPES:
        return sniffed not in _TEXTUAL
    return False


@dataclass
class Upload:
    """One file of an upload: a name and type as the client sent them and a seekable stream."""

    filename: str
    declared_type: str | None
    stream: BinaryIO
    size: int = 0
    sha256: str = ""
    content_type: str = ""

    @property
    def name(self) -> str:
        return clean_filename(self.filename)

    def measure(self, max_bytes: int) -> None:
        """Read the file once for its size, digest and type, then rewind it; ValidationError
        (field `files`) if it is empty, over `max_bytes` or not what it claims to be."""
        digest, head, size = hashlib.sha256(), b"", 0
        self.stream.seek(0)
        while chunk := self.stream.read(256 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise ValidationError({"files": f"{self.name} is larger than the {megabytes(max_bytes)} limit per file."})
            if len(head) < HEAD:
                head += chunk[:HEAD - len(head)]
            digest.update(chunk)
        if size == 0:
            raise ValidationError({"files": f"{self.name} is empty (0 bytes)."})
        self.size, self.sha256, self.content_type = size, digest.hexdigest(), sniff(head)
        if declared_disagrees(self.declared_type, self.content_type):
            raise ValidationError({"files": f"{self.name} was sent as {self.declared_type}, but its content is "
                                            f"{self.content_type}."})
        self.stream.seek(0)


def megabytes(count: int) -> str:
    """A byte limit as people read it: "25 MiB"."""
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count:,} bytes"
