"""Every path that records audit events (one action, a ticket create, a sweep batch) writes the
same rows through services.outbox: the event, its outbox row, and a dispatch asked for after commit."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.utils import import_string

from webapp import jobs
from webapp.db.utc import utcnow
from webapp.extensions import db
from webapp.jobs import tasks
from webapp.models import AuditEvent, OutboxEvent, Status
from webapp.services import audit, base, notify, outbox, sweep
from webapp.services.tickets import change_status

from .web.test_queries import recorded_queries

EVENTS, OUTBOX = AuditEvent.__table__, OutboxEvent.__table__


@pytest.fixture
def asked(monkeypatch):
    """The jobs each commit asked for, one list per commit (nothing runs: the outbox rows stay as written)."""
    commits = []
    monkeypatch.setattr(base, "_run_after_commit", lambda: commits.append(db.session.info.pop(base._JOBS, [])))
    return commits


def stored(event_id: int) -> dict:
    """An event and its outbox row as stored: JSON as its text, so SQL NULL and JSON null differ."""
    row = db.session.execute(
        sa.select(*(sa.cast(column, sa.Text).label(column.name) if isinstance(column.type, sa.JSON) else column
                    for column in EVENTS.c),
                  OUTBOX.c.audit_event_id, OUTBOX.c.created_at.label("shipped_at"), OUTBOX.c.dispatched_at)
        .join(OUTBOX, OUTBOX.c.audit_event_id == EVENTS.c.id).where(EVENTS.c.id == event_id)
    ).one()
    return dict(row._mapping)


def latest_event(ticket_id: int, action: str) -> dict:
    event_id = db.session.scalar(sa.select(sa.func.max(EVENTS.c.id)).filter_by(ticket_id=ticket_id, action=action))
    return stored(event_id)


def same_but_ids(first: dict, second: dict) -> None:
    for row in (first, second):
        assert row.pop("audit_event_id") == row.pop("id")
        assert row["shipped_at"] == row["created_at"] and row["dispatched_at"] is None
    assert first == second


def test_the_sweep_and_record_write_the_same_system_event(app, make, asked, monkeypatch):
    ticket = make.ticket()
    change_status(ticket.creator, ticket, Status.RESOLVED)
    at = utcnow().replace(microsecond=0) + timedelta(days=15)
    monkeypatch.setattr(sweep, "utcnow", lambda: at)
    asked.clear()
    assert sweep.auto_close(as_of=at) == 1
    by_sweep = latest_event(ticket.id, sweep.ACTION)
    assert asked == [[(outbox.DISPATCH_JOB, ())], []]  # the batch's commit; the empty last batch asks nothing

    asked.clear()
    audit.record(None, sweep.ACTION, ticket=ticket, before=Status.RESOLVED.value, after=Status.CLOSED.value, at=at)
    base.commit()
    by_record = latest_event(ticket.id, sweep.ACTION)
    assert asked == [[(outbox.DISPATCH_JOB, ())]]

    assert by_sweep["actor_id"] is None and by_sweep["created_at"] == at
    assert (by_sweep["before"], by_sweep["after"], by_sweep["target_type"]) == ('"RESOLVED"', '"CLOSED"', None)
    same_but_ids(by_sweep, by_record)


def test_the_create_and_record_write_the_same_event(app, make, asked):
    """The create's event leaves `before` SQL NULL, and so does record() given none."""
    actor, cti = make.user(), make.cti()
    asked.clear()
    ticket = make.ticket(actor=actor, cti=cti, title="Same rows")
    assert asked == [[(outbox.DISPATCH_JOB, ())]]
    by_create = latest_event(ticket.id, "create")

    asked.clear()
    created = db.session.scalar(sa.select(AuditEvent.after).filter_by(ticket_id=ticket.id, action="create"))
    audit.record(ticket.creator, "create", ticket=ticket, after=created, at=ticket.created_at)
    base.commit()
    assert asked == [[(outbox.DISPATCH_JOB, ())]]
    by_record = latest_event(ticket.id, "create")

    assert by_create["before"] is None and by_create["actor_id"] == ticket.creator_id
    assert by_create["created_at"] == ticket.created_at
    same_but_ids(by_create, by_record)


def test_an_admin_event_has_no_ticket_and_its_target(app, make, asked):
    admin = make.user()
    audit.record(admin, "user_update", target=("user", admin.id), before={"active": True}, after={"active": False})
    base.commit()
    event_id = db.session.scalar(sa.select(sa.func.max(EVENTS.c.id)).filter_by(action="user_update"))
    row = stored(event_id)
    assert (row["ticket_id"], row["target_type"], row["target_id"]) == (None, "user", admin.id)
    assert row["before"].replace(" ", "") == '{"active":true}' and row["shipped_at"] == row["created_at"]


def _statements(block) -> list[str]:
    with recorded_queries() as statements:
        block()
    return [statement.split()[0] + " " + statement.split()[2 if statement.startswith("INSERT") else 1]
            for statement, _ in statements if not statement.startswith(("SAVEPOINT", "RELEASE"))]


def test_each_writer_costs_the_same_statements(app, make, asked, monkeypatch):
    """PostgreSQL: events and outbox rows are one statement (data-modifying CTE); SQLite: two."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    ticket = make.ticket()
    db.session.commit()
    db.session.refresh(ticket)
    assert _statements(lambda: audit.record(None, "note", ticket=ticket, after="x")) == (
        ["WITH written"] if postgres else ["INSERT audit_event", "INSERT outbox_event"])

    actor, cti = make.user(), make.cti()
    db.session.commit()
    writes = [statement for statement in _statements(lambda: make.ticket(actor=actor, cti=cti))
              if not statement.startswith("SELECT")]  # the reads: the CTI chain, the creator
    rollups = ["INSERT report_day", "INSERT report_item_day"]  # the report rollups (issue 24)
    assert writes == (["WITH new_row"] if postgres  # on PostgreSQL nested in the one statement
                      else ["INSERT ticket", "INSERT audit_event", "INSERT outbox_event", *rollups])

    due = [make.ticket(actor=actor, cti=cti) for _ in range(3)]
    for each in due:
        change_status(actor, each, Status.RESOLVED)
    at = utcnow() + timedelta(days=15)
    monkeypatch.setattr(sweep, "utcnow", lambda: at)
    sent = _statements(lambda: sweep.auto_close(as_of=at, batch_size=2))
    writes = [statement for statement in sent if not statement.startswith(("WITH picked", "UPDATE"))]
    assert writes == (["WITH written"] * 2 if postgres
                      else ["INSERT audit_event", "INSERT outbox_event"] * 2), sent  # per batch of 2, then 1


def test_the_dispatch_job_is_named_once_and_names_the_job():
    assert import_string(outbox.DISPATCH_JOB) is tasks.dispatch_outbox
    assert import_string(outbox.DELIVER_DUE_JOB) is tasks.deliver_due
    assert import_string(notify.SEND_MAIL_JOB) is tasks.send_mail
    assert jobs.COALESCED == frozenset({outbox.DISPATCH_JOB, outbox.DELIVER_DUE_JOB, notify.SEND_MAIL_JOB})
