"""/api/tickets/{ref}/watchers: list, watch (the caller or a named user) and unwatch, through
services.watchers, every answer checked against the OpenAPI document (the `api` fixture)."""
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Role
from webapp.services import watchers


def path_of(ticket) -> str:
    return f"/api/tickets/{ticket.display_id}/watchers"


def names(response) -> list[str]:
    return [person["username"] for person in response.get_json()["items"]]


def test_the_list_names_each_watcher_as_a_user_in_the_order_they_started(api, make, keys):
    filer, carol = make.user("filer"), make.user("carol", display_name="Carol C")
    ticket = make.ticket(actor=filer)
    watchers.watch(carol, ticket)
    response = api.get(path_of(ticket))
    assert response.status_code == 200
    body = response.get_json()
    assert names(response) == ["filer", "carol"] and body["count"] == 2
    assert body["items"][1] == {"id": str(carol.id), "username": "carol", "displayName": "Carol C",
                                "role": "AGENT", "active": True}
    assert api.get("/api/tickets/V000000001/watchers").status_code == 404


def test_a_service_account_watches_itself_201_then_200_and_it_is_audited(api, make, keys):
    ticket = make.ticket(actor=keys.service)  # service accounts never watch on their own
    assert not watchers.is_watching(keys.service, ticket)
    added = api.post(path_of(ticket))
    assert added.status_code == 201 and names(added) == ["goddard"]
    assert watchers.is_watching(keys.service, ticket)
    again = api.post(path_of(ticket), json={})
    assert again.status_code == 200 and names(again) == ["goddard"]
    named = api.post(path_of(ticket), json={"user": "Goddard"})  # itself by name: allowed
    assert named.status_code == 200
    actions = db.session.scalars(sa.select(AuditEvent.action).filter_by(ticket_id=ticket.id)).all()
    assert actions.count("watch_add") == 1


def test_a_service_account_may_not_add_someone_else(api, make):
    ticket, carol = make.ticket(), make.user("carol")
    response = api.post(path_of(ticket), json={"user": "carol"})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert not watchers.is_watching(carol, ticket)


def test_an_agent_adds_someone_else_by_username(api, make, keys):
    ticket, carol = make.ticket(actor=keys.service), make.user("carol")
    response = api.as_key(keys.key("agent")).post(path_of(ticket), json={"user": "  CAROL "})
    assert response.status_code == 201 and names(response) == ["carol"]
    event = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="watch_add")).one()
    assert event.actor_id == keys.agent.id


def test_bad_watch_bodies_are_refused_naming_the_field(api, make):
    ticket = make.ticket()
    make.user("gone", active=False)
    for body in ({"user": "nobody-here"}, {"user": ""}, {"user": 7}, {"user": "gone"}, {"user": "bad\x00name"},
                 {"user": "x" * 65}):
        response = api.post(path_of(ticket), json=body)
        assert response.status_code == 422, body
        assert list(response.get_json()["error"]["fields"]) == ["user"], body
    unknown = api.post(path_of(ticket), json={"username": "carol"})
    assert unknown.status_code == 422 and "username" in unknown.get_json()["error"]["fields"]
    assert api.post(path_of(ticket), json=["carol"]).status_code == 400
    assert api.post(path_of(ticket), data="user=carol", content_type="text/plain").status_code == 415
    assert watchers.watchers(ticket) == [ticket.creator]


def test_unwatch_is_204_whether_or_not_they_watched(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    assert api.post(path_of(ticket)).status_code == 201
    assert api.delete(path_of(ticket)).status_code == 204
    assert not watchers.is_watching(keys.service, ticket)
    assert api.delete(path_of(ticket)).status_code == 204
    actions = db.session.scalars(sa.select(AuditEvent.action).filter_by(ticket_id=ticket.id)).all()
    assert actions.count("watch_remove") == 1
    assert api.get(path_of(ticket)).get_json() == {"items": [], "count": 0}


def test_only_an_admin_removes_someone_else(api, make, keys):
    carol = make.user("carol")
    ticket = make.ticket(actor=carol)  # the filer watches
    agent = api.as_key(keys.key("agent"))
    refused = agent.delete(path_of(ticket) + "?user=carol")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert api.delete(path_of(ticket) + "?user=carol").status_code == 403  # nor a service account
    assert watchers.is_watching(carol, ticket)
    assert api.as_key(keys.key("admin")).delete(path_of(ticket) + "?user=carol").status_code == 204
    assert not watchers.is_watching(carol, ticket)


def test_unwatch_names_a_bad_user_parameter(api, make, keys):
    ticket = make.ticket()
    for query in ("?user=", "?user=nobody-here", "?user=bad%00name"):
        response = api.as_key(keys.key("admin")).delete(path_of(ticket) + query)
        assert response.status_code == 422, query
        assert list(response.get_json()["error"]["fields"]) == ["user"], query
    assert watchers.is_watching(ticket.creator, ticket)


def test_a_watching_service_account_is_listed_with_its_role(api, make, keys):
    ticket = make.ticket()
    api.post(path_of(ticket))
    listed = api.get(path_of(ticket)).get_json()["items"]
    assert [person["role"] for person in listed] == ["AGENT", Role.SERVICE.value]


def test_the_count_is_exact_past_the_listed_watchers(api, make, monkeypatch):
    monkeypatch.setattr("webapp.services.watchers.WATCHERS_SHOWN", 2)
    ticket = make.ticket()
    for _ in range(2):
        watchers.watch(make.user(), ticket)
    body = api.get(path_of(ticket)).get_json()
    assert len(body["items"]) == 2 and body["count"] == 3
    assert body["items"][0]["username"] == ticket.creator.username
