"""The saved-views API: CRUD as documented, who may see and change what, refusals by field, and a
view's tickets paged exactly like /api/tickets."""
import pytest

from webapp.services import saved_views as service


def create(api, key, **body):
    return api.post("/api/views", json=body, key=key)


def test_create_read_change_delete(api, keys):
    key = keys.key("agent")
    created = create(api, key, name="Urgent", filters={"severity": [1, 2], "assigneeId": "me"})
    assert created.status_code == 201
    view = created.get_json()
    assert created.headers["Location"] == f"http://localhost/api/views/{view['id']}"
    assert view | {"id": None} == {
        "id": None, "name": "Urgent", "shared": False, "builtIn": False,
        "owner": {"id": str(keys.agent.id), "username": "alice", "displayName": "Alice"},
        "filters": {"severity": "1,2", "assignee": "me"}, "canEdit": True,
        "url": "http://localhost/?severity=1,2&assignee=me",
        "ticketsUrl": f"http://localhost/api/views/{view['id']}/tickets",
    }
    path = f"/api/views/{view['id']}"
    assert api.get(path, key=key).get_json() == view
    changed = api.patch(path, json={"name": "Urgent, shared", "shared": True, "filters": {"status": "all"}}, key=key)
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["shared"], changed.get_json()["filters"]) == (
        "Urgent, shared", True, {"status": "all"})
    assert api.delete(path, key=key).status_code == 204
    assert api.get(path, key=key).status_code == 404


def test_the_list_holds_shared_views_and_ones_own_only(api, keys, make):
    other = make.user("other")
    service.create_view(other, name="Theirs alone", filters={})
    service.create_view(other, name="Theirs, shared", filters={}, shared=True)
    create(api, keys.key("agent"), name="Mine", filters={})
    names = [view["name"] for view in api.get("/api/views", key=keys.key("agent")).get_json()["items"]]
    assert names == ["Open queue", "My tickets", "Theirs, shared", "Mine"]


def test_the_list_pages(api, keys):
    for n in range(3):
        create(api, keys.key("agent"), name=f"View {n}")
    names, url = [], "/api/views?limit=2"
    while url:
        page = api.get(url, key=keys.key("agent")).get_json()
        assert len(page["items"]) <= 2
        names += [view["name"] for view in page["items"]]
        url = page["next"]
    assert names == ["Open queue", "My tickets", "View 0", "View 1", "View 2"]


@pytest.mark.parametrize("body,fields", [
    ({}, {"name"}), ({"name": ""}, {"name"}), ({"name": "x" * 81}, {"name"}), ({"name": "a\u0007b"}, {"name"}),
    ({"name": "ok", "shared": "yes"}, {"shared"}), ({"name": "ok", "filters": []}, {"filters"}),
    ({"name": "ok", "filters": {"severity": "7"}}, {"filters.severity"}),
    ({"name": "ok", "filters": {"status": "WAITING", "categoryId": "x"}}, {"filters.status", "filters.categoryId"}),
    ({"name": "ok", "filters": {"nonsense": "1"}}, {"filters.nonsense"}),
    ({"name": "ok", "colour": "red"}, {"colour"}),
])
def test_bad_input_is_refused_naming_each_field(api, keys, body, fields):
    response = create(api, keys.key("agent"), **body)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == fields


def test_a_name_taken_among_the_shared_views_is_refused(api, keys):
    response = create(api, keys.key("agent"), name="open QUEUE", shared=True)
    assert response.status_code == 422 and "already exists" in response.get_json()["error"]["fields"]["name"]


@pytest.mark.parametrize("caller,status", [("agent", 403), ("admin", 200)])
def test_a_shared_view_is_changed_by_its_owner_or_an_admin(api, keys, make, caller, status):
    owner = make.user("owner")
    view = service.create_view(owner, name="Team", filters={}, shared=True)
    key = keys.key(caller)
    assert api.get(f"/api/views/{view.id}", key=key).get_json()["canEdit"] is (status == 200)
    assert api.patch(f"/api/views/{view.id}", json={"name": "Renamed"}, key=key).status_code == status
    assert api.delete(f"/api/views/{view.id}", key=key).status_code == (204 if status == 200 else 403)


@pytest.mark.parametrize("caller", ["agent", "admin", "service"])
def test_another_persons_personal_view_is_not_found(api, keys, make, caller):
    view = service.create_view(make.user("owner"), name="Private", filters={})
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/tickets")):
        response = api.request(method, f"/api/views/{view.id}{path}", json={} if method == "PATCH" else None,
                               key=keys.key(caller))
        assert response.status_code == 404, (method, path)


def test_a_builtin_view_cannot_be_made_personal(api, keys):
    builtin = next(v for v in api.get("/api/views", key=keys.key("admin")).get_json()["items"] if v["builtIn"])
    response = api.patch(f"/api/views/{builtin['id']}", json={"shared": False}, key=keys.key("admin"))
    assert response.status_code == 422 and set(response.get_json()["error"]["fields"]) == {"shared"}


def test_a_views_tickets_are_the_ticket_lists_for_the_same_filters_page_by_page(api, keys, make):
    agent = keys.agent
    for n in range(5):
        make.ticket(severity=n % 2 + 1, assignee=agent if n != 2 else None)
    make.ticket(severity=3, assignee=agent)
    view = create(api, keys.key("agent"), name="Mine, SEV 1-2",
                  filters={"assignee": "me", "severity": "1,2"}).get_json()

    def walk(url):
        items = []
        while url:
            page = api.get(url, key=keys.key("agent")).get_json()
            items += page["items"]
            url = page["next"]
        return items

    from_view = walk(f"/api/views/{view['id']}/tickets?limit=2")
    assert len(from_view) == 4
    assert from_view == walk("/api/tickets?assigneeId=me&severity=1,2&status=active&limit=2")


def test_me_in_a_shared_view_is_whoever_asks(api, keys, make):
    mine = make.ticket(assignee=keys.service)
    theirs = make.ticket(assignee=keys.agent)
    view = create(api, keys.key("agent"), name="Ours", shared=True, filters={"assignee": "me"}).get_json()
    listed = {kind: [t["displayId"] for t in api.get(f"/api/views/{view['id']}/tickets", key=keys.key(kind))
                     .get_json()["items"]] for kind in ("service", "agent")}
    assert listed == {"service": [mine.display_id], "agent": [theirs.display_id]}
