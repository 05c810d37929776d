"""Bad input gets a 4xx in the one error shape, naming each bad field; nothing produces a 500."""
import pytest

from webapp.extensions import db
from webapp.models import Role

from .conftest import ticket_count

LONG = "x" * 201

# (case, change to the n8n body, status, bad field). `{...}` values are resolved by `_resolve`.
CREATE_CASES = [
    ("empty title", {"title": ""}, 422, "title"),
    ("blank title", {"title": "   "}, 422, "title"),
    ("over-long title", {"title": LONG}, 422, "title"),
    ("title not text", {"title": 123}, 422, "title"),
    ("title missing", {"title": None}, 422, "title"),
    ("NUL in title", {"title": "bad\x00title"}, 422, "title"),
    ("lone surrogate in overview", {"overview": "\ud800"}, 422, "overview"),
    ("overview not text", {"overview": ["a"]}, 422, "overview"),
    ("severity 0", {"severity": 0}, 422, "severity"),
    ("severity 6", {"severity": 6}, 422, "severity"),
    ("severity words", {"severity": "high"}, 422, "severity"),
    ("severity fraction", {"severity": 2.5}, 422, "severity"),
    ("severity boolean", {"severity": True}, 422, "severity"),
    ("severity missing", {"severity": None}, 422, "severity"),
    ("unknown category", {"categoryId": "999999"}, 422, "categoryId"),
    ("category not an id", {"categoryId": "abc"}, 422, "categoryId"),
    ("category id too big for a row", {"categoryId": 2**40}, 422, "categoryId"),
    ("category id in other digits", {"categoryId": "²"}, 422, "categoryId"),
    ("negative category id", {"categoryId": -1}, 422, "categoryId"),
    ("type not under category", {"typeId": "{other_type}", "itemId": "{other_item}"}, 422, "typeId"),
    ("item not under type", {"itemId": "{other_item}"}, 422, "itemId"),
    ("inactive item", {"itemId": "{inactive_item}"}, 422, "itemId"),
    ("unknown assignee", {"assigneeId": "999999"}, 422, "assigneeId"),
    ("deactivated assignee", {"assigneeId": "{retired_user}"}, 422, "assigneeId"),
    ("assignee not an id", {"assigneeId": {"id": 1}}, 422, "assigneeId"),
    ("empty dedup key", {"dedupKey": ""}, 422, "dedupKey"),
    ("over-long dedup key", {"dedupKey": "k" * 256}, 422, "dedupKey"),
    ("dedup key not text", {"dedupKey": 5}, 422, "dedupKey"),
    ("unknown field", {"priority": "P1"}, 422, "priority"),
    ("field in other case", {"assigneeID": "1"}, 422, "assigneeID"),
    ("severity as numeric text is fine", {"severity": "5"}, 201, None),
    ("null assignee is fine", {"assigneeId": None}, 201, None),
]


@pytest.fixture
def others(make, n8n_cti):
    """Ids that exist but do not fit the n8n routing, and a deactivated user."""
    _, other_type, other_item = make.cti("Network", "Firewall", "Rules")
    _, _, inactive = make.cti("TheWrightServer", "Automation", "Retired job", active=False)
    return {"other_type": other_type.id, "other_item": other_item.id, "inactive_item": inactive.id,
            "retired_user": make.user(role=Role.SERVICE, active=False).id}


def _resolve(change: dict, others: dict) -> dict:
    return {name: others[value[1:-1]] if isinstance(value, str) and value[:1] == "{" else value
            for name, value in change.items()}


@pytest.mark.parametrize(("case", "change", "status", "field"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
def test_create_input_table(api, n8n_body, others, case, change, status, field):
    before = ticket_count()
    response = api.post("/api/tickets", json={**n8n_body, **_resolve(change, others)})
    assert response.status_code == status, response.get_json()
    if field:
        error = response.get_json()["error"]
        assert error["code"] == "invalid"
        assert list(error["fields"]) == [field]
        assert field in error["message"]
        assert ticket_count() == before


def test_every_bad_field_is_reported_at_once(api, n8n_body):
    response = api.post("/api/tickets", json={**n8n_body, "title": "", "severity": 9, "itemId": "0"})
    assert set(response.get_json()["error"]["fields"]) == {"title", "severity", "itemId"}


def test_empty_object_names_every_required_field(api):
    fields = api.post("/api/tickets", json={}).get_json()["error"]["fields"]
    assert set(fields) == {"title", "severity", "categoryId", "typeId", "itemId"}


PATCH_CASES = [
    ("unknown status", {"status": "DONE"}, 422, "status"),
    ("close an open ticket", {"status": "CLOSED"}, 422, "status"),
    ("reroute with only a category", {"categoryId": "{category}"}, 422, "itemId"),
    ("unknown assignee", {"assigneeId": 999999}, 422, "assigneeId"),
    ("version not a number", {"version": "latest"}, 422, "version"),
    ("stale version", {"title": "x", "version": 99}, 409, None),
    ("empty title", {"title": ""}, 422, "title"),
    ("id is not writable", {"id": "5"}, 422, "id"),
    ("nothing to change", {}, 200, None),
]


@pytest.mark.parametrize(("case", "change", "status", "field"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_input_table(api, make, keys, n8n_cti, case, change, status, field):
    ticket = make.ticket(actor=keys.service, cti=n8n_cti)
    response = api.patch(f"/api/tickets/{ticket.display_id}", json=_resolve(change, {"category": n8n_cti[0].id}))
    assert response.status_code == status, response.get_json()
    if field:
        assert list(response.get_json()["error"]["fields"]) == [field]


def test_patch_if_match_must_be_an_etag(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    response = api.patch(f"/api/tickets/{ticket.id}", json={"title": "x"}, headers={"If-Match": "soon"})
    assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["If-Match"]


QUERY_CASES = [
    ("/api/tickets?status=DONE", "status"),
    ("/api/tickets?severity=9", "severity"),
    ("/api/tickets?severity=high", "severity"),
    ("/api/tickets?categoryId=abc", "categoryId"),
    ("/api/tickets?assigneeId=someone", "assigneeId"),
    ("/api/tickets?updatedSince=yesterday", "updatedSince"),
    ("/api/tickets?updatedSince=", "updatedSince"),  # a blank template variable: refused, not ignored
    ("/api/tickets?updatedSince=0001-01-01T00:00:00%2B05:00", "updatedSince"),
    ("/api/tickets?limit=0", "limit"),
    ("/api/tickets?limit=101", "limit"),
    ("/api/tickets?limit=ten", "limit"),
    ("/api/tickets?cursor=forged", "cursor"),
    ("/api/cti/categories?includeInactive=maybe", "includeInactive"),
    ("/api/cti/types", "categoryId"),
    ("/api/cti/types?categoryId=999999", "categoryId"),
    ("/api/cti/items?typeId=x", "typeId"),
    ("/api/users?username=a%00b", "username"),
]


@pytest.mark.parametrize(("path", "field"), QUERY_CASES)
def test_query_input_table(api, path, field):
    response = api.get(path)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["fields"]) == [field]


BODY_CASES = [
    ("malformed JSON", b'{"title": ', "application/json", 400),
    ("JSON array", b"[1, 2]", "application/json", 400),
    ("JSON null", b"null", "application/json", 400),
    ("empty body", b"", "application/json", 400),
    ("not UTF-8", b'{"title": "\xff\xfe"}', "application/json", 400),
    ("nested too deep", b"[" * 100_000, "application/json", 400),
    ("huge number", b'{"severity": ' + b"9" * 5000 + b"}", "application/json", 400),
    ("plain text", b"title=Disk", "text/plain", 415),
    ("form post", b"title=Disk", "application/x-www-form-urlencoded", 415),
    ("no content type", b"{}", None, 415),
]


@pytest.mark.parametrize(("case", "data", "content_type", "status"), BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_body_transport_table(api, make, keys, case, data, content_type, status):
    ticket = make.ticket(actor=keys.service)
    for method, path in (("POST", "/api/tickets"), ("PATCH", f"/api/tickets/{ticket.id}"),
                         ("POST", f"/api/tickets/{ticket.id}/comments")):
        response = api.request(method, path, data=data, content_type=content_type)
        assert response.status_code == status, (method, path, response.get_json())
        assert response.get_json()["error"]["fields"] == {}


def test_body_over_the_size_limit_is_413(api, app, n8n_body, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    response = api.post("/api/tickets", json={**n8n_body, "overview": "x" * 2000})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_unknown_api_path_is_json_404(api):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow(api):
    response = api.delete("/api/tickets")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_comment_needs_a_body(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    for body in ({}, {"body": "  "}, {"body": 7}):
        response = api.post(f"/api/tickets/{ticket.id}/comments", json=body)
        assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["body"]


def test_unknown_comment_is_404(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    for comment_id in ("999999", "abc", "99999999999999999999"):
        response = api.get(f"/api/tickets/{ticket.id}/comments/{comment_id}")
        assert response.status_code == 404


def test_comment_of_another_ticket_is_404(api, make, keys):
    from webapp.services.comments import add_comment

    one, two = make.ticket(actor=keys.service), make.ticket(actor=keys.service)
    comment = add_comment(keys.service, one, "here")
    assert api.get(f"/api/tickets/{two.display_id}/comments/{comment.id}").status_code == 404
    assert api.delete(f"/api/tickets/{two.display_id}/comments/{comment.id}").status_code == 404


def test_refusal_rolls_back_and_leaves_the_session_usable(api, n8n_body):
    assert api.post("/api/tickets", json={**n8n_body, "severity": 7}).status_code == 422
    assert api.post("/api/tickets", json=n8n_body).status_code == 201
    assert db.session.scalar(db.text("SELECT 1")) == 1
