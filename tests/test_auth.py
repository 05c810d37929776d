"""Sessions for people, hashed API keys for automation, CSRF on every unsafe HTML request."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Role, User, hash_api_key
from webapp.services.users import rotate_api_key, user_for_api_key


def test_login_with_wrong_password_rerenders_with_message(client, auth, make):
    make.user("agent")
    response = auth.login("agent", "wrong password")
    assert response.status_code == 422
    assert b"do not match" in response.data
    assert b'value="agent"' in response.data


def test_login_records_last_login_and_redirects_to_next(client, make):
    user = make.user("agent")
    response = client.post("/login?next=/my-page", data={"username": "Agent", "password": "correct horse battery"})
    assert response.status_code == 303 and response.headers["Location"] == "/my-page"
    assert db.session.get(User, user.id).last_login_at is not None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, make, target):
    make.user("agent")
    response = client.post(f"/login?next={target}", data={"username": "agent", "password": "correct horse battery"})
    assert response.headers["Location"] == "/"


def test_passwords_are_hashed_with_a_modern_scheme(app, make):
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    try:
        user = make.user("hashed")
    finally:
        app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    assert user.password_hash.startswith("scrypt:")
    assert "correct horse" not in user.password_hash


@pytest.fixture
def hash_checks(monkeypatch):
    """Every password hash verified, as (the hash's method and parameters, the password)."""
    import webapp.models.user as users

    checks, real = [], users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash",
                        lambda hashed, password: checks.append((hashed.split("$")[0], password)) or real(hashed, password))
    return checks


def test_unknown_inactive_and_service_usernames_cost_one_hash_check_like_a_wrong_password(
        client, auth, make, app, monkeypatch, hash_checks):
    """No timing: each answer verifies exactly one hash, made with the real hashes' method (scrypt)."""
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", "scrypt")
    real = make.user("agent").password_hash.split("$")[0]
    make.user("gone", active=False)
    make.user("robot", role=Role.SERVICE)
    for username in ("agent", "nobody-at-all", "gone", "robot"):
        hash_checks.clear()
        assert auth.login(username, "a wrong guess").status_code == 422
        assert hash_checks == [(real, "a wrong guess")], username
    assert real.startswith("scrypt:")


def test_service_accounts_cannot_log_in_with_a_password(client, auth, make):
    robot = make.user("robot", role=Role.SERVICE)
    assert robot.password_hash is None
    response = auth.login("robot", "")
    assert response.status_code == 422
    assert client.get("/").status_code == 302


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, auth, make):
    user = make.user("agent")
    assert auth.login().status_code == 303
    assert client.get("/").status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/").status_code == 302
    assert auth.login().status_code == 422


def test_logout_is_post_only(client, auth, make):
    make.user("agent")
    auth.login()
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 303
    assert client.get("/").status_code == 302


def test_login_and_logout_require_csrf_token(client, make):
    make.user("agent")
    response = client.post("/login", data={"username": "agent", "password": "correct horse battery"}, csrf=False)
    assert response.status_code == 400
    assert b"CSRF" in response.data
    client.post("/login", data={"username": "agent", "password": "correct horse battery"})
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/").status_code == 200


def test_session_cookie_flags(client, make):
    make.user("agent")
    response = client.post("/login", data={"username": "agent", "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_api_key_is_stored_only_as_a_hash(make):
    robot = make.user("robot", role=Role.SERVICE)
    key = robot.plain_api_key
    assert key.startswith("sk_") and len(key) > 40
    stored = db.session.execute(sa.select(User.__table__)).mappings().all()
    assert all(key not in str(dict(row)) for row in stored)
    assert robot.api_key_hash == hash_api_key(key) and robot.api_key_prefix == key[:8]


def test_api_key_resolves_its_user_and_rotation_revokes_it(client, make):
    robot = make.user("robot", role=Role.SERVICE)
    old = robot.plain_api_key
    assert user_for_api_key(old) is robot
    assert client.get("/api/me", headers={"X-Api-Key": old}).get_json()["username"] == "robot"
    new = rotate_api_key(None, robot)
    assert user_for_api_key(old) is None and user_for_api_key(new) is robot
    assert client.get("/api/me", headers={"X-Api-Key": old}).status_code == 401


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "sk_wrong"}, {"X-Api-Key": "not-a-key"}])
def test_missing_or_wrong_key_gets_json_401(client, headers):
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_deactivated_users_key_is_refused(client, make):
    robot = make.user("robot", role=Role.SERVICE)
    robot.active = False
    db.session.commit()
    assert client.get("/api/me", headers={"X-Api-Key": robot.plain_api_key}).status_code == 401


def test_session_cookie_does_not_open_the_api(client, auth, make):
    make.user("agent")
    auth.login()
    assert client.get("/api/me").status_code == 401


def test_api_key_does_not_open_html_pages(client, make):
    robot = make.user("robot", role=Role.SERVICE)
    response = client.get("/", headers={"X-Api-Key": robot.plain_api_key})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_route_declares_its_access_policy(app):
    from webapp.auth.access import POLICIES

    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            assert app.view_functions[rule.endpoint].access_policy in POLICIES, rule.rule


def test_app_refuses_to_start_with_an_undeclared_route(app):
    from flask import Flask

    from webapp.auth.access import check_declarations

    bare = Flask("probe")
    bare.add_url_rule("/undeclared", "undeclared", lambda: "x")
    with pytest.raises(RuntimeError, match="/undeclared"):
        check_declarations(bare)


def test_a_key_checked_for_one_request_never_opens_the_next(app, make):
    """The key holder is remembered per request (in its WSGI environ), not in `g`, which requests
    share when they run inside one app context (tests, scripts): a later call without a key, or
    with a wrong one, is refused."""
    from webapp.models import Role

    bot = make.user("once-bot", role=Role.SERVICE)
    plain = app.test_client()  # no per-request reset of g, unlike the suite's CsrfClient
    assert plain.get("/api/me", headers={"X-Api-Key": bot.plain_api_key}).status_code == 200
    assert plain.get("/api/me").status_code == 401
    assert plain.get("/api/me", headers={"X-Api-Key": "sk_" + "x" * 43}).status_code == 401
