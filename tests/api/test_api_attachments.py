"""/api/tickets/{ref}/attachments: upload as n8n's HTTP node sends it (multipart), list, read,
download and remove, every answer checked against the OpenAPI document."""
import hashlib
import io

import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Attachment, AuditEvent
from webapp.services.comments import add_comment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60


def path_of(ticket, rest="") -> str:
    return f"/api/tickets/{ticket.display_id}/attachments{rest}"


def send(api, ticket, files, **form):
    data = {**form, **{name: (io.BytesIO(content), filename) for name, (filename, content) in files.items()}}
    return api.post(path_of(ticket), data=data, content_type="multipart/form-data")


def test_n8n_uploads_a_binary_field_and_gets_the_files_back(api, make, keys):
    ticket = make.ticket()
    response = send(api, ticket, {"data": ("backup-report.json", b'{"ok": false}'), "shot": ("graph.png", PNG)})
    assert response.status_code == 201
    first, second = response.get_json()["items"]
    assert (first["filename"], first["contentType"], first["size"]) == ("backup-report.json", "text/plain", 13)
    assert first["sha256"] == hashlib.sha256(b'{"ok": false}').hexdigest() and first["commentId"] is None
    assert second["inline"] is True and first["uploadedBy"]["username"] == keys.service.username
    listed = api.get(path_of(ticket)).get_json()["items"]
    assert [item["id"] for item in listed] == [first["id"], second["id"]]
    assert api.get(path_of(ticket, f"/{first['id']}")).get_json() == first
    download = api.get(first["downloadUrl"].replace("http://localhost", ""))
    assert download.status_code == 200 and download.data == b'{"ok": false}'
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_files_go_on_a_comment_of_the_callers_own(api, make, keys):
    ticket = make.ticket()
    mine = add_comment(keys.service, ticket, "log attached")
    theirs = add_comment(make.user("carol"), ticket, "mine")
    response = send(api, ticket, {"file": ("run.log", b"done")}, commentId=str(mine.id))
    assert response.status_code == 201 and response.get_json()["items"][0]["commentId"] == str(mine.id)
    refused = send(api, ticket, {"file": ("run.log", b"done")}, commentId=str(theirs.id))
    assert refused.status_code == 403
    assert send(api, ticket, {"file": ("run.log", b"done")}, commentId="999999").status_code == 404


def test_bad_uploads_are_422_naming_files_and_store_nothing(api, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 100)
    ticket = make.ticket()
    for files, message in (
        ({"file": ("empty.bin", b"")}, "empty.bin is empty (0 bytes)."),
        ({"file": ("big.log", b"x" * 101)}, "big.log is larger than the 100 bytes limit per file."),
        ({}, "Choose at least one file."),
    ):
        response = send(api, ticket, files, note="x")
        assert response.status_code == 422, files
        assert response.get_json()["error"]["fields"] == {"files": message}
    wrong_type = api.post(path_of(ticket), data={"file": (io.BytesIO(b"<html>"), "x.png", "image/png")},
                          content_type="multipart/form-data")
    assert wrong_type.status_code == 422 and "but its content is text/html" in wrong_type.get_json()["error"]["message"]
    as_json = api.post(path_of(ticket), json={"file": "aGVsbG8="})
    assert as_json.status_code == 422 and "multipart/form-data" in as_json.get_json()["error"]["fields"]["files"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_a_thousand_files_at_once_are_413_with_the_limits(api, make):
    ticket = make.ticket()
    data = {f"f{n}": (io.BytesIO(b"x"), f"{n}.txt") for n in range(1000)}
    response = api.post(path_of(ticket), data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "send at most 20 files of up to 25 MiB each" in response.get_json()["error"]["message"]


def test_removing_is_for_the_uploader_or_an_admin_and_is_audited(api, make, keys):
    ticket = make.ticket()
    (item,) = send(api, ticket, {"file": ("a.txt", b"x")}).get_json()["items"]
    assert api.as_key(keys.agent.plain_api_key).delete(path_of(ticket, f"/{item['id']}")).status_code == 403
    assert api.delete(path_of(ticket, f"/{item['id']}")).status_code == 204
    assert api.get(path_of(ticket, f"/{item['id']}")).status_code == 404
    assert api.get(path_of(ticket)).get_json()["items"] == []
    assert api.delete(path_of(ticket, f"/{item['id']}")).status_code == 404
    actions = db.session.scalars(sa.select(AuditEvent.action).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id))
    assert list(actions)[-2:] == ["attachment_add", "attachment_remove"]


def test_an_attachment_of_another_ticket_is_not_found_through_this_one(api, make):
    one, other = make.ticket(), make.ticket()
    (item,) = send(api, one, {"file": ("a.txt", b"x")}).get_json()["items"]
    assert api.get(path_of(other, f"/{item['id']}")).status_code == 404
    assert api.get(path_of(other, f"/{item['id']}/content")).status_code == 404
    assert api.get(path_of(one, "/abc")).status_code == 404
