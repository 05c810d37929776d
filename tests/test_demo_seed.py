"""`flask seed` in the embedded mode: a realistic past week, once, written through the services."""
from datetime import timedelta

import sqlalchemy as sa

from webapp.db.utc import pretend_now, utcnow
from webapp.services.demo import AGENTS, TICKET_COUNT
from webapp.extensions import db
from webapp.models import AuditEvent, Comment, Status, Ticket
from webapp.services.tickets import change_status


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_embedded_seed_fills_a_week_of_every_status_and_severity_once(app, runner):
    app.config["EMBEDDED"] = True
    started = utcnow()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert f"{TICKET_COUNT} demo tickets" in first.output
    tickets = db.session.scalars(sa.select(Ticket)).all()
    assert len(tickets) == TICKET_COUNT > 50  # more than one page
    assert {t.status for t in tickets} == {s.value for s in Status}
    assert {t.severity for t in tickets} == {1, 2, 3, 4, 5}
    assert len({t.assignee_id for t in tickets if t.assignee_id}) >= len(AGENTS) - 1
    created = sorted(t.created_at for t in tickets)
    assert created[0] >= started - timedelta(days=7, minutes=1) and created[-1] <= started
    assert created[-1] - created[0] > timedelta(days=4)  # spread over the week, not all "just now"
    assert any("**" in c.body or "```" in c.body for c in db.session.scalars(sa.select(Comment)))
    for ticket in tickets:  # genuine audit: the services wrote every event at the injected time
        events = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id)).all()
        assert events[0].action == "create" and events[0].created_at == ticket.created_at
        assert events[0].actor_id == ticket.creator_id
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        assert max(e.created_at for e in events) == ticket.updated_at or ticket.status == "OPEN"
        if ticket.status in ("RESOLVED", "CLOSED"):
            assert ticket.resolved_at is not None and any(e.after == "RESOLVED" for e in events)
    again = runner.invoke(args=["seed"])
    assert "Nothing to seed" in again.output and count(Ticket) == TICKET_COUNT


def test_no_demo_flag_and_production_mode_seed_no_tickets(app, runner):
    app.config["EMBEDDED"] = True
    result = runner.invoke(args=["seed", "--no-demo"])
    assert result.exit_code == 0 and "demo tickets" not in result.output and count(Ticket) == 0
    app.config["EMBEDDED"] = False
    try:
        result = runner.invoke(args=["seed"])
    finally:
        app.config["EMBEDDED"] = True
    assert result.exit_code == 0 and count(Ticket) == 0


def test_pretend_now_injects_the_time_into_the_services(make):
    ticket = make.ticket()
    moment = utcnow() - timedelta(days=3)
    with pretend_now(moment):
        assert utcnow() == moment
        change_status(ticket.creator, ticket, Status.IN_PROGRESS)
    assert utcnow() > moment
    event = db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="status")).one()
    assert event.created_at == moment == ticket.updated_at
