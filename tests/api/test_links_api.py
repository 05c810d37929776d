"""/api/tickets/{ref}/links, the `links` of a single ticket, PATCH `force`, and ?parent=, every answer
checked against the OpenAPI document (the `api` fixture)."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, TicketLink
from webapp.services import links


def path_of(ticket) -> str:
    return f"/api/tickets/{ticket.display_id}/links"


def test_add_list_and_remove_a_link(api, make):
    parent, child = make.ticket(), make.ticket()
    added = api.post(path_of(child), json={"kind": "child_of", "ticket": parent.display_id})
    assert added.status_code == 201
    body = added.get_json()
    assert body["kind"] == "child_of" and body["label"] == "Parent" and isinstance(body["id"], str)
    assert body["ticket"]["displayId"] == parent.display_id and body["ticket"]["id"] == str(parent.id)
    assert body["ticket"]["apiUrl"].endswith(f"/api/tickets/{parent.display_id}")
    [seen] = api.get(path_of(parent)).get_json()["items"]
    assert (seen["kind"], seen["label"], seen["ticket"]["displayId"]) == ("parent_of", "Children", child.display_id)
    single = api.get(f"/api/tickets/{parent.display_id}").get_json()
    assert [link["id"] for link in single["links"]] == [body["id"]]
    listed = api.get("/api/tickets").get_json()["items"]
    assert all("links" not in item for item in listed)  # lists leave them out
    assert api.delete(f"{path_of(parent)}/{body['id']}").status_code == 204
    assert api.get(path_of(child)).get_json() == {"items": []}
    assert api.delete(f"{path_of(parent)}/{body['id']}").status_code == 404
    actions = db.session.scalars(sa.select(AuditEvent.action).filter_by(ticket_id=parent.id)).all()
    assert actions.count("link_add") == actions.count("link_remove") == 1


@pytest.mark.parametrize("body, field", [
    ({"kind": "relates_to", "ticket": "SELF"}, "ticket"),
    ({"kind": "relates_to", "ticket": "V000000001"}, "ticket"),
    ({"kind": "relates_to", "ticket": None}, "ticket"),
    ({"kind": "blocks", "ticket": "OTHER"}, "kind"),
    ({"kind": 3, "ticket": "OTHER"}, "kind"),
    ({"kind": "relates_to", "ticket": "LINKED"}, "ticket"),
    ({"kind": "child_of", "ticket": "OTHER"}, "ticket"),  # it has a parent already
    ({"kind": "parent_of", "ticket": "LINKED"}, "ticket"),
    ({"kind": "relates_to", "ticket": "OTHER", "note": "x"}, "note"),
])
def test_refusals_are_422_naming_the_field_and_change_nothing(api, make, body, field):
    ticket, linked, other = make.ticket(), make.ticket(), make.ticket()
    links.add_link(make.user(), linked, "parent_of", ticket.display_id)
    refs = {"SELF": ticket.display_id, "LINKED": linked.display_id, "OTHER": other.display_id}
    sent = {**body, "ticket": refs.get(body["ticket"], body["ticket"])}
    before = db.session.scalar(sa.select(sa.func.count()).select_from(TicketLink))
    response = api.post(path_of(ticket), json=sent)
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["error"]["fields"]) == [field]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TicketLink)) == before


def test_duplicate_of_closes_the_duplicate(api, make):
    original, duplicate = make.ticket(), make.ticket()
    response = api.post(path_of(duplicate), json={"kind": "duplicate_of", "ticket": original.display_id})
    assert response.status_code == 201 and response.get_json()["kind"] == "duplicate_of"
    assert api.get(f"/api/tickets/{duplicate.display_id}").get_json()["status"] == "CLOSED"
    notes = [c["body"] for c in api.get(f"/api/tickets/{original.display_id}/comments").get_json()["items"]]
    assert notes == [f"{duplicate.display_id} was marked as a duplicate of this ticket."]


def test_resolving_a_parent_with_open_children_is_409_unless_forced(api, make):
    parent, child = make.ticket(), make.ticket()
    api.post(path_of(parent), json={"kind": "parent_of", "ticket": child.display_id})
    refused = api.patch(f"/api/tickets/{parent.display_id}", json={"status": "RESOLVED", "severity": 1})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "open_children" and "1 open child ticket;" in error["message"]
    assert api.get(f"/api/tickets/{parent.display_id}").get_json()["severity"] == 3
    bad = api.patch(f"/api/tickets/{parent.display_id}", json={"status": "RESOLVED", "force": "yes"})
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["force"]
    forced = api.patch(f"/api/tickets/{parent.display_id}", json={"status": "RESOLVED", "force": True})
    assert forced.status_code == 200 and forced.get_json()["status"] == "RESOLVED"


def test_the_parent_filter_lists_its_children(api, make):
    parent, child, other = make.ticket(), make.ticket(), make.ticket()
    api.post(path_of(parent), json={"kind": "parent_of", "ticket": child.display_id})
    listed = api.get(f"/api/tickets?parent={parent.display_id.lower()}").get_json()["items"]
    assert [item["displayId"] for item in listed] == [child.display_id]
    unknown = api.get("/api/tickets?parent=V000000001")
    assert unknown.status_code == 422 and list(unknown.get_json()["error"]["fields"]) == ["parent"]
    assert other.display_id  # not listed


def test_a_bulk_filter_by_parent_changes_only_its_children(api, make):
    parent, kids, other = make.ticket(severity=5), [make.ticket(severity=5) for _ in range(2)], make.ticket(severity=5)
    for kid in kids:
        api.post(path_of(parent), json={"kind": "parent_of", "ticket": kid.display_id})
    response = api.post("/api/tickets/bulk", json={"filter": {"parent": parent.display_id}, "changes": {"severity": 2}})
    assert response.status_code == 202
    read = api.get(f"/api/bulk/{response.get_json()['id']}").get_json()
    assert sorted(read["updated"]) == sorted(kid.display_id for kid in kids)
    db.session.expire_all()
    assert [kid.severity for kid in kids] == [2, 2] and (parent.severity, other.severity) == (5, 5)
