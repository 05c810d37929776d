"""The dashboard's filter menus are reused while nothing they list changed, in this process or any other."""
from sqlalchemy import insert

from webapp.models import Category
from webapp.services import cti_admin, users

from ..conftest import written_elsewhere
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


def test_another_process_change_shows_on_the_next_page(client, agent):
    client.get("/")
    # What another gunicorn worker would do: a write this process's ORM never saw.
    written_elsewhere(insert(Category.__table__).values(name="Elsewhere"))
    assert "Elsewhere" in client.get("/").get_data(as_text=True)




def test_ticket_page_choices_follow_an_admin_change_at_once(client, agent, make, admin):
    category, type_, web = make.cti("Infra", "Servers", "web-01")
    spare = make.cti("Infra", "Servers", "db-01")[2]
    helper = make.user("helper", display_name="Hal Helper")
    ticket = make.ticket(actor=agent, cti=(category, type_, spare))
    page = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert "Hal Helper" in page and ">web-01<" in page
    cti_admin.set_entry_active(admin, "item", web.id, False)
    users.set_active(admin, helper, False)
    page = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert "Hal Helper" not in page and ">web-01<" not in page  # neither can take new work
