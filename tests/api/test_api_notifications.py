"""/api/notifications and /api/notifications/read: the caller's inbox through services.inbox.
Notifications fan out inline after each commit here, so a comment made through the API has told
the watchers by the time the next request is made."""
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Notification
from webapp.services import comments, inbox, watchers


def comment_as(api, keys, kind, ticket, body):
    response = api.as_key(keys.key(kind)).post(f"/api/tickets/{ticket.display_id}/comments", json={"body": body})
    assert response.status_code == 201
    return response.get_json()


def watched_ticket(api, make):
    """A ticket filed by someone else that the service account (the `api` key) watches through the API."""
    ticket = make.ticket(actor=make.user(), title="Disk full on web-1", severity=2)
    assert api.post(f"/api/tickets/{ticket.display_id}/watchers").status_code == 201
    return ticket


def test_a_watching_service_account_is_told_of_an_agents_comment(api, make, keys):
    ticket = watched_ticket(api, make)
    assert api.get("/api/notifications").get_json() == {"items": [], "next": None, "unreadCount": 0}
    comment = comment_as(api, keys, "agent", ticket, "Cleared /var/log, 40% free now")
    response = api.get("/api/notifications")
    assert response.status_code == 200
    body = response.get_json()
    assert body["unreadCount"] == 1 and body["next"] is None and len(body["items"]) == 1
    item = body["items"][0]
    event_id = db.session.scalars(sa.select(Notification.audit_event_id).filter_by(recipient_id=keys.service.id)).one()
    assert item["id"].isdigit() and item["reason"] == "comment" and item["eventId"] == str(event_id)
    assert item["ticket"] == {"id": ticket.display_id, "title": "Disk full on web-1", "severity": 2, "status": "OPEN"}
    assert item["actor"] == {"id": str(keys.agent.id), "username": "alice", "displayName": "Alice"}
    assert "Alice" in item["summary"] and item["excerpt"].startswith("Cleared /var/log")
    assert item["url"] == f"http://localhost/tickets/{ticket.display_id}/comments#comment-{comment['id']}"
    assert item["readAt"] is None and item["createdAt"].endswith("Z")
    assert api.as_key(keys.key("agent")).get("/api/notifications").get_json()["items"] == []  # not of its own


def test_pages_follow_the_cursor_newest_first_and_keep_the_filter(api, make, keys):
    ticket = watched_ticket(api, make)
    for n in range(5):
        comment_as(api, keys, "agent", ticket, f"note {n}")
    seen, url, pages = [], "/api/notifications?limit=2", 0
    while url:
        body = api.get(url).get_json()
        assert len(body["items"]) <= 2 and body["unreadCount"] == 5
        seen += [item["excerpt"] for item in body["items"]]
        url, pages = body["next"], pages + 1
    assert seen == [f"note {n}" for n in reversed(range(5))] and pages == 3
    second = api.get("/api/notifications?unread=true&limit=3").get_json()["next"]
    assert "unread=true" in second and "limit=3" in second
    assert [item["excerpt"] for item in api.get(second).get_json()["items"]] == ["note 1", "note 0"]


def test_a_foreign_or_forged_cursor_and_bad_parameters_are_named(api, make, keys):
    make.ticket(actor=keys.service), make.ticket(actor=keys.service)
    tickets_cursor = api.get("/api/tickets?limit=1").get_json()["next"].split("cursor=")[1]
    for query, field in ((f"cursor={tickets_cursor}", "cursor"), ("cursor=nonsense", "cursor"),
                         ("unread=maybe", "unread"), ("unread=", "unread"), ("limit=0", "limit"), ("limit=101", "limit")):
        response = api.get(f"/api/notifications?{query}")
        assert response.status_code == 422, query
        assert list(response.get_json()["error"]["fields"]) == [field], query


def test_the_unread_filter_and_marking_by_ids(api, make, keys):
    ticket = watched_ticket(api, make)
    for n in range(3):
        comment_as(api, keys, "agent", ticket, f"note {n}")
    items = api.get("/api/notifications").get_json()["items"]
    newest, middle = items[0]["id"], items[1]["id"]
    marked = api.post("/api/notifications/read", json={"ids": [newest, int(middle), newest]})
    assert marked.status_code == 200 and marked.get_json() == {"marked": 2, "unreadCount": 1}
    assert api.post("/api/notifications/read", json={"ids": [newest]}).get_json() == {"marked": 0, "unreadCount": 1}
    unread = api.get("/api/notifications?unread=true").get_json()
    assert [item["excerpt"] for item in unread["items"]] == ["note 0"] and unread["unreadCount"] == 1
    everything = api.get("/api/notifications").get_json()["items"]
    assert [item["readAt"] is not None for item in everything] == [True, True, False]


def test_mark_all_read_and_all_of_one_ticket(api, make, keys):
    first, second = watched_ticket(api, make), watched_ticket(api, make)
    for ticket in (first, second, second):
        comment_as(api, keys, "agent", ticket, "seen")
    assert api.get("/api/notifications").get_json()["unreadCount"] == 3
    one = api.post("/api/notifications/read", json={"all": True, "ticket": second.display_id})
    assert one.status_code == 200 and one.get_json() == {"marked": 2, "unreadCount": 1}
    rest = api.post("/api/notifications/read", json={"all": True})
    assert rest.get_json() == {"marked": 1, "unreadCount": 0}
    assert api.get("/api/notifications?unread=true").get_json()["items"] == []
    missing = api.post("/api/notifications/read", json={"all": True, "ticket": "V000000001"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_another_persons_notification_is_not_found_and_nothing_is_marked(api, make, keys):
    ticket = watched_ticket(api, make)
    carol = make.user("carol")
    watchers.watch(carol, ticket)
    comment_as(api, keys, "agent", ticket, "for everyone watching")
    mine = api.get("/api/notifications").get_json()["items"][0]["id"]
    theirs = db.session.scalars(sa.select(Notification.id).filter_by(recipient_id=carol.id)).one()
    for ids in ([str(theirs)], [mine, str(theirs)], ["999999999"]):
        response = api.post("/api/notifications/read", json={"ids": ids})
        assert response.status_code == 404, ids
        assert response.get_json()["error"]["code"] == "not_found"
    assert inbox.unread_count(carol) == 1 and inbox.unread_count(keys.service) == 1


def test_bad_read_bodies_are_refused_naming_the_field(api, make, keys):
    ticket = watched_ticket(api, make)
    comments.add_comment(keys.agent, ticket, "one")
    mine = api.get("/api/notifications").get_json()["items"][0]["id"]
    cases = [
        ({}, "ids"), ({"ids": []}, "ids"), ({"ids": "1"}, "ids"), ({"ids": ["x"]}, "ids"), ({"ids": [True]}, "ids"),
        ({"ids": [mine] * 101}, "ids"), ({"all": False}, "all"), ({"all": "true"}, "all"),
        ({"ids": [mine], "all": True}, "all"), ({"ids": [mine], "ticket": ticket.display_id}, "ticket"),
        ({"ticket": ticket.display_id}, "ids"), ({"all": True, "ticket": 5}, "ticket"),
        ({"all": True, "ticket": "bad\x00ref"}, "ticket"), ({"all": True, "ticket": "V" * 65}, "ticket"),
        ({"all": True, "everything": True}, "everything"),
    ]
    for body, field in cases:
        response = api.post("/api/notifications/read", json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["error"]["fields"], (body, response.get_json())
    assert api.post("/api/notifications/read", json=["1"]).status_code == 400
    assert api.post("/api/notifications/read").status_code == 415
    assert inbox.unread_count(keys.service) == 1
