"""Files on a ticket in the web UI: upload (with and without htmx), serve safely, remove, purge,
and every refusal stores nothing."""
import hashlib
import io
import os

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Attachment, AttachmentChunk, AuditEvent, Comment
from webapp.services.attachment_store import CHUNK

from .conftest import PARTIAL, is_full_page

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 60


def upload(client, ticket, *files, headers=None, field="files"):
    data = {field: [(io.BytesIO(content), name) for name, content in files]}
    return client.post(f"/tickets/{ticket.display_id}/attachments", data=data, headers=headers or {},
                       content_type="multipart/form-data")


def stored() -> list[Attachment]:
    return list(db.session.scalars(sa.select(Attachment).order_by(Attachment.id)))


def events(ticket, action) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action=action)))


def fetch(client, ticket, attachment, **kw):
    return client.get(f"/tickets/{ticket.display_id}/attachments/{attachment.id}/{attachment.filename}", **kw)


def test_a_form_upload_stores_each_file_audits_it_and_lists_it_on_the_page(client, agent, make):
    ticket = make.ticket()
    version, updated = ticket.version, ticket.updated_at
    response = upload(client, ticket, ("boot.log", b"kernel: oom\n"), ("shot.png", PNG))
    assert response.status_code == 303
    db.session.refresh(ticket)
    assert ticket.version == version and ticket.updated_at > updated  # like a comment: never a conflict
    files = stored()
    assert [(a.filename, a.content_type, a.size, a.uploader_id) for a in files] == [
        ("boot.log", "text/plain", 12, agent.id), ("shot.png", "image/png", len(PNG), agent.id)]
    assert files[0].sha256 == hashlib.sha256(b"kernel: oom\n").hexdigest()
    assert [e.after["filename"] for e in events(ticket, "attachment_add")] == ["boot.log", "shot.png"]
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert 'id="attachments"' in html and "boot.log" in html and '<img src="/tickets/' in html
    assert fetch(client, ticket, files[0]).data == b"kernel: oom\n"


def test_an_htmx_upload_answers_the_attachments_section_and_a_flash(client, agent, make):
    ticket = make.ticket()
    response = upload(client, ticket, ("a.txt", b"one"), ("b.txt", b"two"), headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and not is_full_page(response)
    assert html.lstrip().startswith('<section id="attachments"')
    assert "2 files attached." in html and "a.txt" in html and "b.txt" in html


def test_the_editor_uploader_gets_json_with_markdown_for_images(client, agent, make):
    ticket = make.ticket()
    response = upload(client, ticket, ("shot [1].png", PNG), headers={"Accept": "application/json"})
    assert response.status_code == 201
    (item,) = response.get_json()["attachments"]
    assert item["inline"] is True and item["markdown"] == f"![shot (1).png]({item['url']})"
    refused = upload(client, ticket, ("empty.txt", b""), headers={"Accept": "application/json"})
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {"files": "empty.txt is empty (0 bytes)."}


def test_only_raster_images_are_shown_inline_and_nothing_is_sniffed(client, agent, make):
    ticket = make.ticket()
    upload(client, ticket, ("shot.png", PNG), ("page.html", b"<html><script>alert(1)</script>"),
           ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), ("notes.txt", b"hello"))
    image, page, logo, notes = stored()
    shown = fetch(client, ticket, image)
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    for attachment, served in ((page, "application/octet-stream"), (logo, "application/octet-stream"),
                               (notes, "text/plain")):
        response = fetch(client, ticket, attachment)
        assert response.headers["Content-Disposition"].startswith("attachment;"), attachment.filename
        assert response.mimetype == served
    for response in (shown, fetch(client, ticket, page)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert "script-src" not in response.headers["Content-Security-Policy"]


def test_a_name_outside_ascii_is_sent_both_ways_and_an_etag_saves_the_download(client, agent, make):
    ticket = make.ticket()
    upload(client, ticket, ("rapport été.txt", b"bonjour"))
    (attachment,) = stored()
    response = fetch(client, ticket, attachment)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"rapport _t_.txt\"; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.txt")
    again = fetch(client, ticket, attachment, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_a_large_file_is_stored_and_served_a_chunk_at_a_time(client, agent, make):
    ticket = make.ticket()
    content = os.urandom(3 * CHUNK + 1000)
    assert upload(client, ticket, ("dump.bin", content)).status_code == 303
    (attachment,) = stored()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttachmentChunk)) == 4
    response = fetch(client, ticket, attachment)
    assert response.is_streamed and response.content_length == len(content)
    assert response.data == content and attachment.content_type == "application/octet-stream"


@pytest.mark.parametrize("files, message", [
    ((("empty.txt", b""),), "empty.txt is empty (0 bytes)."),
    ((("ok.txt", b"fine"), ("big.log", b"x" * 2048)), "big.log is larger than the 1,024 bytes limit per file."),
    ((("fake.png", b"<html>hi</html>"),), None),
])
def test_a_bad_file_refuses_the_whole_upload_beside_the_picker(client, agent, make, app, monkeypatch, files, message):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    ticket = make.ticket()
    data = {"files": [(io.BytesIO(c), n, "image/png" if n.endswith(".png") else "text/plain") for n, c in files]}
    response = client.post(f"/tickets/{ticket.display_id}/attachments", data=data, headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="files-error"' in html and (message or "was sent as image/png, but its content is text/html") in html
    assert stored() == [] and events(ticket, "attachment_add") == []


def test_the_ticket_limit_counts_what_it_already_holds(client, agent, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_TICKET_MAX_BYTES", 10)
    ticket = make.ticket()
    assert upload(client, ticket, ("a.txt", b"123456")).status_code == 303
    response = upload(client, ticket, ("b.txt", b"123456"), headers=PARTIAL)
    assert response.status_code == 422 and "A ticket holds at most 10 bytes of attachments" in response.get_data(as_text=True)
    assert len(stored()) == 1


def test_too_many_files_at_once_are_refused_and_a_thousand_never_parsed(client, agent, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_FILES", 3)
    ticket = make.ticket()
    response = upload(client, ticket, *[(f"{n}.txt", b"x") for n in range(4)], headers=PARTIAL)
    assert response.status_code == 422 and "Attach at most 3 files at once (4 sent)." in response.get_data(as_text=True)
    response = upload(client, ticket, *[(f"{n}.txt", b"x") for n in range(1000)], headers=PARTIAL)
    assert response.status_code == 413
    assert "send at most 3 files of up to 25 MiB each. Nothing was stored." in response.get_data(as_text=True)
    assert stored() == []


def test_a_body_larger_than_every_file_allowed_is_refused_before_it_is_read(client, agent, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 1024)
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_FILES", 1)
    ticket = make.ticket()
    response = upload(client, ticket, ("big.bin", b"x" * (2 * 1024 * 1024)), headers=PARTIAL)
    assert response.status_code == 413 and stored() == []


def test_a_truncated_multipart_body_stores_nothing(client, agent, make):
    ticket = make.ticket()
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"cut.log\"\r\n"
            "Content-Type: text/plain\r\n\r\nthe start of a log that never").encode()
    response = client.post(f"/tickets/{ticket.display_id}/attachments", data=body, headers=PARTIAL,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert 400 <= response.status_code < 500 and stored() == []


def test_the_uploader_removes_a_file_others_may_not_and_an_admin_purges_it(client, agent, make, auth, admin):
    ticket = make.ticket()
    upload(client, ticket, ("secret.txt", b"password=hunter2"))
    (attachment,) = stored()
    path = f"/tickets/{ticket.display_id}/attachments/{attachment.id}"
    make.user("other")
    auth.logout()
    auth.login("other")
    refused = client.post(path + "/remove", headers=PARTIAL)
    assert refused.status_code == 403 and "Only the uploader or an admin" in refused.get_data(as_text=True)
    auth.logout()
    auth.login("agent")
    removed = client.post(path + "/remove", headers=PARTIAL)
    assert removed.status_code == 200 and "secret.txt removed." in removed.get_data(as_text=True)
    assert fetch(client, ticket, attachment).status_code == 404
    assert events(ticket, "attachment_remove")[0].before["filename"] == "secret.txt"
    auth.logout()
    auth.login("root")
    assert fetch(client, ticket, attachment).data == b"password=hunter2"  # kept until purged
    listing = client.get("/admin/attachments").get_data(as_text=True)
    assert "secret.txt" in listing and "Purge" in listing
    assert client.post(f"/admin/attachments/{attachment.id}/purge").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttachmentChunk)) == 0
    assert events(ticket, "attachment_purge")[0].before["filename"] == "secret.txt"
    assert fetch(client, ticket, attachment).status_code == 404
    assert client.post(f"/admin/attachments/{attachment.id}/purge").status_code == 404


def test_an_agent_cannot_purge(client, agent, make):
    ticket = make.ticket()
    upload(client, ticket, ("a.txt", b"x"))
    (attachment,) = stored()
    client.post(f"/tickets/{ticket.display_id}/attachments/{attachment.id}/remove")
    assert client.post(f"/admin/attachments/{attachment.id}/purge").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttachmentChunk)) == 1


def test_a_comment_posts_with_its_files_or_not_at_all(client, agent, make):
    ticket = make.ticket()
    path = f"/tickets/{ticket.display_id}/comments"
    bad = client.post(path, data={"body": "see log", "files": [(io.BytesIO(b""), "empty.log")]}, headers=PARTIAL,
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "see log</textarea>" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0 and stored() == []
    good = client.post(path, data={"body": "see log", "files": [(io.BytesIO(b"oom"), "kern.log")]}, headers=PARTIAL,
                       content_type="multipart/form-data")
    assert good.status_code == 200 and "kern.log" in good.get_data(as_text=True)
    (comment,) = db.session.scalars(sa.select(Comment))
    (attachment,) = stored()
    assert attachment.comment_id == comment.id
    (event,) = events(ticket, "comment_add")
    assert event.after["attachments"][0]["filename"] == "kern.log"


def test_files_the_editor_uploaded_go_with_the_comment_but_no_one_elses(client, agent, make, auth):
    ticket = make.ticket()
    response = upload(client, ticket, ("shot.png", PNG), headers={"Accept": "application/json"})
    (item,) = response.get_json()["attachments"]
    path = f"/tickets/{ticket.display_id}/comments"
    posted = client.post(path, data={"body": item["markdown"], "attachment_ids": item["id"]}, headers=PARTIAL)
    assert posted.status_code == 200
    html = posted.get_data(as_text=True)
    assert f'<img src="{item["url"]}"' in html  # the markdown image shows the attachment
    assert stored()[0].comment_id is not None
    upload(client, ticket, ("mine.txt", b"x"), headers={"Accept": "application/json"})
    make.user("other")
    auth.logout()
    auth.login("other")
    theirs = str(stored()[1].id)
    refused = client.post(path, data={"body": "taking it", "attachment_ids": theirs}, headers=PARTIAL)
    assert refused.status_code == 422 and "Only files you uploaded" in refused.get_data(as_text=True)
    assert stored()[1].comment_id is None
