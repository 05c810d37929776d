"""A create that is its transaction's only statement runs in autocommit on PostgreSQL: no BEGIN
or COMMIT round trip, the same rows committed, and nothing changes where it must stay atomic."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, OutboxEvent, Ticket, User
from webapp.services import tickets
from webapp.services.base import transaction

from .conftest import committing_app
from .factories import Factories

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def real_app(database_url, tmp_path_factory):
    """Commits here are real: the suite's own app runs each test inside one rolled-back transaction."""
    with committing_app(database_url, "first", tmp_path_factory.mktemp("first"),
                        postgres_only="autocommit of a lone statement is a PostgreSQL matter") as app:
        yield app


@pytest.fixture
def world(real_app):
    with real_app.app_context():
        make = Factories()
        agent = make.user()
        cti = make.cti(item=None)
        ids = agent.id, tuple(entry.id for entry in cti)
        db.session.remove()
    return ids


@pytest.fixture
def commands(monkeypatch, transaction_commands):
    """What psycopg sends, without the jobs after commit (the outbox dispatch runs inline without
    Redis): they have transactions of their own."""
    monkeypatch.setattr("webapp.services.base._run_after_commit", lambda: None)
    return transaction_commands


def caller(world):
    """The agent, loaded in a transaction that is over: the next statement opens a new one."""
    agent = db.session.get(User, world[0])
    db.session.expunge(agent)
    db.session.commit()
    db.session.add(agent)
    return agent


def create(agent, world, title="Lone insert"):
    """Open a ticket as the API does once the caller and the CTI chain are kept: nothing read first."""
    category_id, type_id, item_id = world[1]
    return tickets.create_ticket(agent, title=title, severity=3,
                                 category_id=category_id, type_id=type_id, item_id=item_id)


def committed(real_app, display_id) -> tuple[int, int]:
    """(tickets, outbox rows of their events) with this display id, as another connection sees them."""
    with real_app.app_context():
        engine = db.engine
    with engine.connect() as conn:
        ticket_ids = conn.execute(sa.select(Ticket.id).filter_by(display_id=display_id)).scalars().all()
        shipped = conn.execute(
            sa.select(sa.func.count()).select_from(OutboxEvent).join(AuditEvent)
            .where(AuditEvent.ticket_id.in_(ticket_ids or [0]), AuditEvent.action == "create")).scalar()
    return len(ticket_ids), shipped


def test_a_lone_create_sends_no_begin_or_commit_and_is_committed(real_app, world, commands):
    with real_app.app_context():
        create(caller(world), world, "Keeps the CTI chain")
        agent = caller(world)
        raw = db.session.connection().connection.driver_connection
        was_autocommit = raw.autocommit
        commands.clear()
        ticket = create(agent, world)
        sent = [command.split()[0] for command in commands]
        assert raw.autocommit is was_autocommit  # back as it was
        db.session.remove()
    assert b"BEGIN" not in sent and b"COMMIT" not in sent, sent
    assert committed(real_app, ticket.display_id) == (1, 1)


def test_inside_a_transaction_the_create_stays_part_of_it(real_app, world, commands):
    with real_app.app_context():
        create(caller(world), world, "Keeps the CTI chain")
        agent = caller(world)
        commands.clear()
        with pytest.raises(RuntimeError):
            with transaction():
                display_id = create(agent, world, "Rolled back with its transaction").display_id
                raise RuntimeError("a later step failed")
        db.session.remove()
    assert b"BEGIN" in [command.split()[0] for command in commands]
    assert committed(real_app, display_id) == (0, 0)


def test_after_a_statement_in_the_same_transaction_the_create_is_not_autocommitted(real_app, world, commands):
    with real_app.app_context():
        agent_id, (category_id, type_id, item_id) = world
        agent = db.session.get(User, agent_id)
        db.session.scalar(sa.select(Ticket.id).limit(1).with_for_update())  # the transaction is open now
        commands.clear()
        tickets.create_ticket(agent, title="Second", severity=3,
                              category_id=category_id, type_id=type_id, item_id=item_id)
        db.session.remove()
    assert [command.split()[0] for command in commands] == [b"COMMIT"]


def test_after_plain_reads_the_create_still_runs_alone(real_app, world, commands):
    """Plain reads open no transaction (db/reuse.py), so what follows them is still the lone write."""
    with real_app.app_context():
        agent_id, (category_id, type_id, item_id) = world
        db.session.scalar(sa.select(Ticket.id).limit(1))
        commands.clear()
        ticket = tickets.create_ticket(db.session.get(User, agent_id), title="After a read", severity=3,
                                       category_id=category_id, type_id=type_id, item_id=item_id)
        db.session.remove()
    assert commands == []
    assert committed(real_app, ticket.display_id) == (1, 1)


def test_the_lone_create_writes_what_the_orm_path_writes(real_app, world):
    """Run on the driver, the values go through the same processing (the event's JSON, the times)."""
    with real_app.app_context():
        create(caller(world), world, "Keeps the CTI chain")
        ticket = create(caller(world), world, "Straight to the driver")
        ticket_id, created_at = ticket.id, ticket.created_at
        db.session.remove()
        event = db.session.scalar(sa.select(AuditEvent).filter_by(ticket_id=ticket_id, action="create"))
        stored = db.session.get(Ticket, ticket_id)
        assert event.after["title"] == stored.title == "Straight to the driver" and event.after["status"] == "OPEN"
        assert event.after["cti"]["itemId"] == world[1][2] and event.created_at == stored.created_at == created_at
        db.session.remove()


def test_a_failed_lone_statement_raises_what_sqlalchemy_would_and_restores_the_connection(real_app, world):
    from webapp.db.execute import execute_first

    orphan = sa.insert(AuditEvent).values(ticket_id=sa.bindparam("ticket_id"), action="create",
                                          created_at=sa.func.now()).returning(AuditEvent.id)
    with real_app.app_context():
        caller(world)  # the transaction is over: the next statement runs alone
        raw = db.session.connection().connection.driver_connection
        was_autocommit = raw.autocommit
        with pytest.raises(sa.exc.IntegrityError):
            execute_first(orphan, {"ticket_id": 2_000_000_000})  # no such ticket
        assert raw.autocommit is was_autocommit
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ticket)) >= 0  # still usable
        db.session.remove()


def test_a_connection_the_server_closed_is_dropped_and_the_next_request_gets_a_new_one(real_app, world):
    from webapp.db.execute import execute_first

    with real_app.app_context():
        agent = caller(world)
        backend = db.session.connection().connection.driver_connection.info.backend_pid  # no query: idle
        with db.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(sa.exc.DBAPIError) as failed:
            execute_first(sa.select(sa.literal(1)), {})
        assert failed.value.connection_invalidated
        db.session.remove()
        assert create(agent, world, "After the server closed one").id is not None
        db.session.remove()
