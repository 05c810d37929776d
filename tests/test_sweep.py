"""The auto-close sweep: RESOLVED for AUTO_CLOSE_DAYS means CLOSED, audited as the system, exactly once."""
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.jobs import tasks
from webapp.jobs.embedded import EmbeddedScheduler
from webapp.extensions import db
from webapp.models import AuditEvent, OutboxEvent, Status, Ticket
from webapp.services import Conflict
from webapp.services import sweep
from webapp.services.tickets import change_status
from webapp.db.utc import utcnow

from .factories import Factories
from .jobs_fixtures import committed_app, committed_db  # noqa: F401

DAY = timedelta(days=1)


def resolved_ticket(make, resolved_ago: timedelta | None = None, **kwargs) -> Ticket:
    """A ticket moved to RESOLVED through the service, its resolution then dated `resolved_ago` back."""
    ticket = make.ticket(**kwargs)
    change_status(ticket.creator, ticket, Status.RESOLVED)
    if resolved_ago is not None:
        ticket.resolved_at = utcnow() - resolved_ago
        db.session.commit()
    return ticket


def audit_rows(ticket_id: int, action: str = sweep.ACTION) -> list[AuditEvent]:
    query = sa.select(AuditEvent).filter_by(ticket_id=ticket_id, action=action)
    return list(db.session.scalars(query))


def reload(ticket: Ticket) -> Ticket:
    db.session.expire_all()
    return db.session.get(Ticket, ticket.id)


def test_ticket_resolved_13_days_23_hours_ago_stays_resolved(app, make):
    ticket = resolved_ticket(make)
    as_of = ticket.resolved_at + 13 * DAY + timedelta(hours=23)
    assert sweep.auto_close(as_of=as_of) == 0
    assert reload(ticket).status == Status.RESOLVED
    assert audit_rows(ticket.id) == []


def test_ticket_resolved_14_days_ago_is_closed_by_the_system(app, make):
    ticket = resolved_ticket(make)
    version = ticket.version
    assert sweep.auto_close(as_of=ticket.resolved_at + 14 * DAY) == 1
    ticket = reload(ticket)
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None and ticket.updated_at == ticket.closed_at
    assert ticket.version == version + 1
    [event] = audit_rows(ticket.id)
    assert (event.actor_id, event.before, event.after) == (None, "RESOLVED", "CLOSED")
    assert event.created_at == ticket.closed_at
    outbox = db.session.scalars(sa.select(OutboxEvent).filter_by(audit_event_id=event.id)).all()
    assert len(outbox) == 1


def test_sweep_is_idempotent(app, make):
    ticket = resolved_ticket(make, resolved_ago=15 * DAY)
    assert sweep.auto_close() == 1
    assert sweep.auto_close() == 0
    assert len(audit_rows(ticket.id)) == 1


def test_reopen_resets_the_auto_close_timer(app, make):
    ticket = resolved_ticket(make, resolved_ago=20 * DAY)
    change_status(ticket.creator, ticket, Status.OPEN)
    assert ticket.resolved_at is None
    change_status(ticket.creator, ticket, Status.RESOLVED)
    assert sweep.auto_close() == 0
    assert reload(ticket).status == Status.RESOLVED
    assert sweep.auto_close(as_of=utcnow() + 14 * DAY) == 1


def test_auto_close_days_is_configurable(app, make):
    ticket = resolved_ticket(make, resolved_ago=3 * DAY)
    assert sweep.auto_close() == 0
    app.config["AUTO_CLOSE_DAYS"] = 3
    try:
        assert sweep.auto_close() == 1
    finally:
        app.config["AUTO_CLOSE_DAYS"] = 14
    assert reload(ticket).status == Status.CLOSED


def test_sweep_leaves_open_and_in_progress_tickets_alone(app, make):
    open_ticket = make.ticket()
    busy = make.ticket()
    change_status(busy.creator, busy, Status.IN_PROGRESS)
    later = utcnow() + 100 * DAY
    assert sweep.auto_close(as_of=later) == 0
    assert (reload(open_ticket).status, reload(busy).status) == (Status.OPEN, Status.IN_PROGRESS)


def test_sweep_closes_in_batches_one_transaction_each(app, make):
    tickets = [resolved_ticket(make, resolved_ago=15 * DAY) for _ in range(5)]
    batches = list(sweep.close_due(batch_size=2))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(t.id for batch in batches for t in batch) == sorted(t.id for t in tickets)


def test_dry_run_lists_due_tickets_oldest_first_and_changes_nothing(app, make):
    newer = resolved_ticket(make, resolved_ago=15 * DAY)
    older = resolved_ticket(make, resolved_ago=30 * DAY)
    resolved_ticket(make, resolved_ago=2 * DAY)
    assert [t.id for t in sweep.due_tickets()] == [older.id, newer.id]
    assert reload(older).status == Status.RESOLVED


def test_an_edit_from_before_the_sweep_is_a_conflict(app, make):
    ticket = resolved_ticket(make, resolved_ago=15 * DAY)
    seen_version = ticket.version
    sweep.auto_close()
    with pytest.raises(Conflict):
        change_status(ticket.creator, ticket, Status.OPEN, expected_version=seen_version)


def test_sweep_job_runs_the_sweep(app, make):
    ticket = resolved_ticket(make, resolved_ago=15 * DAY)
    assert tasks.sweep() == 1
    assert reload(ticket).status == Status.CLOSED


def test_cli_dry_run_prints_what_would_close_and_closes_nothing(app, make, runner):
    ticket = resolved_ticket(make, resolved_ago=15 * DAY, title="Printer on fire")
    result = runner.invoke(args=["sweep", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would close {ticket.display_id}" in result.output
    assert "Printer on fire" in result.output
    assert "Would close 1 ticket." in result.output
    assert reload(ticket).status == Status.RESOLVED


def test_cli_as_of_asks_what_would_close_on_that_date(app, make, runner):
    ticket = resolved_ticket(make, resolved_ago=10 * DAY)
    today = runner.invoke(args=["sweep", "--dry-run"])
    assert ticket.display_id not in today.output
    in_five_days = (utcnow() + 5 * DAY).isoformat()
    later = runner.invoke(args=["sweep", "--dry-run", "--as-of", in_five_days])
    assert later.exit_code == 0, later.output
    assert f"would close {ticket.display_id}" in later.output


def test_cli_as_of_takes_a_plain_date_as_utc(app, make, runner):
    ticket = resolved_ticket(make)
    ticket.resolved_at = ticket.resolved_at.replace(year=2026, month=1, day=1, hour=12, minute=0, second=0, microsecond=0)
    db.session.commit()
    stays = runner.invoke(args=["sweep", "--dry-run", "--as-of", "2026-01-15T11:59"])
    closes = runner.invoke(args=["sweep", "--dry-run", "--as-of", "2026-01-15T12:00"])
    assert ticket.display_id not in stays.output
    assert ticket.display_id in closes.output


def test_cli_sweep_closes_and_prints_each_ticket(committed_app):
    """On a database of its own: the default --workers 2 opens a second session, and two threads
    cannot share the one connection of a rolled-back test transaction (savepoints interleave)."""
    app = committed_app()
    [ticket_id] = _due_tickets(app, 1)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["sweep"])
        assert result.exit_code == 0, result.output
        ticket = db.session.get(Ticket, ticket_id)
        assert f"closed {ticket.display_id}" in result.output
        assert "Closed 1 ticket." in result.output
        assert ticket.status == Status.CLOSED


def test_cli_refuses_to_close_early_with_a_future_as_of(app, make, runner):
    ticket = resolved_ticket(make)
    result = runner.invoke(args=["sweep", "--as-of", (utcnow() + 30 * DAY).isoformat()])
    assert result.exit_code != 0
    assert "--dry-run" in result.output
    assert reload(ticket).status == Status.RESOLVED


def test_cli_rejects_a_date_it_cannot_read(app, runner):
    result = runner.invoke(args=["sweep", "--dry-run", "--as-of", "next tuesday"])
    assert result.exit_code != 0
    assert "ISO" in result.output


def _due_tickets(app, count: int) -> list[int]:
    with app.app_context():
        make = Factories()
        actor, cti = make.user(), make.cti()
        ids = []
        for _ in range(count):
            ticket = make.ticket(actor=actor, cti=cti)
            change_status(actor, ticket, Status.RESOLVED)
            ids.append(ticket.id)
        db.session.execute(sa.update(Ticket).where(Ticket.id.in_(ids)).values(resolved_at=utcnow() - 20 * DAY))
        db.session.commit()
        return ids


def test_concurrent_sweeps_close_and_audit_each_ticket_exactly_once(committed_app):
    app = committed_app()
    ids = _due_tickets(app, 120)
    start = threading.Barrier(2)
    closed: list[list[int]] = [[], []]
    errors = []

    def run(slot: int):
        try:
            with app.app_context():
                start.wait()
                for batch in sweep.close_due(batch_size=10):
                    closed[slot].extend(t.id for t in batch)
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(closed[0] + closed[1]) == sorted(ids)
    with app.app_context():
        per_ticket = db.session.execute(
            sa.select(AuditEvent.ticket_id, sa.func.count(AuditEvent.id), sa.func.count(OutboxEvent.id))
            .join(OutboxEvent, OutboxEvent.audit_event_id == AuditEvent.id)
            .where(AuditEvent.action == sweep.ACTION)
            .group_by(AuditEvent.ticket_id)
        ).all()
        assert sorted(row[0] for row in per_ticket) == sorted(ids)
        assert {(row[1], row[2]) for row in per_ticket} == {(1, 1)}
        statuses = db.session.scalars(sa.select(Ticket.status).where(Ticket.id.in_(ids))).all()
        assert set(statuses) == {Status.CLOSED}


def test_embedded_timer_runs_the_sweep_inside_the_app(committed_app):
    app = committed_app()
    [ticket_id] = _due_tickets(app, 1)
    scheduler = EmbeddedScheduler(app, [tasks.Periodic(tasks.sweep, every=3600)], first_delay=0)
    scheduler.start()
    try:
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline and status != Status.CLOSED:
            time.sleep(0.05)
            with app.app_context():
                status = db.session.get(Ticket, ticket_id).status
    finally:
        scheduler.stop()
    assert status == Status.CLOSED
    assert not scheduler.running


def test_embedded_timer_starts_with_the_first_request_unless_disabled(committed_app):
    app = committed_app(TESTING=False)
    scheduler = app.extensions["embedded_scheduler"]
    scheduler.first_delay = 3600  # started, but nothing runs during this test
    assert not scheduler.running
    app.test_client().get("/login")
    try:
        assert scheduler.running
    finally:
        scheduler.stop()
    assert "embedded_scheduler" not in committed_app(TESTING=False, EMBEDDED_SCHEDULER=False).extensions
    assert "embedded_scheduler" not in committed_app(TESTING=False, REDIS_URL="redis://127.0.0.1:1/0").extensions
    assert "embedded_scheduler" not in committed_app().extensions  # TESTING


@pytest.mark.postgres
def test_parallel_workers_close_and_audit_each_ticket_exactly_once(committed_app):
    app = committed_app()
    ids = _due_tickets(app, 90)
    with app.app_context():
        batches = list(sweep.close_due(batch_size=7, workers=3))
        closed = [t.id for batch in batches for t in batch]
        assert sorted(closed) == sorted(ids) and len(batches) == 13  # 90 in batches of at most 7
        events = db.session.scalars(sa.select(AuditEvent.ticket_id).where(AuditEvent.action == sweep.ACTION)).all()
        assert sorted(events) == sorted(ids)
        assert set(db.session.scalars(sa.select(Ticket.status).where(Ticket.id.in_(ids)))) == {Status.CLOSED}
        assert sweep.auto_close(workers=3) == 0


@pytest.mark.postgres
def test_a_failing_worker_fails_the_sweep(committed_app, monkeypatch):
    app = committed_app()
    _due_tickets(app, 5)
    monkeypatch.setattr(sweep, "_close_batch", lambda *args: 1 / 0)
    with app.app_context(), pytest.raises(ZeroDivisionError):
        list(sweep.close_due(workers=2))
