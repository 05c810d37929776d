"""Every admin action is audited and readable on /admin/log, newest first, page by page."""
import re

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Role
from webapp.services import cti_admin
from webapp.services import users as user_service

from .factories import PASSWORD


@pytest.fixture
def boss(make, auth):
    user = make.user("boss", role=Role.ADMIN, display_name="The Boss")
    auth.login("boss")
    return user


def admin_rows() -> list[AuditEvent]:
    query = db.select(AuditEvent).where(AuditEvent.ticket_id.is_(None)).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def test_every_admin_action_writes_one_audit_row_with_actor_and_target(client, boss, make):
    """Drive each admin action through the web UI and check the trail it leaves."""
    agent = make.user("agent")
    robot = make.user("robot", role=Role.SERVICE)
    cat, typ, item = make.cti("Infra", "Servers", "Web")
    start = len(admin_rows())
    actions = [
        ("/admin/users/new", {"role": "AGENT", "username": "new", "display_name": "New", "password": PASSWORD},
         "user_create", "user"),
        (f"/admin/users/{agent.id}", {"display_name": "Agent X", "role": "AGENT"}, "user_update", "user"),
        (f"/admin/users/{agent.id}/password", {"password": "another password"}, "user_password_reset", "user"),
        (f"/admin/users/{agent.id}/deactivate", {}, "user_deactivate", "user"),
        (f"/admin/users/{agent.id}/reactivate", {}, "user_reactivate", "user"),
        (f"/admin/users/{robot.id}/key", {}, "api_key_rotate", "user"),
        ("/admin/cti/item", {"name": "Mail", "parent_id": typ.id}, "cti_add", "item"),
        (f"/admin/cti/item/{item.id}/name", {"name": "Web 2"}, "cti_rename", "item"),
        (f"/admin/cti/type/{typ.id}/deactivate", {}, "cti_deactivate", "type"),
        (f"/admin/cti/type/{typ.id}/reactivate", {}, "cti_reactivate", "type"),
        (f"/admin/cti/item/{item.id}/delete", {}, "cti_delete", "item"),
    ]
    for path, form, action, target_type in actions:
        assert client.post(path, data=form).status_code in (200, 303), path
        rows = admin_rows()[start:]
        assert len(rows) == 1, (path, [r.action for r in rows])
        [row] = rows
        assert (row.action, row.target_type, row.actor_id) == (action, target_type, boss.id)
        assert row.created_at is not None and row.target_id is not None
        start += 1


def test_refused_actions_leave_no_audit_row(client, boss, make):
    chain = make.cti("Infra", "Servers", "Web")
    make.ticket(cti=chain)
    before = len(admin_rows())
    client.post(f"/admin/users/{boss.id}/deactivate")
    client.post(f"/admin/users/{boss.id}", data={"display_name": "The Boss", "role": "AGENT"})
    client.post(f"/admin/cti/item/{chain[2].id}/delete")
    client.post("/admin/cti/category", data={"name": "infra"})
    assert len(admin_rows()) == before


def test_log_page_says_who_did_what_to_which_entry(client, boss, make):
    agent = make.user("agent", display_name="Ann Agent")
    _, _, item = make.cti("Infra", "Servers", "Web")
    user_service.update_user(boss, agent, role="ADMIN")
    cti_admin.rename_entry(boss, "item", item.id, "Web front")
    page = client.get("/admin/log").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "The Boss edited Ann Agent (@agent)" in text
    assert "Role AGENT → ADMIN" in text
    assert "The Boss renamed item “Infra › Servers › Web”" in text
    assert "Name Web → Web front" in text
    assert text.index("renamed item") < text.index("edited Ann Agent")  # newest first
    assert f'href="/admin/users/{agent.id}"' in page


def test_log_leaves_out_ticket_events(client, boss, make):
    make.ticket(title="Noise")
    page = client.get("/admin/log").get_data(as_text=True)
    assert "Noise" not in page and "created agent" in page  # the ticket's creator was made by the factory


def test_log_pages_through_older_and_newer(client, boss, make):
    _, typ, _ = make.cti("Infra", "Servers", "Seed")
    for n in range(60):
        cti_admin.add_entry(boss, "item", f"Item {n:02d}", typ.id)
    first = client.get("/admin/log").get_data(as_text=True)
    assert first.count('class="log-entry"') == 50
    assert "Item 59" in first and "Item 09" not in first and "Newer" not in first
    older = re.search(r'href="(/admin/log\?before=\d+)"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert "Item 09" in second and "Item 59" not in second and "Older" not in second
    newer = re.search(r'href="(/admin/log\?after=\d+)"', second).group(1)
    back = client.get(newer).get_data(as_text=True)
    assert back.count('class="log-entry"') == 50 and "Item 59" in back and "Item 10" in back


def test_log_filters_users_or_cti(client, boss, make):
    make.user("agent", display_name="Ann Agent")
    cti_admin.add_entry(boss, "category", "Facilities")
    users_only = client.get("/admin/log?kind=users").get_data(as_text=True)
    cti_only = client.get("/admin/log?kind=cti").get_data(as_text=True)
    assert "Ann Agent" in users_only and "Facilities" not in users_only
    assert "Facilities" in cti_only and "Ann Agent" not in cti_only


def test_log_narrows_to_one_account(client, boss, make):
    ann = make.user("ann", display_name="Ann Agent")
    bob = make.user("bob", display_name="Bob Agent")
    user_service.update_user(boss, ann, display_name="Ann Renamed")
    user_service.update_user(boss, bob, display_name="Bob Renamed")
    assert f'href="/admin/log?kind=users&amp;target={ann.id}"' in client.get(f"/admin/users/{ann.id}").get_data(as_text=True)
    page = client.get(f"/admin/log?kind=users&target={ann.id}").get_data(as_text=True)
    assert "Ann Renamed" in page and "Bob" not in page


def test_log_survives_nonsense_paging_parameters(client, boss):
    assert client.get("/admin/log?before=abc&after=-1&kind=bogus").status_code == 200
    assert client.get("/admin/log?before=99999999999999999999").status_code == 200


def test_overview_shows_counts_and_recent_activity(client, boss, make):
    make.user("agent")
    make.user("robot", role=Role.SERVICE)
    make.user("gone", active=False)
    cti_admin.add_entry(boss, "category", "Facilities")
    page = client.get("/admin").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Admins 1 " in text and "Agents 1 " in text and "Service accounts 1 " in text and "Deactivated 1 " in text
    assert "The Boss added category “Facilities”" in text
