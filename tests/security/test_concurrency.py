"""Races with real threads and real commits: PATCH against PATCH, a burst of creates, a burst of
comments, and the auto-close sweep against a re-open. Each test has a database of its own
(tests/jobs_fixtures.py), so what one thread commits the others really see."""
import os
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from webapp.extensions import db
from webapp.models import AuditEvent, Comment, OutboxEvent, Role, Status, Ticket, User
from webapp.services import Conflict, ValidationError
from webapp.services import comments as comment_service
from webapp.services import sweep
from webapp.services import tickets as ticket_service
from webapp.services.base import transaction
from webapp.db.utc import utcnow

from ..conftest import CsrfClient
from ..factories import PASSWORD, Factories
from ..jobs_fixtures import committed_app, committed_db  # noqa: F401
from ..ops_support import require
from ..web.conftest import PARTIAL

JOIN_SECONDS = 60


def on_postgres():
    """Row locks, SKIP LOCKED and truly parallel writers: PostgreSQL (SQLite runs one writer at a time)."""
    require(os.environ.get("TEST_DATABASE_URL"), "set TEST_DATABASE_URL: row-level races need PostgreSQL")


def all_at_once(*calls):
    """Run each call in its own thread, released together; [(result, exception)] in call order."""
    barrier, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(slot, call):
        barrier.wait()
        try:
            outcomes[slot] = (call(), None)
        except Exception as exc:  # reported to the test, which decides whether it was expected
            outcomes[slot] = (None, exc)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return outcomes


@dataclass
class Race:
    """An app with real commits, two service keys (bot1, bot2), an agent, and a create body."""

    app: object
    keys: list
    user_ids: list
    body: dict

    def request(self, method, path, json=None, key=0):
        """One API call from a fresh client, as a separate process would make it."""
        headers = {"X-Api-Key": self.keys[key]}
        response = self.app.test_client().open(path, method=method, json=json, headers=headers)
        return response.status_code, response.get_json()

    def browser(self) -> CsrfClient:
        """A signed-in agent's browser session (its own client, cookie and CSRF token)."""
        client = CsrfClient(self.app, self.app.response_class)
        assert client.post("/login", data={"username": "agent", "password": PASSWORD}).status_code == 303
        return client

    def events(self, ticket_id, action=None):
        with self.app.app_context():
            query = sa.select(AuditEvent).filter_by(ticket_id=ticket_id).order_by(AuditEvent.id)
            if action:
                query = query.filter_by(action=action)
            return [(e.action, e.actor_id, e.before, e.after) for e in db.session.scalars(query)]

    def count(self, model, *where):
        with self.app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def race(committed_app):
    """A Race on a database of this test's own."""
    app = committed_app(API_RATE_LIMIT="10000 per minute")
    with app.app_context():
        make = Factories()
        bots = [make.user(f"bot{n}", role=Role.SERVICE) for n in (1, 2)]
        make.user("agent")
        category, cti_type, item = make.cti("Race", "Track", "Lane")
        body = {"title": "Disk full", "severity": 2, "categoryId": str(category.id),
                "typeId": str(cti_type.id), "itemId": str(item.id)}
        race = Race(app, [bot.plain_api_key for bot in bots], [bot.id for bot in bots], body)
        db.session.remove()  # hold no transaction (on SQLite: no lock) while threads run
    return race


@pytest.mark.postgres
def test_two_patches_of_one_version_one_wins_the_other_gets_409(race, monkeypatch):
    on_postgres()
    status, ticket = race.request("POST", "/api/tickets", race.body)
    assert status == 201 and ticket["version"] == 1
    ref, ticket_id = ticket["displayId"], int(ticket["id"])
    both_read = threading.Barrier(2)
    update = ticket_service.update_ticket

    def update_once_both_have_read(actor, loaded, changes, **kwargs):
        """Hold each request, ticket in hand, until the other has read the ticket too."""
        assert loaded.version == 1
        both_read.wait(JOIN_SECONDS)
        return update(actor, loaded, changes, **kwargs)

    monkeypatch.setattr(ticket_service, "update_ticket", update_once_both_have_read)
    bodies = [{"title": f"Bot {n} was here", "severity": n + 3, "version": 1} for n in (0, 1)]
    outcomes = all_at_once(*(lambda n=n: race.request("PATCH", f"/api/tickets/{ref}", bodies[n], key=n)
                             for n in (0, 1)))
    assert [exc for _, exc in outcomes] == [None, None]
    assert sorted(result[0] for result, _ in outcomes) == [200, 409], outcomes
    winner = next(n for n, (result, _) in enumerate(outcomes) if result[0] == 200)
    refusal = outcomes[1 - winner][0][1]["error"]
    assert refusal["code"] == "conflict" and "changed" in refusal["message"], refusal

    # Exactly the winner's two events (and their outbox rows); the loser wrote nothing.
    assert race.events(ticket_id)[1:] == [
        ("title", race.user_ids[winner], "Disk full", bodies[winner]["title"]),
        ("severity", race.user_ids[winner], 2, bodies[winner]["severity"]),
    ]
    audit_ids = sa.select(AuditEvent.id).where(AuditEvent.ticket_id == ticket_id)
    assert race.count(OutboxEvent, OutboxEvent.audit_event_id.in_(audit_ids)) == 3
    _, final = race.request("GET", f"/api/tickets/{ref}")
    assert (final["title"], final["severity"]) == (bodies[winner]["title"], bodies[winner]["severity"])


def test_fifty_simultaneous_creates_get_fifty_ids_and_fifty_audit_rows(race):
    outcomes = all_at_once(*(lambda n=n: race.request("POST", "/api/tickets", {**race.body, "title": f"Burst {n}"})
                             for n in range(50)))
    assert [exc for _, exc in outcomes] == [None] * 50
    assert [result[0] for result, _ in outcomes] == [201] * 50
    created = [result[1] for result, _ in outcomes]
    assert len({t["displayId"] for t in created}) == 50 and len({t["id"] for t in created}) == 50
    ids = [int(t["id"]) for t in created]
    assert race.count(Ticket, Ticket.id.in_(ids)) == 50
    assert race.count(AuditEvent, AuditEvent.ticket_id.in_(ids), AuditEvent.action == "create") == 50
    assert race.count(AuditEvent, AuditEvent.ticket_id.in_(ids)) == 50
    audit_ids = sa.select(AuditEvent.id).where(AuditEvent.ticket_id.in_(ids))
    assert race.count(OutboxEvent, OutboxEvent.audit_event_id.in_(audit_ids)) == 50


def test_twenty_simultaneous_comments_all_land_without_an_error(race):
    """Ten from the API, ten from agents' browsers (htmx), all on one ticket at the same instant."""
    status, ticket = race.request("POST", "/api/tickets", race.body)
    ref, ticket_id = ticket["displayId"], int(ticket["id"])
    browsers = [race.browser() for _ in range(10)]

    def from_browser(n):
        response = browsers[n].post(f"/tickets/{ref}/comments", data={"body": f"web {n}"}, headers=PARTIAL)
        return response.status_code, None

    outcomes = all_at_once(
        *(lambda n=n: race.request("POST", f"/api/tickets/{ref}/comments", {"body": f"api {n}"}, key=n % 2)
          for n in range(10)),
        *(lambda n=n: from_browser(n) for n in range(10)),
    )
    assert [exc for _, exc in outcomes] == [None] * 20
    assert [result[0] for result, _ in outcomes] == [201] * 10 + [200] * 10, [r[0] for r, _ in outcomes]
    assert race.count(Comment, Comment.ticket_id == ticket_id) == 20
    bodies = sorted(event[3]["body"] for event in race.events(ticket_id, "comment_add"))
    assert bodies == sorted([f"api {n}" for n in range(10)] + [f"web {n}" for n in range(10)])
    status, after = race.request("GET", f"/api/tickets/{ref}")
    assert after["version"] == ticket["version"]  # comments never make an earlier read stale


def test_a_stale_flush_anywhere_is_a_409_not_a_500(race, monkeypatch):
    """The net behind services.base.commit(): a versioned row that moved under any flush (as the old
    comment code's ticket.updated_at did) answers 409, for the API and for pages alike."""
    _, ticket = race.request("POST", "/api/tickets", race.body)

    def moved_under_us(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'ticket' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(comment_service, "add_comment", moved_under_us)
    status, body = race.request("POST", f"/api/tickets/{ticket['displayId']}/comments", {"body": "hello"})
    assert (status, body["error"]["code"]) == (409, "conflict")
    page = race.browser().post(f"/tickets/{ticket['displayId']}/comments", data={"body": "hi"}, headers=PARTIAL)
    assert page.status_code == 409 and b"changed this at the same time" in page.data


# --- the auto-close sweep against a re-open ----------------------------------------------------

def due_ticket(race) -> int:
    """A ticket resolved 20 days ago: the next sweep closes it unless it is re-opened first."""
    with race.app.app_context():
        actor = db.session.get(User, race.user_ids[0])
        cti = {"category_id": race.body["categoryId"], "type_id": race.body["typeId"], "item_id": race.body["itemId"]}
        ticket = ticket_service.create_ticket(actor, title="Fixed, we think", severity=3, **cti)
        ticket_service.change_status(actor, ticket, Status.RESOLVED)
        db.session.execute(sa.update(Ticket).where(Ticket.id == ticket.id)
                           .values(resolved_at=utcnow() - timedelta(days=20)))
        db.session.commit()
        return ticket.id


def reopen(race, ticket_id, pause: float = 0.0) -> str:
    """An agent's re-open: read the ticket, (think), write. "reopened"; "conflict" when the sweep
    closed it between the read and the write; "refused" when it was already closed at the read."""
    with race.app.app_context():
        try:
            ticket, actor = db.session.get(Ticket, ticket_id), db.session.get(User, race.user_ids[1])
            time.sleep(pause)
            ticket_service.change_status(actor, ticket, Status.OPEN)
            return "reopened"
        except Conflict:
            return "conflict"
        except ValidationError:
            return "refused"
        finally:
            db.session.remove()


def run_sweep(race, pause: float = 0.0) -> int:
    """What `flask sweep` and the hourly job run."""
    with race.app.app_context():
        time.sleep(pause)
        try:
            return sweep.auto_close()
        finally:
            db.session.remove()


def assert_whole(race, ticket_id, reopened: bool) -> None:
    """Closed by the sweep (with its event), or re-opened (with its event), never a mix of both."""
    with race.app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        state = (ticket.status, ticket.resolved_at is None, ticket.closed_at is None)
    closes = race.events(ticket_id, sweep.ACTION)
    reopens = [e for e in race.events(ticket_id, "status") if e[2:] == ("RESOLVED", "OPEN")]
    if reopened:
        assert state == (Status.OPEN, True, True) and closes == [] and len(reopens) == 1, (state, closes)
    else:
        assert state == (Status.CLOSED, False, False) and len(closes) == 1 and reopens == [], (state, reopens)


@pytest.mark.postgres
def test_a_sweep_racing_a_reopen_leaves_each_ticket_closed_or_reopened(race):
    on_postgres()
    jitter, seen = random.Random(5), []
    for _ in range(30):
        ticket_id = due_ticket(race)
        (outcome, error), (closed, sweep_error) = all_at_once(
            lambda: reopen(race, ticket_id, jitter.random() * 0.004),
            lambda: run_sweep(race, jitter.random() * 0.004),
        )
        assert error is None and sweep_error is None, (error, sweep_error)
        assert (outcome, closed) in {("reopened", 0), ("conflict", 1), ("refused", 1)}, (outcome, closed)
        assert_whole(race, ticket_id, reopened=outcome == "reopened")
        seen.append(outcome)
    print("sweep vs re-open outcomes:", {name: seen.count(name) for name in set(seen)})


@pytest.mark.postgres
@pytest.mark.parametrize("moment", ["between the re-open's read and write", "while the re-open is uncommitted"])
def test_a_sweep_at_the_critical_moments_of_a_reopen(race, moment):
    """Between read and write, the re-open gets a 409 (the sweep moved the version on); while the
    re-open holds the row, the sweep's SKIP LOCKED passes the ticket by instead of waiting or closing."""
    on_postgres()
    ticket_id = due_ticket(race)
    with race.app.app_context():
        ticket, actor = db.session.get(Ticket, ticket_id), db.session.get(User, race.user_ids[1])
        if moment.startswith("between"):
            [(closed, error)] = all_at_once(lambda: run_sweep(race))  # commits while we hold the old read
            with pytest.raises(Conflict):
                ticket_service.change_status(actor, ticket, Status.OPEN)
        else:
            with transaction():  # the re-open is written (row locked) but not yet committed
                ticket_service.change_status(actor, ticket, Status.OPEN)
                [(closed, error)] = all_at_once(lambda: run_sweep(race))
        db.session.remove()
    reopened = not moment.startswith("between")
    assert (closed, error) == (0 if reopened else 1, None)
    assert_whole(race, ticket_id, reopened=reopened)
