"""The database enforces the rules too, and models and migrations never drift apart."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import DBAPIError, IntegrityError

from webapp.extensions import db
from webapp.models import AuditEvent, Ticket
from webapp.db.utc import render_migration_type


def test_models_and_migrations_do_not_drift(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "render_item": render_migration_type,
        })
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"


def test_drift_check_notices_a_missing_index(app):
    """Guard against a drift test that cannot fail."""
    extra = sa.Index("ix_ticket_drift_probe", Ticket.__table__.c.title)
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert any(op[0] == "add_index" and op[1].name == "ix_ticket_drift_probe" for op in diff)
    finally:
        Ticket.__table__.indexes.discard(extra)


def _insert_ticket(make, **overrides):
    ticket = make.ticket()
    values = {
        "display_id": "V000000001", "title": "t", "overview": "", "severity": 3, "status": "OPEN",
        "category_id": ticket.category_id, "type_id": ticket.type_id, "item_id": ticket.item_id,
        "creator_id": ticket.creator_id, "created_at": ticket.created_at,
        "updated_at": ticket.created_at, "version": 1,
    }
    values.update(overrides)
    with db.session.begin_nested():
        db.session.execute(sa.insert(Ticket).values(**values))
    return ticket


@pytest.mark.parametrize("overrides", [
    {"severity": 0}, {"severity": 6}, {"status": "WAITING"},
])
def test_database_rejects_out_of_range_values(make, overrides):
    with pytest.raises(IntegrityError):
        _insert_ticket(make, **overrides)


def test_database_rejects_duplicate_display_id(make):
    ticket = make.ticket()
    with pytest.raises(IntegrityError):
        _insert_ticket(make, display_id=ticket.display_id)


def test_database_rejects_item_outside_its_type(make):
    _, _, other_item = make.cti("Other", "Elsewhere", "Stray")
    with pytest.raises(IntegrityError):
        _insert_ticket(make, item_id=other_item.id)


def test_database_rejects_type_outside_its_category(make):
    other_cat, other_type, other_item = make.cti("Other", "Elsewhere", "Stray")
    with pytest.raises(IntegrityError):
        _insert_ticket(make, item_id=other_item.id, type_id=other_type.id)


def test_audit_trail_is_append_only_in_the_database(make):
    make.ticket()
    event_id = db.session.scalar(sa.select(AuditEvent.id).limit(1))
    for statement in (
        sa.update(AuditEvent).where(AuditEvent.id == event_id).values(action="tampered"),
        sa.delete(AuditEvent).where(AuditEvent.id == event_id),
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(statement)


def test_sibling_names_are_unique(make):
    cat, typ, item = make.cti("Infra", "Servers", "Web")
    from webapp.models import Item

    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(Item(type_id=typ.id, name="Web"))
    _, _, same_name_elsewhere = make.cti("Infra", "Laptops", "Web")
    assert same_name_elsewhere.id != item.id
