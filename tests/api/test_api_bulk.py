"""POST /api/tickets/bulk and GET /api/bulk/{job}: listed tickets change at once, a filter's as a job,
and every refusal is reported per ticket; every answer is checked against the OpenAPI document."""
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, Comment, OutboxEvent, Role, Status
from webapp.services.tickets import change_status

BULK = "/api/tickets/bulk"


def events(ticket, action):
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action=action)))


def closed(make, actor):
    ticket = make.ticket(actor=actor)
    change_status(actor, ticket, "RESOLVED")
    change_status(actor, ticket, "CLOSED")
    return ticket


def test_listed_tickets_change_at_once_and_each_refusal_is_reported(api, make, keys):
    robot = keys.service
    first, second, final, moved = make.ticket(actor=robot), make.ticket(actor=robot), closed(make, robot), make.ticket()
    change_status(robot, moved, "IN_PROGRESS")
    body = {"tickets": [first.display_id, second.display_id.lower(), final.display_id,
                        {"ticket": moved.display_id, "version": 1}, "V000000000", first.display_id],
            "changes": {"status": "RESOLVED"}}
    response = api.post(BULK, json=body)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["updated"] == [first.display_id, second.display_id]
    failed = {f["ticket"]: f["error"] for f in answer["failed"]}
    assert list(failed) == [final.display_id, moved.display_id, "V000000000", first.display_id]
    assert failed[final.display_id] == {"code": "invalid", "message": "status: Closed tickets are final; file a new "
                                        "ticket instead.", "fields": {"status": "Closed tickets are final; file a "
                                                                                "new ticket instead."}}
    assert failed[moved.display_id]["code"] == "conflict" and "version 1, now 2" in failed[moved.display_id]["message"]
    assert failed["V000000000"]["code"] == "not_found" and failed[first.display_id]["code"] == "duplicate"
    for ticket in (first, second):
        [event] = events(ticket, "status")
        assert event.after == "RESOLVED" and event.actor_id == robot.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                 .filter_by(audit_event_id=event.id)) == 1
    assert moved.status == Status.IN_PROGRESS


def test_a_comment_is_one_of_the_changes(api, make, keys):
    tickets = [make.ticket(actor=keys.service) for _ in range(2)]
    response = api.post(BULK, json={"tickets": [t.display_id for t in tickets],
                                    "changes": {"severity": "2", "assigneeId": str(keys.service.id),
                                                "comment": "Picked up by **goddard**."}})
    assert response.get_json() == {"updated": [t.display_id for t in tickets], "failed": []}
    for ticket in tickets:
        assert (ticket.severity, ticket.assignee_id) == (2, keys.service.id)
        [comment] = db.session.scalars(sa.select(Comment).filter_by(ticket_id=ticket.id))
        assert comment.body == "Picked up by **goddard**." and len(events(ticket, "comment_add")) == 1


def test_ten_thousand_tickets_are_taken_and_ten_thousand_and_one_refused(api):
    refs = [f"V{n:09d}" for n in range(10_001)]
    refused = api.post(BULK, json={"tickets": refs, "changes": {"severity": 2}})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {
        "tickets": "At most 10,000 tickets a bulk change (10,001 given); split the list, or select by filter."}
    taken = api.post(BULK, json={"tickets": refs[:10_000], "changes": {"severity": 2}})
    assert taken.status_code == 202  # more than a hundred: a job
    job = api.get(taken.headers["Location"]).get_json()
    assert (job["status"], job["total"], job["done"], job["failedCount"]) == ("done", 10_000, 10_000, 10_000)
    assert {f["error"]["code"] for f in job["failed"]} == {"not_found"}


def test_a_filter_runs_as_a_job_whose_progress_and_results_can_be_read(api, make, keys):
    cti = make.cti("Backups", "Nightly", "plex")
    mine = [make.ticket(actor=keys.service, cti=cti, severity=5) for _ in range(3)]
    closed_one = closed(make, keys.service)
    other = make.ticket(actor=keys.service, severity=5)
    response = api.post(BULK, json={"filter": {"categoryId": cti[0].id, "status": ["OPEN", "IN_PROGRESS"]},
                                    "changes": {"status": "RESOLVED"}})
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == job["url"] and job["url"].endswith(f"/api/bulk/{job['id']}")
    assert job["changes"] == {"status": "RESOLVED"}
    assert job["filter"] == {"categoryId": [str(cti[0].id)], "status": ["OPEN", "IN_PROGRESS"]}
    read = api.get(f"/api/bulk/{job['id']}").get_json()
    assert (read["status"], read["total"], read["done"], read["failedCount"]) == ("done", 3, 3, 0)
    assert sorted(read["updated"]) == sorted(t.display_id for t in mine) and read["failed"] == []
    assert read["finishedAt"] and read["startedAt"]
    assert all(t.status == Status.RESOLVED for t in mine)
    assert other.status == Status.OPEN and closed_one.status == Status.CLOSED


def test_a_filter_with_a_search_changes_only_the_matches(api, make, keys):
    """`q` selects as GET /api/tickets?q= does: with the other filters, and through every status given."""
    disks = [make.ticket(actor=keys.service, title=f"Disk full on web0{n}", severity=4) for n in (1, 2)]
    unrelated = make.ticket(actor=keys.service, title="Printer jam", severity=4)
    other_sev = make.ticket(actor=keys.service, title="Disk full on db01", severity=2)
    response = api.post(BULK, json={"filter": {"q": "disk", "severity": 4}, "changes": {"severity": 3}})
    assert response.status_code == 202
    read = api.get(response.headers["Location"]).get_json()
    assert (read["status"], read["total"]) == ("done", 2)
    assert sorted(read["updated"]) == sorted(t.display_id for t in disks)
    assert [t.severity for t in disks] == [3, 3] and unrelated.severity == 4 and other_sev.severity == 2


def test_a_filter_whose_search_cannot_run_is_refused_by_name(api):
    response = api.post(BULK, json={"filter": {"q": "the of"}, "changes": {"severity": 3}})
    assert response.status_code == 422 and "filter.q" in response.get_json()["error"]["fields"]


def test_a_job_is_only_shown_to_its_owner(api, make, keys):
    api.post(BULK, json={"filter": {"dedupKey": "nothing-matches"}, "changes": {"severity": 1}})
    job_id = db.session.scalar(sa.select(BulkJob.id))
    assert api.get(f"/api/bulk/{job_id}").status_code == 200
    other = api.as_key(keys.agent.plain_api_key).get(f"/api/bulk/{job_id}")
    assert other.status_code == 404 and other.get_json()["error"]["code"] == "not_found"
    assert api.as_key(keys.admin.plain_api_key).get(f"/api/bulk/{job_id}").status_code == 200
    assert api.get("/api/bulk/999999").status_code == 404


def test_bad_bodies_name_each_bad_field(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    cases = [
        ({"tickets": [ticket.display_id], "changes": {"status": "DONE", "assigneeId": "999999", "colour": "red"}},
         {"changes.colour"}),
        ({"tickets": [ticket.display_id], "changes": {"status": "DONE", "assigneeId": "999999"}},
         {"changes.status", "changes.assigneeId"}),
        ({"tickets": [ticket.display_id], "changes": {"categoryId": "1"}}, {"changes.itemId"}),
        ({"tickets": [ticket.display_id], "changes": {}}, {"changes"}),
        ({"tickets": [ticket.display_id, 7, {"ticket": "V1", "version": "x"}], "changes": {"severity": 1}},
         {"tickets[1]", "tickets[2].version"}),
        ({"tickets": [], "changes": {"severity": 1}}, {"tickets"}),
        ({"filter": {"severity": "9", "stauts": "OPEN"}, "changes": {"severity": 1}}, {"filter.stauts"}),
        ({"filter": {"severity": "9"}, "changes": {"severity": 1}}, {"filter.severity"}),
        ({"filter": {"status": {"nested": True}}, "changes": {"severity": 1}}, {"filter.status"}),
        ({"tickets": [ticket.display_id], "filter": {}, "changes": {"severity": 1}}, {"tickets", "filter"}),
        ({"changes": {"severity": 1}}, {"tickets"}),
        ({"tickets": [ticket.display_id], "changes": {"comment": "a\x00b"}}, {"changes.comment"}),
    ]
    for body, fields in cases:
        response = api.post(BULK, json=body)
        assert response.status_code == 422, body
        assert set(response.get_json()["error"]["fields"]) == fields, body
    assert [e.action for e in db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id))] == ["create"]


def test_a_retry_with_the_same_idempotency_key_changes_nothing_twice(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    body = {"tickets": [ticket.display_id], "changes": {"comment": "Backup verified."}}
    first = api.post(BULK, json=body, headers={"Idempotency-Key": "bulk-1"})
    again = api.post(BULK, json=body, headers={"Idempotency-Key": "bulk-1"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert len(events(ticket, "comment_add")) == 1


def test_options_lists_only_the_bulk_methods(client, keys):
    """Not the GET and PATCH of /api/tickets/{ref}, whose rule matches this path too."""
    response = client.options(BULK, headers={"X-Api-Key": keys.service.plain_api_key})
    assert response.status_code == 200 and response.headers["Allow"] == "OPTIONS, POST"


def test_agents_and_admins_with_a_personal_key_may_change_tickets_in_bulk(api, make, keys):
    ticket = make.ticket()
    for kind in ("agent", "admin"):
        response = api.as_key(keys.key(kind)).post(BULK, json={"tickets": [ticket.display_id],
                                                               "changes": {"severity": 1 if kind == "agent" else 2}})
        assert response.status_code == 200 and response.get_json()["updated"] == [ticket.display_id]
    assert ticket.severity == 2 and keys.user("admin").role == Role.ADMIN
    assert api.as_key(keys.key("deactivated")).post(BULK, json={"tickets": [ticket.display_id],
                                                                "changes": {"severity": 1}}).status_code == 401
