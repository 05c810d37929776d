"""Where attachment bytes live: rows of the database (the default) or an S3-compatible bucket.

Both move a file a chunk at a time, so neither an upload nor a download is ever held whole in memory.
"""
import secrets
from collections.abc import Iterator
from functools import cache
from typing import BinaryIO
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Attachment, AttachmentChunk

CHUNK = 256 * 1024
CHUNKS_PER_READ = 4  # a download reads 1 MiB per short round trip, holding no connection in between

_INSERT_CHUNK = sa.insert(AttachmentChunk.__table__)
_READ_CHUNKS = (sa.select(AttachmentChunk.data)
                .where(AttachmentChunk.attachment_id == sa.bindparam("attachment_id"),
                       AttachmentChunk.seq >= sa.bindparam("first"), AttachmentChunk.seq < sa.bindparam("stop"))
                .order_by(AttachmentChunk.seq))


class DatabaseStore:
    """Bytes as attachment_chunk rows, written in the caller's transaction: nothing half-stored."""

    name = "db"

    def write(self, attachment: Attachment, stream: BinaryIO) -> None:
        seq = 0
        while chunk := stream.read(CHUNK):
            db.session.execute(_INSERT_CHUNK, {"attachment_id": attachment.id, "seq": seq, "data": chunk})
            seq += 1

    def read(self, attachment: Attachment) -> Iterator[bytes]:
        """The chunks in order, each batch read in an app context (and session) of its own: the
        response streams after the request's context is gone, and a slow client holds no pooled
        connection while it reads."""
        return _chunks(current_app._get_current_object(), attachment.id)

    def delete(self, attachment: Attachment) -> None:
        db.session.execute(sa.delete(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment.id))

    def discard(self, attachment: Attachment) -> None:
        """Nothing to undo: a rolled-back transaction takes its chunk rows with it."""


def _chunks(app, attachment_id: int) -> Iterator[bytes]:
    first = 0
    while True:
        with app.app_context():
            chunks = db.session.execute(_READ_CHUNKS, {"attachment_id": attachment_id, "first": first,
                                                       "stop": first + CHUNKS_PER_READ}).scalars().all()
        yield from chunks
        if len(chunks) < CHUNKS_PER_READ:
            return
        first += CHUNKS_PER_READ


class S3Store:
    """Bytes as one object per attachment in `s3://bucket/prefix`; objects are written before the
    rows that name them commit, and discarded if that transaction fails."""

    name = "s3"

    def __init__(self, url: str, endpoint: str | None, region: str):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"ATTACHMENT_STORAGE must be 'db' or s3://bucket[/prefix], not {url!r}")
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.endpoint, self.region = endpoint, region

    @property
    def client(self):
        return _s3_client(self.endpoint, self.region)

    def key_for(self, attachment: Attachment) -> str:
        """`bucket/[prefix/]ticket/attachment-random`: the bucket is kept, so a file stays readable
        after ATTACHMENT_STORAGE names another bucket."""
        name = f"{attachment.ticket_id}/{attachment.id}-{secrets.token_hex(8)}"
        return f"{self.bucket}/{self.prefix}/{name}" if self.prefix else f"{self.bucket}/{name}"

    def write(self, attachment: Attachment, stream: BinaryIO) -> None:
        attachment.storage_key = self.key_for(attachment)
        bucket, key = attachment.storage_key.split("/", 1)
        self.client.upload_fileobj(stream, bucket, key, ExtraArgs={"ContentType": "application/octet-stream"})

    def read(self, attachment: Attachment) -> Iterator[bytes]:
        bucket, key = attachment.storage_key.split("/", 1)
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def delete(self, attachment: Attachment) -> None:
        if attachment.storage_key:
            bucket, key = attachment.storage_key.split("/", 1)
            self.client.delete_object(Bucket=bucket, Key=key)

    def discard(self, attachment: Attachment) -> None:
        """Remove an object whose row did not commit; a failure here only leaves an orphan object."""
        try:
            self.delete(attachment)
        except Exception:  # noqa: BLE001 - best effort after the real error, which is re-raised
            current_app.logger.warning("could not discard object %s", attachment.storage_key, exc_info=True)


@cache
def _s3_client(endpoint: str | None, region: str):
    """One client per endpoint and process (boto3 clients are thread-safe); imported only when used."""
    import boto3  # noqa: PLC0415 - the S3 option's dependency, not loaded by a database-only install
    return boto3.client("s3", endpoint_url=endpoint, region_name=region)


def configured_store():
    """The store new attachments go to, from ATTACHMENT_STORAGE."""
    setting = current_app.config["ATTACHMENT_STORAGE"]
    return store_named(setting)


def store_for(attachment: Attachment):
    """The store an existing attachment's bytes are in (the setting may have changed since)."""
    if attachment.storage == DatabaseStore.name:
        return DatabaseStore()
    return S3Store(f"s3://{attachment.storage_key.split('/', 1)[0]}", current_app.config["ATTACHMENT_S3_ENDPOINT"],
                   current_app.config["ATTACHMENT_S3_REGION"])


def check_setting(setting: str) -> None:
    """ValueError unless ATTACHMENT_STORAGE is `db` or s3://bucket[/prefix] (checked at start-up)."""
    if setting != DatabaseStore.name:
        S3Store(setting, None, "us-east-1")


def store_named(setting: str):
    if setting == DatabaseStore.name:
        return DatabaseStore()
    return S3Store(setting, current_app.config["ATTACHMENT_S3_ENDPOINT"], current_app.config["ATTACHMENT_S3_REGION"])
