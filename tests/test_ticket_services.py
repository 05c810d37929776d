"""Every ticket rule, exercised through the service functions that web and API share."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, OutboxEvent, Role, Status, Ticket
from webapp.services import Conflict, NotFound, ValidationError
from webapp.services import tickets as svc
from webapp.services.base import transaction


def events(ticket, action=None):
    query = sa.select(AuditEvent).filter_by(ticket_id=ticket.id).order_by(AuditEvent.id)
    if action:
        query = query.filter_by(action=action)
    return list(db.session.scalars(query))


@pytest.fixture
def agent(make):
    return make.user("alice", display_name="Alice Adams")


@pytest.fixture
def cti(make):
    return make.cti("TheWrightServer", "Automation", "Backup")


def create(agent, cti, **overrides):
    cat, typ, itm = cti
    fields = dict(title="Backup failed", overview="Nightly job", severity=2,
                  category_id=cat.id, type_id=typ.id, item_id=itm.id)
    fields.update(overrides)
    return svc.create_ticket(agent, **fields)


def test_create_ticket_stores_fields_and_audits(agent, cti):
    ticket = create(agent, cti, title="  Backup   failed  ")
    assert ticket.display_id[0] == "V" and len(ticket.display_id) == 10 and ticket.display_id[1:].isdigit()
    assert ticket.title == "Backup failed"
    assert ticket.status == Status.OPEN and ticket.version == 1
    assert ticket.created_at.tzinfo is not None
    [event] = events(ticket)
    assert event.action == "create" and event.actor_id == agent.id
    assert event.after["title"] == "Backup failed"
    assert event.after["cti"]["path"] == "TheWrightServer › Automation › Backup"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).filter_by(audit_event_id=event.id)) == 1


def test_ids_may_be_numeric_strings(agent, cti):
    cat, typ, itm = cti
    ticket = create(agent, cti, category_id=str(cat.id), type_id=str(typ.id), item_id=str(itm.id), severity="5")
    assert ticket.severity == 5


@pytest.mark.parametrize("overrides, field", [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": None}, "title"),
    ({"severity": 0}, "severity"),
    ({"severity": 6}, "severity"),
    ({"severity": "high"}, "severity"),
    ({"severity": True}, "severity"),
    ({"category_id": 999999}, "category"),
    ({"type_id": "abc"}, "type"),
    ({"item_id": None}, "item"),
    ({"assignee_id": 999999}, "assignee"),
    ({"overview": 12}, "overview"),
])
def test_bad_input_names_the_field_and_writes_nothing(agent, cti, overrides, field):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Ticket))
    with pytest.raises(ValidationError) as caught:
        create(agent, cti, **overrides)
    assert field in caught.value.fields
    assert caught.value.fields[field]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == before


def test_all_bad_fields_are_reported_together(agent, cti):
    with pytest.raises(ValidationError) as caught:
        create(agent, cti, title="", severity=9, assignee_id=424242)
    assert {"title", "severity", "assignee"} <= set(caught.value.fields)


def test_inconsistent_cti_is_refused(agent, cti, make):
    cat, typ, itm = cti
    other_cat, other_type, other_item = make.cti("Workplace", "Hardware", "Laptop")
    with pytest.raises(ValidationError) as caught:
        create(agent, cti, item_id=other_item.id)
    assert "not under type" in caught.value.fields["item"]
    with pytest.raises(ValidationError) as caught:
        create(agent, cti, type_id=other_type.id, item_id=other_item.id)
    assert "not under category" in caught.value.fields["type"]


def test_inactive_cti_takes_no_new_tickets(agent, make):
    cti = make.cti("Legacy", "Old", "Retired", active=False)
    with pytest.raises(ValidationError) as caught:
        create(agent, cti)
    assert "inactive" in caught.value.fields["item"]


def test_deactivated_assignee_is_refused(agent, cti, make):
    gone = make.user("gone", active=False)
    with pytest.raises(ValidationError) as caught:
        create(agent, cti, assignee_id=gone.id)
    assert "deactivated" in caught.value.fields["assignee"]


def test_display_id_collision_is_retried(agent, cti, monkeypatch):
    first = create(agent, cti)
    drawn = iter([first.display_id, first.display_id, "V123456789"])
    monkeypatch.setattr(svc, "new_display_id", lambda: next(drawn))
    second = create(agent, cti)
    assert second.display_id == "V123456789"
    assert len(events(second)) == 1
    # the skipped inserts recorded nothing: one event and one outbox row per ticket
    created = sa.select(AuditEvent.id).filter_by(action="create")
    assert len(db.session.scalars(created).all()) == 2
    shipped = sa.select(sa.func.count()).select_from(OutboxEvent).where(OutboxEvent.audit_event_id.in_(created))
    assert db.session.scalar(shipped) == 2


@pytest.mark.postgres
def test_a_new_ticket_its_event_and_its_outbox_row_are_one_statement(agent, cti, monkeypatch):
    """One round trip on PostgreSQL (a data-modifying CTE); SQLite writes them one after another.

    Counted without the dispatch the commit asks for: here it would run inline after the commit,
    in production it is the worker's job (its own writes, the filer's watch among them, are
    tests/test_webhooks.py's `_dispatch_step` count)."""
    from webapp.services import base
    from .web.test_queries import recorded_queries

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no data-modifying CTEs")
    asked = []
    monkeypatch.setattr(base, "_enqueue", lambda func_path, *args: asked.append(func_path))
    with recorded_queries() as statements:
        ticket = create(agent, cti)
    assert asked == ["webapp.jobs.tasks.dispatch_outbox"]  # the dispatch is asked for, once
    writes = [text for text, _ in statements if "INSERT" in text]
    assert len(writes) == 1
    assert all(f"INSERT INTO {table}" in writes[0] for table in ("ticket", "audit_event", "outbox_event"))
    [event] = events(ticket)
    assert (event.action, event.actor_id, event.after["severity"]) == ("create", agent.id, 2)
    assert event.created_at == ticket.created_at


def test_get_ticket_by_display_id_or_id(agent, cti):
    ticket = create(agent, cti)
    assert svc.get_ticket(ticket.display_id) is ticket
    assert svc.get_ticket(ticket.display_id.lower()) is ticket
    assert svc.get_ticket(ticket.id) is ticket
    assert svc.get_ticket(str(ticket.id)) is ticket
    for unknown in ("V000000000", "nonsense", None, -1):
        with pytest.raises(NotFound):
            svc.get_ticket(unknown)


def test_resolving_stamps_time_and_reopening_clears_it(agent, cti):
    ticket = create(agent, cti)
    svc.change_status(agent, ticket, "IN_PROGRESS")
    svc.change_status(agent, ticket, "RESOLVED")
    assert ticket.resolved_at is not None
    svc.change_status(agent, ticket, "OPEN")
    assert ticket.resolved_at is None
    assert [(e.before, e.after) for e in events(ticket, "status")] == [
        ("OPEN", "IN_PROGRESS"), ("IN_PROGRESS", "RESOLVED"), ("RESOLVED", "OPEN"),
    ]


def test_reopen_resets_auto_close_timer(agent, cti):
    ticket = create(agent, cti)
    svc.change_status(agent, ticket, "RESOLVED")
    first = ticket.resolved_at
    ticket.resolved_at = first - timedelta(days=13)
    svc.change_status(agent, ticket, "IN_PROGRESS")
    svc.change_status(agent, ticket, "RESOLVED")
    assert ticket.resolved_at >= first


def test_closing_and_closed_is_final(agent, cti):
    ticket = create(agent, cti)
    with pytest.raises(ValidationError, match="resolve it first"):
        svc.change_status(agent, ticket, "CLOSED")
    svc.change_status(agent, ticket, "RESOLVED")
    svc.change_status(agent, ticket, "CLOSED")
    assert ticket.closed_at is not None
    with pytest.raises(ValidationError, match="final"):
        svc.change_status(agent, ticket, "OPEN")


def test_unknown_status_is_refused(agent, cti):
    ticket = create(agent, cti)
    with pytest.raises(ValidationError) as caught:
        svc.change_status(agent, ticket, "DONE")
    assert "status" in caught.value.fields


def test_unchanged_values_write_no_audit(agent, cti):
    ticket = create(agent, cti)
    svc.change_status(agent, ticket, "OPEN")
    svc.change_severity(agent, ticket, ticket.severity)
    svc.edit_title(agent, ticket, ticket.title)
    assert [e.action for e in events(ticket)] == ["create"]


def test_assign_and_unassign(agent, cti, make):
    bob = make.user("bob", display_name="Bob Brown")
    ticket = create(agent, cti)
    svc.assign(agent, ticket, bob.id)
    svc.assign(agent, ticket, None)
    assert ticket.assignee is None
    assert [(e.before, e.after) for e in events(ticket, "assignee")] == [
        (None, {"id": bob.id, "name": "Bob Brown"}), ({"id": bob.id, "name": "Bob Brown"}, None),
    ]


def test_service_accounts_can_be_assigned(agent, cti, make):
    goddard = make.user("goddard", role=Role.SERVICE)
    ticket = create(agent, cti, assignee_id=goddard.id)
    assert ticket.assignee_id == goddard.id


def test_change_severity_audits_before_and_after(agent, cti):
    ticket = create(agent, cti, severity=4)
    svc.change_severity(agent, ticket, 1)
    [event] = events(ticket, "severity")
    assert (event.before, event.after) == (4, 1)


def test_reroute_moves_all_three_levels(agent, cti, make):
    ticket = create(agent, cti)
    cat, typ, itm = make.cti("Workplace", "Hardware", "Laptop")
    svc.reroute(agent, ticket, cat.id, typ.id, itm.id)
    assert ticket.cti_path == "Workplace › Hardware › Laptop"
    [event] = events(ticket, "reroute")
    assert event.before["path"] == "TheWrightServer › Automation › Backup"
    assert event.after["path"] == "Workplace › Hardware › Laptop"


def test_edit_title_and_overview_audit(agent, cti):
    ticket = create(agent, cti)
    svc.edit_title(agent, ticket, "Backup failed twice")
    svc.edit_overview(agent, ticket, "More detail")
    assert [(e.action, e.before, e.after) for e in events(ticket)[1:]] == [
        ("title", "Backup failed", "Backup failed twice"), ("overview", "Nightly job", "More detail"),
    ]


def test_stale_version_is_a_conflict(agent, cti):
    ticket = create(agent, cti)
    loaded = ticket.version
    svc.change_severity(agent, ticket, 1, expected_version=loaded)
    with pytest.raises(Conflict, match="changed by someone else"):
        svc.edit_title(agent, ticket, "Mine", expected_version=loaded)
    assert ticket.title == "Backup failed"


def test_update_ticket_writes_one_event_per_changed_field(agent, cti, make):
    bob = make.user("bob")
    ticket = create(agent, cti)
    svc.update_ticket(agent, ticket, {"title": "New", "severity": 1, "assignee_id": bob.id, "status": "IN_PROGRESS"})
    assert sorted(e.action for e in events(ticket)[1:]) == ["assignee", "severity", "status", "title"]


def test_update_ticket_is_all_or_nothing(agent, cti):
    ticket = create(agent, cti)
    with pytest.raises(ValidationError) as caught:
        svc.update_ticket(agent, ticket, {"title": "Changed", "severity": 42})
    assert "severity" in caught.value.fields
    db.session.expire_all()
    assert ticket.title == "Backup failed"
    assert [e.action for e in events(ticket)] == ["create"]


def test_an_action_cannot_commit_without_its_audit_row(agent, cti, monkeypatch):
    """If the audit insert fails, the change itself is rolled back with it."""
    ticket = create(agent, cti)
    from webapp.services import audit

    def broken_record(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken_record)
    with pytest.raises(RuntimeError):
        with transaction():
            svc.change_severity(agent, ticket, 1)
    db.session.expire_all()
    assert ticket.severity == 2
