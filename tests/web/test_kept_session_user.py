"""The person behind a browser session is kept per process like an API caller: pages stop reading
the user table on every request, and a change made here or by any other process applies on the
next page (services.recent)."""
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import User
from webapp.services import recent
from webapp.services.users import update_user

from ..conftest import written_elsewhere
from .test_queries import recorded_queries


def user_reads(client) -> int:
    """Statements a dashboard view spends reading a user by id, its session starting empty."""
    db.session.expunge_all()
    with recorded_queries() as statements:
        assert client.get("/").status_code == 200
    return sum(1 for text, _ in statements if "user.id = " in text.replace('"user"', "user"))


def test_a_second_page_does_not_read_the_signed_in_user(client, agent):
    recent.forget_all(client.application)
    assert user_reads(client) == 1
    assert user_reads(client) == 0


def test_a_role_change_made_here_applies_on_the_next_page(client, auth, agent):
    client.get("/")
    update_user(None, agent, role="ADMIN")
    assert client.get("/admin/users").status_code == 302  # a role change ends the sign-in
    auth.login("agent")
    assert client.get("/admin/users").status_code == 200


def test_another_process_deactivating_the_user_signs_them_out_on_the_next_page(client, agent):
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200  # kept now
    written_elsewhere(sa.update(User).where(User.id == agent.id).values(active=False))
    assert client.get("/").status_code == 302  # to the sign-in page
