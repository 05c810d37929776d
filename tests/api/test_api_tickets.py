"""Creating, reading and changing tickets through the API, as n8n does."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Role, Ticket
from webapp.db.utc import utcnow

from .conftest import ticket_count


def test_exact_n8n_body_from_design_creates_ticket(api, n8n_body, keys):
    response = api.post("/api/tickets", json=n8n_body)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["displayId"].startswith("V") and len(body["displayId"]) == 10
    assert response.headers["Location"].endswith(f"/api/tickets/{body['displayId']}")
    assert body["url"].endswith(f"/tickets/{body['displayId']}")
    assert body["title"] == "[Plex] Backup - 2026-03-30T02:00:00"
    assert body["overview"] == "Automated nightly Plex backup completed."
    assert (body["severity"], body["severityLabel"], body["status"]) == (5, "Minimal", "OPEN")
    assert (body["category"]["name"], body["type"]["name"], body["item"]["name"]) == (
        "TheWrightServer", "Automation", "Backup")
    assert body["categoryId"] == n8n_body["categoryId"] and body["itemId"] == n8n_body["itemId"]
    assert body["assigneeId"] == str(keys.service.id)
    assert body["assignee"]["username"] == body["creator"]["username"] == "goddard"
    assert body["createdAt"].endswith("Z") and body["resolvedAt"] is None
    assert body["version"] == 1 and response.headers["ETag"] == '"1"'
    assert body["deduplicated"] is False
    ticket = db.session.get(Ticket, int(body["id"]))
    assert ticket.display_id == body["displayId"] and ticket.creator_id == keys.service.id


def test_ids_may_be_integers_too(api, n8n_body):
    body = {**n8n_body, **{name: int(n8n_body[name]) for name in ("categoryId", "typeId", "itemId", "assigneeId")}}
    assert api.post("/api/tickets", json=body).status_code == 201


def test_assignee_and_overview_are_optional(api, n8n_body):
    body = {name: n8n_body[name] for name in ("title", "severity", "categoryId", "typeId", "itemId")}
    created = api.post("/api/tickets", json=body).get_json()
    assert created["assignee"] is None and created["assigneeId"] is None and created["overview"] == ""


def test_create_is_audited_as_the_service_account(api, n8n_body, keys):
    ticket_id = int(api.post("/api/tickets", json=n8n_body).get_json()["id"])
    events = db.session.scalars(db.select(AuditEvent).filter_by(ticket_id=ticket_id)).all()
    assert [(e.action, e.actor_id) for e in events] == [("create", keys.service.id)]


def test_get_ticket_by_display_id_or_internal_id(api, make, keys):
    ticket = make.ticket(actor=keys.service, title="Disk full")
    by_display = api.get(f"/api/tickets/{ticket.display_id}")
    by_id = api.get(f"/api/tickets/{ticket.id}")
    lower = api.get(f"/api/tickets/{ticket.display_id.lower()}")
    assert by_display.get_json() == by_id.get_json() == lower.get_json()
    assert by_display.get_json()["title"] == "Disk full"


@pytest.mark.parametrize("ref", ["V000000000", "0", "99999999999999999999", "V12", "²"])
def test_unknown_ticket_is_404_in_the_error_shape(api, ref):
    response = api.get(f"/api/tickets/{ref}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_patch_changes_fields_with_one_audit_event_each(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    agent = make.user("bob", role=Role.AGENT)
    cat, typ, item = make.cti("Network", "Firewall", "Rules")

    response = api.patch(f"/api/tickets/{ticket.display_id}", json={
        "title": "Renamed", "severity": "1", "status": "IN_PROGRESS", "assigneeId": str(agent.id),
        "categoryId": str(cat.id), "typeId": typ.id, "itemId": str(item.id), "overview": "More *detail*",
    })

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["title"], body["severity"], body["status"]) == ("Renamed", 1, "IN_PROGRESS")
    assert body["assignee"]["username"] == "bob" and body["item"]["name"] == "Rules"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    actions = db.session.scalars(
        db.select(AuditEvent.action).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id)).all()
    assert sorted(actions[1:]) == sorted(["title", "overview", "severity", "assignee", "status", "reroute"])


def test_patch_without_changes_writes_no_audit(api, make, keys):
    ticket = make.ticket(actor=keys.service, title="Same")
    assert api.patch(f"/api/tickets/{ticket.id}", json={"title": "Same"}).status_code == 200
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).filter_by(ticket_id=ticket.id)) == 1


def test_patch_null_assignee_unassigns(api, make, keys):
    ticket = make.ticket(actor=keys.service, assignee=keys.service)
    body = api.patch(f"/api/tickets/{ticket.id}", json={"assigneeId": None}).get_json()
    assert body["assignee"] is None


def test_patch_is_all_or_nothing(api, make, keys):
    ticket = make.ticket(actor=keys.service, title="Before", severity=3)
    response = api.patch(f"/api/tickets/{ticket.id}", json={"title": "After", "severity": 9})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"severity"}
    db.session.expire_all()
    assert (ticket.title, ticket.severity) == ("Before", 3)


def test_patch_with_current_version_succeeds_and_stale_version_conflicts(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    path = f"/api/tickets/{ticket.display_id}"
    version = api.get(path).get_json()["version"]
    assert api.patch(path, json={"severity": 2, "version": version}).status_code == 200

    stale = api.patch(path, json={"severity": 1, "version": version})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "conflict"
    assert api.get(path).get_json()["severity"] == 2


def test_patch_honours_if_match(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    path = f"/api/tickets/{ticket.display_id}"
    etag = api.get(path).headers["ETag"]
    assert api.patch(path, json={"title": "One"}, headers={"If-Match": etag}).status_code == 200
    assert api.patch(path, json={"title": "Two"}, headers={"If-Match": etag}).status_code == 409
    assert api.patch(path, json={"title": "Three"}, headers={"If-Match": "*"}).status_code == 200


def test_resolving_and_reopening_through_the_api(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    path = f"/api/tickets/{ticket.display_id}"
    resolved = api.patch(path, json={"status": "RESOLVED"}).get_json()
    assert resolved["resolvedAt"] is not None
    reopened = api.patch(path, json={"status": "OPEN"}).get_json()
    assert reopened["resolvedAt"] is None


def test_updated_at_moves_on_change(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    ticket.updated_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    before = api.get(f"/api/tickets/{ticket.id}").get_json()["updatedAt"]
    after = api.patch(f"/api/tickets/{ticket.id}", json={"severity": 1}).get_json()["updatedAt"]
    assert after > before


def test_nothing_is_created_by_a_refused_create(api, n8n_body):
    before = ticket_count()
    assert api.post("/api/tickets", json={**n8n_body, "severity": 0}).status_code == 422
    assert ticket_count() == before


def test_comments_do_not_make_an_earlier_read_stale(api, make, keys):
    """A comment is its own resource: it bumps updatedAt, not the ticket's version."""
    ticket = make.ticket(actor=keys.service)
    path = f"/api/tickets/{ticket.display_id}"
    read = api.get(path).get_json()
    api.post(f"{path}/comments", json={"body": "meanwhile"})
    after = api.get(path).get_json()
    assert after["version"] == read["version"] and after["updatedAt"] > read["updatedAt"]
    assert api.patch(path, json={"severity": 1, "version": read["version"]}).status_code == 200


def test_change_by_another_writer_during_a_multi_field_edit_is_a_conflict(make, keys):
    """The version moves on between our read and our write: 409 Conflict, not a crash."""
    from webapp.services import Conflict
    from webapp.services.tickets import update_ticket

    ticket = make.ticket(actor=keys.service, title="Before")
    db.session.execute(db.text("UPDATE ticket SET version = version + 1 WHERE id = :id"), {"id": ticket.id})
    with pytest.raises(Conflict):
        update_ticket(keys.service, ticket, {"title": "Mine", "severity": 1})
    db.session.expire_all()
    assert ticket.title == "Before"


def test_create_answers_from_what_it_wrote_without_reading_the_ticket_back(api, n8n_body):
    statements = []

    def record(_conn, _cursor, statement, *_):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = api.post("/api/tickets", json=n8n_body)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 201
    inserted = next(n for n, statement in enumerate(statements) if "INSERT INTO ticket" in statement)
    assert not [s for s in statements[inserted:] if s.startswith("SELECT") and "FROM ticket" in s], statements
    ticket = db.session.scalar(sa.select(Ticket).filter_by(display_id=response.get_json()["displayId"]))
    assert response.get_json()["version"] == ticket.version and response.get_json()["title"] == ticket.title


def test_links_follow_the_host_and_prefix_each_request_came_by(api, n8n_body):
    """The roots of `url` and `apiUrl` are kept per host, never one host's for another's callers."""
    cases = (("http://tickets.example", None), ("https://other.example:8443", None),
             ("http://tickets.example/desk", None), ("http://tickets.example", None),
             ("http://localhost", "proxied.example"), ("http://localhost", None))
    for base, host in cases:
        headers = {"X-Api-Key": api.key, **({"Host": host} if host else {})}
        response = api.client.open("/api/tickets", base_url=base, method="POST", json=n8n_body,
                                   headers=headers, csrf=False)
        body = response.get_json()
        assert response.status_code == 201, body
        base = f"http://{host}" if host else base
        assert body["url"] == f"{base}/tickets/{body['displayId']}"
        assert body["apiUrl"] == response.headers["Location"] == f"{base}/api/tickets/{body['displayId']}"
