"""Lists: queue order, filters, and keyset pages that stay stable while tickets are created."""
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from webapp.extensions import db
from webapp.models import Role, Status
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow


def _aged(ticket, minutes_ago: int):
    ticket.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return ticket


def _follow(api, url: str) -> tuple[list[dict], int]:
    """Every item of a list, following `next` to the end; also how many pages it took."""
    items, pages = [], 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        items += body["items"]
        url, pages = body["next"], pages + 1
    return items, pages


def test_tickets_sorted_sev_first_then_oldest(api, make, keys):
    made = {
        "sev3-old": _aged(make.ticket(actor=keys.service, severity=3), 50),
        "sev1-new": _aged(make.ticket(actor=keys.service, severity=1), 5),
        "sev3-new": _aged(make.ticket(actor=keys.service, severity=3), 10),
        "sev1-old": _aged(make.ticket(actor=keys.service, severity=1), 40),
        "sev5": _aged(make.ticket(actor=keys.service, severity=5), 100),
    }
    order = [item["displayId"] for item in api.get("/api/tickets").get_json()["items"]]
    names = {ticket.display_id: name for name, ticket in made.items()}
    assert [names[d] for d in order] == ["sev1-old", "sev1-new", "sev3-old", "sev3-new", "sev5"]


def test_pages_follow_next_until_null(api, make, keys):
    made = {make.ticket(actor=keys.service, severity=s % 5 + 1).display_id for s in range(7)}
    items, pages = _follow(api, "/api/tickets?limit=3")
    assert pages == 3
    assert [item["displayId"] for item in items if item["displayId"] in made] == [
        item["displayId"] for item in api.get("/api/tickets?limit=100").get_json()["items"]]
    assert len(items) == len({item["id"] for item in items}) == 7


def test_last_page_has_null_next(api, make, keys):
    make.ticket(actor=keys.service)
    body = api.get("/api/tickets?limit=1").get_json()
    assert len(body["items"]) == 1 and body["next"] is None


def test_paging_while_tickets_are_created_skips_and_repeats_nothing(api, make, keys, n8n_body):
    existing = {_aged(make.ticket(actor=keys.service, severity=s), 60 - i).display_id
                for i, s in enumerate([1, 1, 2, 3, 3, 3, 4, 5, 5])}
    url, seen = "/api/tickets?limit=2", []
    # Another client files tickets between our first pages: some sort before our position, some after.
    interleaved = iter([(1, 5), (3, 1), (2, 5), (4, 1), (3, 5)])
    for _ in range(30):
        page = api.get(url).get_json()
        seen += [item["displayId"] for item in page["items"]]
        for severity in next(interleaved, ()):
            assert api.post("/api/tickets", json={**n8n_body, "severity": severity}).status_code == 201
        url = page["next"]
        if url is None:
            break
    assert url is None, "paging never reached the last page"
    assert len(seen) == len(set(seen)), "a ticket was repeated across pages"
    assert existing <= set(seen), "a ticket that existed before paging began was skipped"
    queue_key = {t["displayId"]: (t["severity"], t["createdAt"], int(t["id"]))
                 for t in api.get("/api/tickets?limit=100").get_json()["items"]}
    assert [queue_key[d] for d in seen] == sorted(queue_key[d] for d in seen)


def test_tickets_created_in_the_same_instant_page_by_id(api, make, keys):
    moment = utcnow() - timedelta(minutes=5)
    made = [make.ticket(actor=keys.service, severity=2) for _ in range(5)]
    for ticket in made:
        ticket.created_at = moment
    db.session.commit()
    items, _ = _follow(api, "/api/tickets?limit=2&severity=2")
    assert [int(item["id"]) for item in items] == sorted(t.id for t in made)


def test_next_url_keeps_the_filters(api, make, keys):
    for _ in range(3):
        make.ticket(actor=keys.service, severity=2)
    next_url = api.get("/api/tickets?severity=2&status=OPEN&limit=1").get_json()["next"]
    query = parse_qs(urlsplit(next_url).query)
    assert query["severity"] == ["2"] and query["status"] == ["OPEN"] and query["limit"] == ["1"]
    assert next_url.startswith("http://")


def test_filter_by_status_single_repeated_and_comma_separated(api, make, keys):
    open_ticket = make.ticket(actor=keys.service)
    resolved = make.ticket(actor=keys.service)
    change_status(keys.service, resolved, Status.RESOLVED)
    progress = make.ticket(actor=keys.service)
    change_status(keys.service, progress, Status.IN_PROGRESS)

    def ids(query):
        return {item["displayId"] for item in api.get(f"/api/tickets?{query}").get_json()["items"]}

    assert ids("status=OPEN") == {open_ticket.display_id}
    assert ids("status=open") == {open_ticket.display_id}
    assert ids("status=OPEN&status=RESOLVED") == ids("status=OPEN,RESOLVED") == {
        open_ticket.display_id, resolved.display_id}
    assert ids("") == {open_ticket.display_id, resolved.display_id, progress.display_id}


def test_filter_by_severity_category_and_assignee(api, make, keys):
    agent = make.user(role=Role.AGENT)
    network = make.cti("Network", "Firewall", "Rules")
    a = make.ticket(actor=keys.service, severity=1, assignee=agent)
    b = make.ticket(actor=keys.service, severity=2, cti=network)
    c = make.ticket(actor=keys.service, severity=4)

    def ids(query):
        return {item["displayId"] for item in api.get(f"/api/tickets?{query}").get_json()["items"]}

    assert ids("severity=1,2") == {a.display_id, b.display_id}
    assert ids(f"categoryId={network[0].id}") == {b.display_id}
    assert ids(f"assigneeId={agent.id}") == {a.display_id}
    assert ids("assigneeId=none") == {b.display_id, c.display_id}


def test_filter_updated_since(api, make, keys):
    old = make.ticket(actor=keys.service)
    old.updated_at = utcnow() - timedelta(days=2)
    db.session.commit()
    fresh = make.ticket(actor=keys.service)
    since = (utcnow() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    items = api.get(f"/api/tickets?updatedSince={since}").get_json()["items"]
    assert [item["displayId"] for item in items] == [fresh.display_id]
    naive = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert len(api.get(f"/api/tickets?updatedSince={naive}").get_json()["items"]) == 1


def test_filter_by_dedup_key_finds_a_monitors_ticket(api, n8n_body):
    created = api.post("/api/tickets", json={**n8n_body, "dedupKey": "plex-down"}).get_json()
    api.post("/api/tickets", json={**n8n_body, "dedupKey": "other"})
    items = api.get("/api/tickets?dedupKey=plex-down&status=OPEN,IN_PROGRESS").get_json()["items"]
    assert [item["id"] for item in items] == [created["id"]]


def test_comments_list_pages_and_hides_deleted(api, make, keys):
    from webapp.services.comments import add_comment, delete_comment

    ticket = make.ticket(actor=keys.service)
    comments = [add_comment(keys.service, ticket, f"note {n}") for n in range(5)]
    delete_comment(keys.service, comments[1])
    items, pages = _follow(api, f"/api/tickets/{ticket.display_id}/comments?limit=2")
    assert [item["body"] for item in items] == ["note 0", "note 2", "note 3", "note 4"]
    assert pages == 2


def test_audit_lists_every_event_in_order(api, make, keys):
    ticket = make.ticket(actor=keys.service, severity=3)
    api.patch(f"/api/tickets/{ticket.display_id}", json={"severity": 1, "title": "Now urgent"})
    comment = api.post(f"/api/tickets/{ticket.display_id}/comments", json={"body": "on it"}).get_json()
    api.delete(f"/api/tickets/{ticket.display_id}/comments/{comment['id']}")
    items, _ = _follow(api, f"/api/tickets/{ticket.display_id}/audit?limit=2")
    assert [item["action"] for item in items] == [
        "create", "title", "severity", "comment_add", "comment_delete"]
    severity = items[2]
    assert (severity["before"], severity["after"]) == (3, 1)
    assert severity["actor"]["username"] == "goddard"
    assert items[4]["before"]["body"] == "on it"


def test_ids_inside_audited_values_are_strings_like_every_other_id(api, make, keys):
    ticket = make.ticket(actor=keys.service, severity=3, assignee=keys.service)
    created = _follow(api, f"/api/tickets/{ticket.display_id}/audit")[0][0]
    assert created["after"]["assignee"]["id"] == str(keys.service.id)
    route = created["after"]["cti"]
    assert (route["categoryId"], route["typeId"], route["itemId"]) == (
        str(ticket.category_id), str(ticket.type_id), str(ticket.item_id))
    assert created["after"]["severity"] == 3  # numbers that are not ids stay numbers


def test_cti_lists_active_entries_unless_asked(api, make):
    category, cti_type, backup = make.cti("TheWrightServer", "Automation", "Backup")
    make.cti("TheWrightServer", "Automation", "Old job", active=False)
    other = make.cti("Zeta", "Things", "Stuff")[0]
    other.active = False
    db.session.commit()

    names = [c["name"] for c in api.get("/api/cti/categories").get_json()["items"]]
    assert names == ["TheWrightServer"]
    everything = api.get("/api/cti/categories?includeInactive=true").get_json()["items"]
    assert [c["name"] for c in everything] == ["TheWrightServer", "Zeta"]
    types = api.get(f"/api/cti/types?categoryId={category.id}").get_json()["items"]
    assert types == [{"id": str(cti_type.id), "name": "Automation", "active": True, "categoryId": str(category.id)}]
    items = api.get(f"/api/cti/items?typeId={cti_type.id}").get_json()["items"]
    assert [i["name"] for i in items] == ["Backup"] and items[0]["id"] == str(backup.id)
    all_items = api.get(f"/api/cti/items?typeId={cti_type.id}&includeInactive=1").get_json()["items"]
    assert [(i["name"], i["active"]) for i in all_items] == [("Backup", True), ("Old job", False)]


def test_users_list_finds_assignee_ids(api, make, keys):
    keys.service  # noqa: B018 - make goddard exist
    make.user("zed", role=Role.AGENT)
    make.user("gone", role=Role.AGENT, active=False)
    usernames = [u["username"] for u in api.get("/api/users").get_json()["items"]]
    assert usernames == ["goddard", "zed"]
    found = api.get("/api/users?username=Goddard").get_json()["items"]
    assert [u["id"] for u in found] == [str(keys.service.id)]
    everyone = [u["username"] for u in api.get("/api/users?includeInactive=true").get_json()["items"]]
    assert everyone == ["goddard", "gone", "zed"]


@pytest.mark.parametrize("path", ["/api/cti/categories", "/api/users"])
def test_short_lists_page_too(api, make, path):
    for n in range(3):
        make.cti(f"Cat {n}", "T", "I")
        make.user(f"person{n}")
    items, pages = _follow(api, f"{path}?limit=2")
    assert pages >= 2 and len(items) == len({item["id"] for item in items})


def test_cursor_from_another_list_is_refused(api, make, keys):
    for n in range(2):
        make.ticket(actor=keys.service)
    cursor = parse_qs(urlsplit(api.get("/api/tickets?limit=1").get_json()["next"]).query)["cursor"][0]
    response = api.get(f"/api/users?cursor={cursor}")
    assert response.status_code == 422 and "cursor" in response.get_json()["error"]["fields"]
