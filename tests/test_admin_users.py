"""Admins manage people and service accounts; the rules hold whatever the form says."""
import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Role, User
from webapp.services import ValidationError
from webapp.services import users as user_service
from webapp.services.users import user_for_api_key

from .factories import PASSWORD


@pytest.fixture
def boss(make, auth):
    """A signed-in admin."""
    user = make.user("boss", role=Role.ADMIN, display_name="The Boss")
    auth.login("boss")
    return user


def admin_events(action: str) -> list[AuditEvent]:
    query = db.select(AuditEvent).filter_by(action=action, ticket_id=None).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def user_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(User))


def test_users_page_lists_role_status_and_last_login(client, boss, make):
    make.user("agent", display_name="Ann Agent")
    make.user("gone", display_name="Gone Person", active=False)
    make.user("robot", role=Role.SERVICE)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Ann Agent" in page and "@agent" in page and "Agent" in page
    assert "Deactivated" in page and "Gone Person" in page
    assert "Service account" in page and "API only" in page
    assert "just now" in page  # boss signed in a moment ago
    assert "never" in page


def test_admin_creates_an_agent_with_a_password(client, auth, boss):
    response = client.post("/admin/users/new", data={
        "role": "AGENT", "username": "Newbie", "display_name": "New Bie", "password": "long enough pw",
    })
    user = user_service.find_user("newbie")
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{user.id}"
    assert user.role == Role.AGENT and user.display_name == "New Bie" and user.api_key_hash is None
    [event] = admin_events("user_create")[-1:]
    assert event.actor_id == boss.id and event.target_type == "user" and event.target_id == user.id
    auth.logout()
    assert auth.login("newbie", "long enough pw").status_code == 303


def test_service_account_key_is_shown_exactly_once(client, boss):
    response = client.post("/admin/users/new", data={"role": "SERVICE", "username": "n8n", "display_name": "n8n"})
    robot = user_service.find_user("n8n")
    once = f"/admin/users/{robot.id}/key/once"
    assert response.status_code == 303 and response.headers["Location"] == once  # not /admin/users/new
    assert "sk_" not in response.get_data(as_text=True)
    response = client.get(once)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    key = page.split('id="new-key" class="mono key-value" value="')[1].split('"')[0]
    assert user_for_api_key(key) is robot and robot.password_hash is None
    assert "will not be shown again" in page and "data-copy" in page
    again = client.get(once)  # shown once: a reload finds it gone
    assert again.status_code == 303 and again.headers["Location"] == f"/admin/users/{robot.id}"
    for path in (once, "/admin/users", f"/admin/users/{robot.id}", "/admin/users/new", "/admin", "/admin/log"):
        assert key not in client.get(path).get_data(as_text=True), path
    assert key not in str([(e.before, e.after) for e in admin_events("user_create")])


def test_duplicate_username_rerenders_form_with_message_and_input_kept(client, boss, make):
    make.user("taken")
    before = user_count()
    response = client.post("/admin/users/new", data={
        "role": "AGENT", "username": "Taken", "display_name": "Second Taken", "password": "short",
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The username “taken” is taken." in page
    assert "Use at least 8 characters." in page  # every bad field reported at once
    assert 'value="Second Taken"' in page and 'value="Taken"' in page
    assert "short" not in page  # a password is never echoed back
    assert user_count() == before


def test_create_rejects_empty_names_without_creating(client, boss):
    before = user_count()
    response = client.post("/admin/users/new", data={"role": "AGENT", "username": " ", "display_name": "", "password": ""})
    assert response.status_code == 422
    assert b"Use 2" in response.data and b"Give a display name" in response.data
    assert user_count() == before


def test_admin_edits_display_name_and_role(client, boss, make):
    agent = make.user("agent", display_name="Old Name")
    response = client.post(f"/admin/users/{agent.id}", data={"display_name": "  New   Name ", "role": "ADMIN"})
    assert response.status_code == 303
    assert agent.display_name == "New Name" and agent.role == Role.ADMIN
    [event] = admin_events("user_update")
    assert event.before == {"displayName": "Old Name", "role": "AGENT"}
    assert event.after == {"displayName": "New Name", "role": "ADMIN"}


def test_admin_sets_a_service_accounts_own_api_budget(client, boss, make):
    robot = make.user("robot", role=Role.SERVICE)
    page = client.get(f"/admin/users/{robot.id}").get_data(as_text=True)
    assert 'name="api_rate_limit"' in page and "300 per minute" in page  # the default, named
    response = client.post(f"/admin/users/{robot.id}", data={"display_name": "Robot", "api_rate_limit": "600 per minute"})
    assert response.status_code == 303 and robot.api_rate_limit == "600 per minute"
    [event] = admin_events("user_update")
    assert event.before["apiRateLimit"] is None and event.after["apiRateLimit"] == "600 per minute"
    refused = client.post(f"/admin/users/{robot.id}", data={"display_name": "Robot", "api_rate_limit": "lots"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="api_rate_limit-error"' in text and 'value="lots"' in text
    db.session.refresh(robot)
    assert robot.api_rate_limit == "600 per minute"
    agent = make.user("person")
    assert 'name="api_rate_limit"' not in client.get(f"/admin/users/{agent.id}").get_data(as_text=True)


def test_saving_unchanged_profile_writes_no_audit_event(client, boss, make):
    agent = make.user("agent", display_name="Same")
    client.post(f"/admin/users/{agent.id}", data={"display_name": "Same", "role": "AGENT"})
    assert admin_events("user_update") == []


def test_edit_with_empty_display_name_shows_error_and_keeps_old_name(client, boss, make):
    agent = make.user("agent", display_name="Kept")
    response = client.post(f"/admin/users/{agent.id}", data={"display_name": "  ", "role": "ADMIN"})
    assert response.status_code == 422 and b"Give a display name" in response.data
    db.session.refresh(agent)
    assert agent.display_name == "Kept" and agent.role == Role.AGENT


def test_admin_cannot_demote_themself(client, boss, make):
    make.user("other", role=Role.ADMIN)
    page = client.get(f"/admin/users/{boss.id}").get_data(as_text=True)
    assert "You cannot remove your own admin role" in page and "disabled" in page
    response = client.post(f"/admin/users/{boss.id}", data={"display_name": "The Boss", "role": "AGENT"})
    assert response.status_code == 422
    assert "You cannot remove your own admin role" in response.get_data(as_text=True)
    db.session.refresh(boss)
    assert boss.role == Role.ADMIN and admin_events("user_update") == []


def test_admin_cannot_deactivate_themself(client, boss, make):
    make.user("other", role=Role.ADMIN)
    response = client.post(f"/admin/users/{boss.id}/deactivate")
    assert response.status_code == 422 and "You cannot deactivate yourself" in response.get_data(as_text=True)
    db.session.refresh(boss)
    assert boss.active and client.get("/admin").status_code == 200


def test_last_active_admin_cannot_be_demoted_or_deactivated(make):
    only = make.user("only", role=Role.ADMIN)
    make.user("dormant", role=Role.ADMIN, active=False)  # an inactive admin does not count
    with pytest.raises(ValidationError, match="last active admin"):
        user_service.update_user(None, only, role="AGENT")
    with pytest.raises(ValidationError, match="last active admin"):
        user_service.set_active(None, only, False)
    db.session.refresh(only)
    assert only.active and only.role == Role.ADMIN


def test_with_a_second_admin_one_may_be_demoted(client, boss, make):
    other = make.user("other", role=Role.ADMIN)
    assert client.post(f"/admin/users/{other.id}", data={"display_name": "Other", "role": "AGENT"}).status_code == 303
    assert other.role == Role.AGENT
    with pytest.raises(ValidationError, match="last active admin"):
        user_service.set_active(None, boss, False)


def test_service_accounts_and_people_cannot_swap_kinds(make):
    robot = make.user("robot", role=Role.SERVICE)
    agent = make.user("agent")
    with pytest.raises(ValidationError, match="cannot swap kinds"):
        user_service.update_user(None, robot, role="AGENT")
    with pytest.raises(ValidationError, match="cannot swap kinds"):
        user_service.update_user(None, agent, role="SERVICE")


def test_deactivation_blocks_login_sessions_and_keys_at_once(app, make, boss, client):
    agent = make.user("agent")
    robot = make.user("robot", role=Role.SERVICE)
    agent_browser = app.test_client()  # a second browser, signed in as the agent
    assert agent_browser.post("/login", data={"username": "agent", "password": PASSWORD}).status_code == 303
    assert agent_browser.get("/").status_code == 200

    assert client.post(f"/admin/users/{agent.id}/deactivate").status_code == 303
    assert client.post(f"/admin/users/{robot.id}/deactivate").status_code == 303

    assert agent_browser.get("/").status_code == 302
    assert agent_browser.post("/login", data={"username": "agent", "password": PASSWORD}).status_code == 422
    assert client.get("/api/me", headers={"X-Api-Key": robot.plain_api_key}).status_code == 401
    assert [e.target_id for e in admin_events("user_deactivate")] == [agent.id, robot.id]


def test_reactivation_restores_access(client, boss, make):
    robot = make.user("robot", role=Role.SERVICE, active=False)
    assert client.post(f"/admin/users/{robot.id}/reactivate").status_code == 303
    assert client.get("/api/me", headers={"X-Api-Key": robot.plain_api_key}).status_code == 200
    [event] = admin_events("user_reactivate")
    assert event.before == {"active": False} and event.after == {"active": True}


def test_deactivated_users_keep_their_name_on_tickets(client, boss, make):
    agent = make.user("agent", display_name="Dana Departed")
    make.ticket(actor=agent, assignee=agent, title="Left behind")
    client.post(f"/admin/users/{agent.id}/deactivate")
    dashboard = client.get("/").get_data(as_text=True)
    assert "Left behind" in dashboard and 'title="Dana Departed"' in dashboard


def test_reset_password_replaces_the_old_one(app, client, boss, make):
    agent = make.user("agent")
    assert client.post(f"/admin/users/{agent.id}/password", data={"password": "brand new secret"}).status_code == 303
    assert user_service.authenticate("agent", PASSWORD) is None
    assert user_service.authenticate("agent", "brand new secret") is agent
    [event] = admin_events("user_password_reset")
    assert event.target_id == agent.id and "brand new secret" not in str((event.before, event.after))


def test_reset_password_too_short_changes_nothing(client, boss, make):
    agent = make.user("agent")
    response = client.post(f"/admin/users/{agent.id}/password", data={"password": "short"})
    assert response.status_code == 422 and b"Use at least 8 characters." in response.data
    assert user_service.authenticate("agent", PASSWORD) is agent
    assert admin_events("user_password_reset") == []


def test_service_accounts_have_no_password_to_reset(client, boss, make):
    robot = make.user("robot", role=Role.SERVICE)
    response = client.post(f"/admin/users/{robot.id}/password", data={"password": "whatever long"})
    assert response.status_code == 422 and b"no password" in response.data
    assert robot.password_hash is None


def test_regenerating_a_key_kills_the_old_one_at_once(client, boss, make):
    robot = make.user("robot", role=Role.SERVICE)
    old = robot.plain_api_key
    users_page = client.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{robot.id}/key"' in users_page  # the refresh icon
    confirm = client.get(f"/admin/users/{robot.id}/key").get_data(as_text=True)
    assert "stops working the moment you confirm" in confirm
    response = client.post(f"/admin/users/{robot.id}/key")
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{robot.id}/key/once"
    response = client.get(response.headers["Location"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    new = response.get_data(as_text=True).split('value="')[-1].split('"')[0]
    assert new.startswith("sk_") and new != old
    assert client.get("/api/me", headers={"X-Api-Key": old}).status_code == 401
    assert client.get("/api/me", headers={"X-Api-Key": new}).status_code == 200
    [event] = admin_events("api_key_rotate")
    assert event.before == {"prefix": old[:8]} and event.after == {"prefix": new[:8]}


def test_people_have_no_service_key_to_regenerate(client, boss, make):
    agent = make.user("agent")
    response = client.post(f"/admin/users/{agent.id}/key")
    assert response.status_code == 422 and b"Only service accounts" in response.data
    assert agent.api_key_hash is None


def test_unknown_user_is_a_404_page(client, boss):
    response = client.get("/admin/users/999999")
    assert response.status_code == 404 and b"No user" in response.data
    assert client.get(f"/admin/users/{'9' * 25}").status_code == 404
