"""The person behind a browser session is kept per process like an API caller: pages stop reading
the user table on every request, a change made here applies at once, one made by another process
within CALLER_FRESH_SECONDS."""
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import User
from webapp.services import recent
from webapp.services.users import CALLER_FRESH_SECONDS, update_user

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


def test_a_role_change_made_here_applies_on_the_next_page(client, agent, make):
    client.get("/")
    update_user(None, agent, role="ADMIN")
    assert client.get("/admin/users").status_code == 200


def test_another_process_deactivating_the_user_signs_them_out_within_the_window(client, agent, clock):
    assert client.get("/").status_code == 200
    db.session.execute(sa.update(User).where(User.id == agent.id).values(active=False))
    db.session.expunge_all()  # a request's session starts empty, as in production
    assert client.get("/").status_code == 200  # kept: the window has not passed
    clock[0] += CALLER_FRESH_SECONDS + 0.01
    assert client.get("/").status_code == 302  # to the sign-in page
