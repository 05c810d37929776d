"""Read-only requests end with COMMIT so psycopg's prepared statements survive; writes are never
committed by it (PostgreSQL only: SQLite has no prepared-statement cache to keep)."""
import pytest
import sqlalchemy as sa

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


def test_a_failed_request_is_rolled_back_even_if_it_only_read(real_app):
    with real_app.app_context():
        engine = db.engine
    ends = []

    def rolled_back(_conn):
        ends.append("ROLLBACK")

    def committed(_conn):
        ends.append("COMMIT")

    sa.event.listen(engine, "rollback", rolled_back)
    sa.event.listen(engine, "commit", committed)
    try:
        with pytest.raises(RuntimeError), real_app.app_context():
            db.session.scalar(sa.select(Category.id))
            raise RuntimeError("the view failed")
        with real_app.app_context():
            db.session.scalar(sa.select(Category.id))
    finally:
        sa.event.remove(engine, "rollback", rolled_back)
        sa.event.remove(engine, "commit", committed)
    assert ends == ["ROLLBACK", "COMMIT"]


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
