"""The dashboard's filter menus are reused for a few seconds, and never hide this process's own changes."""
from sqlalchemy import insert

from webapp.extensions import db
from webapp.models import Category
from webapp.services import recent, users

from .test_queries import recorded_queries


def menu_queries(client) -> list[str]:
    with recorded_queries() as statements:
        assert client.get("/").status_code == 200
    menus = ("SELECT category.id, category.name, category.active", "SELECT user.id, user.display_name")
    return [sql for sql, _ in statements if sql.replace('"', "").startswith(menus)]


def test_menus_are_read_once_then_reused(client, agent, make):
    make.ticket(actor=agent, assignee=make.user())  # a new category and a new person: both lists reread
    assert len(menu_queries(client)) == 2
    assert menu_queries(client) == []  # then both come from memory


def test_a_change_made_here_shows_on_the_next_page(client, agent, make, admin):
    client.get("/")
    make.cti("Freshly added queue", "Type")
    users.create_user(admin, username="newbie", display_name="Nora Newcomer", role="AGENT", password="pw-long-enough-1")
    page = client.get("/").get_data(as_text=True)
    assert "Freshly added queue" in page and "Nora Newcomer" in page


def test_another_process_change_shows_within_the_freshness_window(client, agent, monkeypatch):
    client.get("/")
    # What another gunicorn worker would do: a write this process's ORM never saw.
    db.session.execute(insert(Category.__table__).values(name="Elsewhere"))
    db.session.commit()
    assert "Elsewhere" not in client.get("/").get_data(as_text=True)
    later = recent.time.monotonic() + recent.FRESH_SECONDS + 0.1
    monkeypatch.setattr(recent.time, "monotonic", lambda: later)
    assert "Elsewhere" in client.get("/").get_data(as_text=True)


