"""Real races: simultaneous retries and simultaneous monitor reports, each request in its own
thread and transaction, against a database of this module's own (PostgreSQL, or a SQLite file)."""
import threading

import pytest

from webapp.extensions import db
from webapp.models import Comment, Role, Ticket

from ..conftest import committing_app
from ..factories import Factories

THREADS = 6


@pytest.fixture(scope="module")
def committed(database_url, tmp_path_factory):
    """An app whose commits are real, with a service key and a CTI chain."""
    with committing_app(database_url, "race", tmp_path_factory.mktemp("race"), API_RATE_LIMIT="1000 per minute") as app:
        with app.app_context():
            make = Factories()
            service = make.user("race-bot", role=Role.SERVICE)
            category, cti_type, item = make.cti("Race", "Track", "Lane")
            body = {"title": "Disk full", "severity": 2, "categoryId": str(category.id),
                    "typeId": str(cti_type.id), "itemId": str(item.id)}
            db.session.remove()  # hold no transaction (on SQLite: no lock) while the threads run
        yield app, service.plain_api_key, body


def _simultaneously(app, key, body, headers=None):
    """POST the same request from THREADS threads released at the same instant."""
    barrier, results = threading.Barrier(THREADS), []

    def post():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/tickets", json=body, headers={"X-Api-Key": key, **(headers or {})})
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _count(app, model, **filters):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))


def test_simultaneous_retries_create_one_ticket(committed):
    app, key, body = committed
    results = _simultaneously(app, key, {**body, "title": "Retried"}, {"Idempotency-Key": "race-1"})
    assert [status for status, _ in results] == [201] * THREADS
    assert len({answer["id"] for _, answer in results}) == 1
    assert _count(app, Ticket, title="Retried") == 1


def test_simultaneous_monitor_reports_open_one_ticket(committed):
    app, key, body = committed
    results = _simultaneously(app, key, {**body, "title": "Flapping", "dedupKey": "race-flap"})
    assert sorted(status for status, _ in results) == [200] * (THREADS - 1) + [201]
    assert len({answer["id"] for _, answer in results}) == 1
    ticket_id = int(results[0][1]["id"])
    assert _count(app, Ticket, dedup_key="race-flap") == 1
    assert _count(app, Comment, ticket_id=ticket_id) == THREADS - 1


def test_paging_while_other_threads_create_tickets(committed):
    app, key, body = committed
    client, headers = app.test_client(), {"X-Api-Key": key}
    for severity in (1, 2, 3, 4, 5, 3, 2):
        assert client.post("/api/tickets", json={**body, "title": "Before", "severity": severity},
                           headers=headers).status_code == 201
    before = {t["id"] for t in client.get("/api/tickets?limit=100", headers=headers).get_json()["items"]}
    stop = threading.Event()

    def file_tickets(severity):
        writer = app.test_client()
        for _ in range(10):
            if stop.is_set():
                return
            writer.post("/api/tickets", json={**body, "title": "During", "severity": severity}, headers=headers)

    writers = [threading.Thread(target=file_tickets, args=(s,)) for s in (1, 5)]
    for writer in writers:
        writer.start()
    seen, url = [], "/api/tickets?limit=3"
    try:
        while url:
            page = client.get(url, headers=headers).get_json()
            seen += [t["id"] for t in page["items"]]
            url = page["next"]
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=30)
    assert len(seen) == len(set(seen)), "a ticket was repeated across pages"
    assert before <= set(seen), "a ticket that existed before paging began was skipped"
