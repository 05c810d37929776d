"""A pooled connection whose backend died is replaced before a request uses it."""
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from webapp.extensions import db

from .conftest import make_app

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(database_url):
    if sa.make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the pool check is for PostgreSQL")
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


def backend_pid(app) -> int:
    """One unit of work, as a request does it: check a connection out, use it, give it back."""
    with app.app_context():
        return db.session.scalar(sa.text("SELECT pg_backend_pid()"))


def terminate(database_url: str, pid: int) -> None:
    engine = sa.create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})  # and wait
    engine.dispose()


def test_a_pooled_connection_is_reused(pg_app):
    assert len({backend_pid(pg_app) for _ in range(5)}) == 1


def test_a_connection_whose_backend_was_terminated_is_replaced_before_use(pg_app, database_url):
    dead = backend_pid(pg_app)
    terminate(database_url, dead)  # as a database restart or pg_terminate_backend does
    assert backend_pid(pg_app) != dead  # the request still got its answer, on a new connection
