"""The S3 option: files go to the bucket as objects, come back as written, vanish with a failed
transaction and with a purge, and stay readable after the setting moves back to the database."""
import io
import os

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Attachment, AttachmentChunk, Role
from webapp.services import attachments, audit
from webapp.services.attachment_files import Upload

from .s3_fixtures import BUCKET, object_keys, s3_server, s3_store  # noqa: F401 - fixtures


def files(*pairs) -> list[Upload]:
    return [Upload(name, None, io.BytesIO(content)) for name, content in pairs]


def read(attachment) -> bytes:
    return b"".join(attachments.content(attachment))


def test_a_file_is_an_object_in_the_bucket_and_no_row_of_bytes(s3_store, make):
    ticket, agent = make.ticket(), make.user("agent")
    content = os.urandom(600_000)  # larger than one chunk
    (added,) = attachments.add_attachments(agent, ticket, files(("dump.bin", content)))
    assert added.storage == "s3" and added.storage_key.startswith(f"{BUCKET}/files/{ticket.id}/{added.id}-")
    assert object_keys(s3_store) == [added.storage_key.split("/", 1)[1]]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttachmentChunk)) == 0
    assert read(db.session.get(Attachment, added.id)) == content


def test_a_failed_transaction_leaves_no_object_behind(s3_store, make, monkeypatch):
    ticket, agent = make.ticket(), make.user("agent")
    real_record, calls = audit.record, []

    def fail_on_second(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", fail_on_second)
    with pytest.raises(RuntimeError):
        attachments.add_attachments(agent, ticket, files(("a.txt", b"one"), ("b.txt", b"two")))
    db.session.rollback()
    assert object_keys(s3_store) == [] and db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_a_purge_deletes_the_object_and_an_old_file_survives_a_change_of_setting(s3_store, make, app, monkeypatch):
    ticket, agent = make.ticket(), make.user("agent")
    admin = make.user("root", role=Role.ADMIN)
    kept, gone = attachments.add_attachments(agent, ticket, files(("kept.txt", b"keep me"), ("gone.txt", b"bye")))
    attachments.remove_attachment(agent, ticket, gone)
    attachments.purge(admin, gone)
    assert object_keys(s3_store) == [kept.storage_key.split("/", 1)[1]]
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "db")
    assert read(kept) == b"keep me"
    (in_db,) = attachments.add_attachments(agent, ticket, files(("new.txt", b"rows")))
    assert in_db.storage == "db" and read(in_db) == b"rows"


def test_a_malformed_setting_stops_the_app_at_start_with_what_it_should_be(database_url):
    from .conftest import make_app

    with pytest.raises(ValueError, match="must be 'db' or s3://bucket"):
        make_app(database_url, ATTACHMENT_STORAGE="s3:/no-bucket")
