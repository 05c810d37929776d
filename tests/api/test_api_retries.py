"""Safe retries: Idempotency-Key replays the first answer; dedupKey folds repeats into one open ticket."""
import json
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.models import Comment, IdempotencyRecord, Role, Status, Ticket
from webapp.services import tickets as ticket_service
from webapp.services.idempotency import purge_expired
from webapp.db.utc import utcnow

from .conftest import ticket_count

KEY = {"Idempotency-Key": "n8n-execution-4711"}


def test_same_key_and_body_replays_the_first_response(api, n8n_body):
    first = api.post("/api/tickets", json=n8n_body, headers=KEY)
    again = api.post("/api/tickets", json=n8n_body, headers=KEY)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert ticket_count() == 1


def test_replay_ignores_json_whitespace_and_key_order(api, n8n_body):
    api.post("/api/tickets", json=n8n_body, headers=KEY)
    reordered = json.dumps(dict(reversed(list(n8n_body.items()))), indent=4)
    again = api.post("/api/tickets", data=reordered, content_type="application/json", headers=KEY)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert ticket_count() == 1


def test_same_key_with_another_body_is_refused(api, n8n_body):
    api.post("/api/tickets", json=n8n_body, headers=KEY)
    response = api.post("/api/tickets", json={**n8n_body, "title": "Something else"}, headers=KEY)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["Idempotency-Key"]
    assert ticket_count() == 1


def test_same_key_on_another_route_is_refused(api, make, keys, n8n_body):
    ticket = make.ticket(actor=keys.service)
    api.post("/api/tickets", json=n8n_body, headers=KEY)
    response = api.post(f"/api/tickets/{ticket.id}/comments", json={"body": "hi"}, headers=KEY)
    assert response.status_code == 422


def test_keys_belong_to_their_caller(api, keys, n8n_body):
    api.post("/api/tickets", json=n8n_body, headers=KEY)
    other = api.as_key(keys.key("agent")).post("/api/tickets", json=n8n_body, headers=KEY)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert ticket_count() == 2


def test_record_is_stored_with_the_ticket(api, keys, n8n_body):
    created = api.post("/api/tickets", json=n8n_body, headers=KEY).get_json()
    record = db.session.scalar(db.select(IdempotencyRecord).filter_by(user_id=keys.service.id))
    assert record.key == KEY["Idempotency-Key"] and record.response_status == 201
    assert json.loads(record.response_body)["id"] == created["id"]


def test_refused_request_is_not_remembered(api, n8n_body):
    assert api.post("/api/tickets", json={**n8n_body, "severity": 0}, headers=KEY).status_code == 422
    fixed = api.post("/api/tickets", json=n8n_body, headers=KEY)
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers


def test_key_is_forgotten_after_24_hours(api, n8n_body):
    api.post("/api/tickets", json=n8n_body, headers=KEY)
    db.session.execute(db.update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    later = api.post("/api/tickets", json=n8n_body, headers=KEY)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert ticket_count() == 2


def test_purge_drops_only_expired_records(api, n8n_body):
    api.post("/api/tickets", json=n8n_body, headers={"Idempotency-Key": "old"})
    db.session.execute(db.update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    db.session.commit()
    api.post("/api/tickets", json=n8n_body, headers={"Idempotency-Key": "new"})
    assert purge_expired() == 1
    assert db.session.scalars(db.select(IdempotencyRecord.key)).all() == ["new"]


def test_comment_post_is_idempotent(api, make, keys):
    ticket = make.ticket(actor=keys.service)
    path = f"/api/tickets/{ticket.display_id}/comments"
    first = api.post(path, json={"body": "Backup verified."}, headers=KEY)
    again = api.post(path, json={"body": "Backup verified."}, headers=KEY)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment).filter_by(ticket_id=ticket.id)) == 1


@pytest.mark.parametrize("bad_key", ["", "k" * 256, "ключ"])
def test_unusable_idempotency_key_is_refused(api, n8n_body, bad_key):
    response = api.post("/api/tickets", json=n8n_body, headers={"Idempotency-Key": bad_key})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["Idempotency-Key"]
    assert ticket_count() == 0


def test_concurrent_twin_gets_the_winners_response(api, n8n_body, monkeypatch):
    """Two identical requests race: the loser's ticket is rolled back and it answers as the winner did."""
    from webapp.api import idempotency

    first = api.post("/api/tickets", json=n8n_body, headers=KEY)
    real_find = idempotency.find_record
    calls = []

    def miss_once(user, key):  # the twin looked before the winner committed
        calls.append(key)
        return None if len(calls) == 1 else real_find(user, key)

    monkeypatch.setattr(idempotency, "find_record", miss_once)
    twin = api.post("/api/tickets", json=n8n_body, headers=KEY)
    assert twin.status_code == 201 and twin.get_json() == first.get_json()
    assert twin.headers["Idempotent-Replayed"] == "true"
    assert ticket_count() == 1


def test_dedup_key_opens_one_ticket_and_comments_on_repeats(api, n8n_body):
    body = {**n8n_body, "dedupKey": "plex-backup-failed"}
    first = api.post("/api/tickets", json=body)
    again = api.post("/api/tickets", json={**body, "overview": "Failed again at 03:00."})

    assert first.status_code == 201 and first.get_json()["deduplicated"] is False
    assert again.status_code == 200 and again.get_json()["deduplicated"] is True
    assert again.get_json()["id"] == first.get_json()["id"]
    assert "Location" not in again.headers
    assert ticket_count() == 1
    comments = api.get(f"/api/tickets/{first.get_json()['displayId']}/comments").get_json()["items"]
    assert len(comments) == 1
    assert comments[0]["body"].startswith("**Occurred again:** [Plex] Backup")
    assert "Failed again at 03:00." in comments[0]["body"]


def test_dedup_applies_while_in_progress(api, keys, n8n_body):
    body = {**n8n_body, "dedupKey": "disk-full"}
    created = api.post("/api/tickets", json=body).get_json()
    api.patch(f"/api/tickets/{created['id']}", json={"status": "IN_PROGRESS"})
    assert api.post("/api/tickets", json=body).get_json()["deduplicated"] is True


def test_after_resolution_the_next_create_opens_a_new_ticket(api, n8n_body):
    body = {**n8n_body, "dedupKey": "disk-full"}
    first = api.post("/api/tickets", json=body).get_json()
    api.patch(f"/api/tickets/{first['id']}", json={"status": "RESOLVED"})
    second = api.post("/api/tickets", json=body)
    assert second.status_code == 201 and second.get_json()["id"] != first["id"]
    third = api.post("/api/tickets", json=body)
    assert third.status_code == 200 and third.get_json()["id"] == second.get_json()["id"]


def test_different_dedup_keys_do_not_mix(api, n8n_body):
    api.post("/api/tickets", json={**n8n_body, "dedupKey": "a"})
    assert api.post("/api/tickets", json={**n8n_body, "dedupKey": "b"}).status_code == 201
    assert api.post("/api/tickets", json=n8n_body).status_code == 201
    assert ticket_count() == 3


def test_invalid_repeat_is_refused_even_while_deduplicating(api, n8n_body):
    body = {**n8n_body, "dedupKey": "k"}
    api.post("/api/tickets", json=body)
    assert api.post("/api/tickets", json={**body, "severity": 9}).status_code == 422


def test_dedup_race_comments_on_the_winners_ticket(make, keys, n8n_cti, monkeypatch):
    """Two monitors report at once: the loser's insert hits the unique index and it comments instead."""
    category, cti_type, item = n8n_cti
    fields = dict(title="Disk full", severity=2, category_id=category.id, type_id=cti_type.id,
                  item_id=item.id, dedup_key="disk-full")
    winner, _ = ticket_service.create_or_dedup(keys.service, **fields)
    real_lookup = ticket_service.open_ticket_with_dedup_key
    calls = []

    def miss_once(dedup_key):
        calls.append(dedup_key)
        return None if len(calls) == 1 else real_lookup(dedup_key)

    monkeypatch.setattr(ticket_service, "open_ticket_with_dedup_key", miss_once)
    ticket, deduplicated = ticket_service.create_or_dedup(keys.service, **fields)
    assert deduplicated and ticket.id == winner.id
    assert db.session.scalar(db.select(db.func.count()).select_from(Ticket)) == 1


def test_idempotent_replay_of_a_deduplicated_create(api, n8n_body):
    body = {**n8n_body, "dedupKey": "k"}
    api.post("/api/tickets", json=body)
    first = api.post("/api/tickets", json=body, headers=KEY)
    again = api.post("/api/tickets", json=body, headers=KEY)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 1


def test_closed_dedup_ticket_no_longer_matches(make, keys, n8n_cti):
    category, cti_type, item = n8n_cti
    fields = dict(title="Flapping", severity=3, category_id=category.id, type_id=cti_type.id,
                  item_id=item.id, dedup_key="flap")
    first, _ = ticket_service.create_or_dedup(keys.service, **fields)
    ticket_service.change_status(keys.service, first, Status.RESOLVED)
    ticket_service.change_status(keys.service, first, Status.CLOSED)
    second, deduplicated = ticket_service.create_or_dedup(make.user(role=Role.SERVICE), **fields)
    assert not deduplicated and second.id != first.id


def test_expired_records_are_purged_by_an_hourly_job():
    from webapp.jobs.tasks import PERIODIC

    [job] = [p for p in PERIODIC if p.path == "webapp.jobs.tasks.purge_idempotency_records"]
    assert job.cron == "30 * * * *" and job.every == 3600
