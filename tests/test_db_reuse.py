"""Plain reads on an idle connection run alone in autocommit, so psycopg's prepared statements
survive and a read-only request sends no BEGIN or COMMIT; writes, locking reads and server-side
cursors still run in one transaction (PostgreSQL only: SQLite has no prepared statements to keep)."""
import pytest
import sqlalchemy as sa
from psycopg.pq import TransactionStatus

from webapp.db.reuse import reads_only
from webapp.extensions import db
from webapp.models import Category

from .conftest import CsrfClient, committing_app
from .factories import PASSWORD, Factories

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def real_app(database_url, tmp_path_factory):
    with committing_app(database_url, "reuse", tmp_path_factory.mktemp("reuse"),
                        postgres_only="prepared statements are a PostgreSQL matter") as app:
        with app.app_context():
            make = Factories()
            make.ticket(actor=make.user("reuser"))
            db.session.remove()
        yield app


@pytest.fixture
def sent(transaction_commands):
    return transaction_commands


def test_repeated_page_views_run_prepared_statements(real_app):
    real_app.test_client_class = CsrfClient
    client = real_app.test_client()
    assert client.post("/login", data={"username": "reuser", "password": PASSWORD}).status_code == 303
    for _ in range(8):  # psycopg prepares a statement on its fifth execution
        assert client.get("/").status_code == 200
    with real_app.app_context():
        engine = db.engine
    with engine.connect() as conn:  # the pooled connection the requests used (one thread: the same one)
        names = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars().all()
    assert any("FROM ticket" in name for name in names), names


def test_a_request_that_wrote_without_committing_is_rolled_back(real_app):
    with real_app.app_context():
        db.session.add(Category(name="Never committed"))
        db.session.flush()
    with real_app.app_context():
        assert db.session.scalar(sa.select(Category).filter_by(name="Never committed")) is None


def test_a_read_only_request_sends_no_transaction_commands(real_app, sent):
    real_app.test_client_class = CsrfClient
    client = real_app.test_client()
    assert client.post("/login", data={"username": "reuser", "password": PASSWORD}).status_code == 303
    client.get("/")
    sent.clear()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert sent == []


def test_a_write_after_reads_is_one_transaction_that_rolls_back_whole(real_app, sent):
    with real_app.app_context():
        db.session.scalar(sa.select(Category.id))
        db.session.add(Category(name="First of two"))
        db.session.flush()
        db.session.add(Category(name="Second of two"))
        db.session.flush()
        # a read once the transaction is open runs in it, and sees its writes
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Category)
                                 .where(Category.name.like("% of two"))) == 2
        db.session.rollback()
    assert sent[:2] == [b"BEGIN", b"ROLLBACK"]  # (then DEALLOCATE ALL: what a rollback costs)
    with real_app.app_context():
        assert db.session.scalar(sa.select(Category).where(Category.name.like("% of two"))) is None


def test_a_read_that_locks_rows_holds_them_in_a_transaction(real_app):
    with real_app.app_context():
        engine = db.engine
        locked = db.session.scalar(sa.select(Category.id).limit(1).with_for_update())
        raw = db.session.connection().connection.driver_connection
        assert raw.info.transaction_status == TransactionStatus.INTRANS
        with engine.connect() as other, pytest.raises(sa.exc.OperationalError):
            other.execute(sa.select(Category.id).where(Category.id == locked).with_for_update(nowait=True))
        db.session.rollback()


def test_a_server_side_cursor_streams_in_a_transaction(real_app):
    with real_app.app_context():
        ids = db.session.execute(sa.select(Category.id).execution_options(yield_per=1)).scalars().all()
        assert ids


@pytest.mark.parametrize("statement, alone", [
    ("SELECT ticket.id FROM ticket", True),
    ("  select 1", True),
    ("SHOW server_version", True),
    ("SELECT id FROM ticket LIMIT 5 FOR UPDATE SKIP LOCKED", False),
    ("SELECT id FROM ticket FOR NO KEY UPDATE", False),
    ("SELECT id FROM ticket\nFOR  SHARE", False),
    ("SELECT id FROM ticket FOR KEY SHARE", False),
    ("WITH picked AS (SELECT id FROM ticket) UPDATE ticket SET version = 2", False),
    ("INSERT INTO category (name) VALUES ('x')", False),
    ("SAVEPOINT sa_savepoint_1", False),
])
def test_which_statements_run_alone(statement, alone):
    assert reads_only(statement) is alone


def test_a_request_whose_read_failed_still_ends_cleanly(real_app):
    with real_app.app_context():
        with pytest.raises(sa.exc.ProgrammingError):
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        # the view handled the error and answered; the transaction is aborted, not committed
    with real_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Category)) >= 1


def test_a_request_that_never_queried_checks_out_no_connection(real_app):
    """E.g. an API call whose caller was kept: a transaction began, no statement ran."""
    with real_app.app_context():
        engine = db.engine
    checkouts = []

    def checked_out(*_args):
        checkouts.append(1)

    sa.event.listen(engine, "checkout", checked_out)
    try:
        with real_app.app_context():
            db.session.begin()  # as a merge of a kept row does, without a connection
            assert db.session().in_transaction()
    finally:
        sa.event.remove(engine, "checkout", checked_out)
    assert checkouts == []
