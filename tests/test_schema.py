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
    """Compared as `flask db migrate` compares them (the app's Alembic options: its types, and the
    full-text index left to the database)."""
    options = app.extensions["migrate"].configure_args
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True, "render_item": render_migration_type, "include_name": options["include_name"],
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


def test_the_open_statuses_sql_is_generated_as_the_migrations_wrote_it():
    """The CHECK, the partial-index predicates and the sweep's filter come from the Status enum;
    their text must stay what the initial migration created, or PostgreSQL stops matching them."""
    from pathlib import Path

    from webapp.models.ticket import ACTIVE_SQL, DEDUP_SQL, RESOLVED_SQL
    from webapp.services import sweep
    from webapp.db.utc import utcnow

    assert ACTIVE_SQL.text == "status IN ('OPEN', 'IN_PROGRESS')"
    assert DEDUP_SQL.text == "dedup_key IS NOT NULL AND status IN ('OPEN', 'IN_PROGRESS')"
    assert RESOLVED_SQL.text == "status = 'RESOLVED'"
    [check] = [c for c in Ticket.__table__.constraints if c.name == "ck_ticket_status_known"]
    assert check.sqltext.text == "status IN ('OPEN', 'IN_PROGRESS', 'RESOLVED', 'CLOSED')"
    predicates = {index.name: {dialect: index.dialect_options[dialect]["where"].text
                               for dialect in ("postgresql", "sqlite")}
                  for index in Ticket.__table__.indexes if index.dialect_options["postgresql"]["where"] is not None}
    assert predicates == {
        name: {"postgresql": text, "sqlite": text} for name, text in {
            "ix_ticket_active_queue": ACTIVE_SQL.text, "ix_ticket_active_assignee": ACTIVE_SQL.text,
            "ix_ticket_active_category": ACTIVE_SQL.text, "ix_ticket_resolved_due": RESOLVED_SQL.text,
            "uq_ticket_open_dedup_key": DEDUP_SQL.text}.items()}
    migration = (Path(__file__).parents[1] / "migrations/versions/0001_initial_schema.py").read_text()
    for text in (ACTIVE_SQL.text, DEDUP_SQL.text, RESOLVED_SQL.text, check.sqltext.text):
        assert f'"{text}"' in migration
    due = str(sweep._is_due(utcnow()))
    assert due.startswith("ticket.status = 'RESOLVED' AND ")  # a literal, as the partial index's predicate
