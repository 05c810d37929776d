"""A change to a person, a key or the CTI tree committed by one process is obeyed by the very next
request of every other process: two apps on one database stand for two gunicorn workers, each
keeping what it looked up (services.recent)."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import Role, SignIn, User
from webapp.services import cti_admin, users

from .conftest import CsrfClient, committing_app, make_app
from .factories import PASSWORD, Factories


@pytest.fixture(scope="module")
def apps(database_url, tmp_path_factory):
    """(a, b): two app instances, as two processes, on one migrated database of their own."""
    with committing_app(database_url, "kept", tmp_path_factory.mktemp("kept")) as a:
        b = make_app(a.config["SQLALCHEMY_DATABASE_URI"])
        try:
            yield a, b
        finally:
            with b.app_context():
                db.engine.dispose()


def in_app(app, work):
    """What `work()` returns, run in its own app context (as a request or a command of that process)."""
    with app.app_context():
        try:
            return work()
        finally:
            db.session.remove()


def client_of(app):
    app.test_client_class = CsrfClient
    return app.test_client()


def service_account(a, name: str) -> tuple[int, str]:
    def made():
        user = Factories().user(name, role=Role.SERVICE)
        return user.id, user.plain_api_key

    return in_app(a, made)


def me(app, key: str) -> int:
    return client_of(app).get("/api/me", headers={"X-Api-Key": key}).status_code


def test_a_deactivated_service_account_is_refused_by_the_next_call_elsewhere(apps):
    a, b = apps
    user_id, key = service_account(a, "robot-deactivated")
    assert me(b, key) == 200 and me(b, key) == 200  # b now keeps the caller
    in_app(a, lambda: users.set_active(None, db.session.get(User, user_id), False))
    assert me(b, key) == 401


def test_a_rotated_key_is_refused_by_the_next_call_elsewhere(apps):
    a, b = apps
    user_id, old_key = service_account(a, "robot-rotated")
    assert me(b, old_key) == 200 and me(b, old_key) == 200
    new_key = in_app(a, lambda: users.rotate_api_key(None, db.session.get(User, user_id)))
    assert me(b, old_key) == 401
    assert me(b, new_key) == 200


def test_a_deactivated_item_refuses_the_next_ticket_elsewhere(apps):
    a, b = apps
    _, key = service_account(a, "robot-filer")
    admin_id = in_app(a, lambda: Factories().user("cti-admin", role=Role.ADMIN).id)
    ids = in_app(a, lambda: tuple(entry.id for entry in Factories().cti("Kept", "Chain", "Leaf")))
    body = {"title": "Nightly backup", "overview": "", "severity": 5,
            "categoryId": ids[0], "typeId": ids[1], "itemId": ids[2]}
    api = client_of(b)
    for _ in range(2):  # b now keeps the chain
        assert api.post("/api/tickets", json=body, headers={"X-Api-Key": key}).status_code == 201
    in_app(a, lambda: cti_admin.set_entry_active(db.session.get(User, admin_id), "item", ids[2], False))
    refused = api.post("/api/tickets", json=body, headers={"X-Api-Key": key})
    assert refused.status_code == 422 and "itemId" in refused.get_json()["error"]["fields"]


def signed_in(app, username: str):
    client = client_of(app)
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 303
    return client


def test_a_deactivated_person_is_signed_out_by_the_next_page_elsewhere(apps):
    a, b = apps
    user_id = in_app(a, lambda: Factories().user("agent-deactivated").id)
    browser = signed_in(b, "agent-deactivated")
    assert browser.get("/").status_code == 200 and browser.get("/").status_code == 200
    in_app(a, lambda: users.set_active(None, db.session.get(User, user_id), False))
    refused = browser.get("/")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]


def test_a_demoted_admin_is_refused_the_admin_pages_by_the_next_request_elsewhere(apps):
    a, b = apps
    in_app(a, lambda: Factories().user("admin-stays", role=Role.ADMIN))
    user_id = in_app(a, lambda: Factories().user("admin-demoted", role=Role.ADMIN).id)
    browser = signed_in(b, "admin-demoted")
    assert browser.get("/admin/users").status_code == 200
    in_app(a, lambda: users.update_user(None, db.session.get(User, user_id), role="AGENT"))
    refused = browser.get("/admin/users")  # a role change ends the sign-in
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert signed_in(b, "admin-demoted").get("/admin/users").status_code == 403


def test_signing_out_refuses_a_copied_cookie_on_the_next_request_elsewhere(apps):
    """Only sign_in rows change (no user row): its own triggers raise the version (migration 0003)."""
    a, b = apps
    in_app(a, lambda: Factories().user("agent-signs-out"))
    device = signed_in(a, "agent-signs-out")
    thief = client_of(b)
    thief.set_cookie("session", device.get_cookie("session").value)
    assert thief.get("/").status_code == 200 and thief.get("/").status_code == 200  # b now keeps it
    assert device.post("/logout").status_code == 303
    refused = thief.get("/")
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]


def test_a_sign_in_ended_outside_the_app_is_refused_by_the_next_request(apps):
    a, b = apps
    user_id = in_app(a, lambda: Factories().user("agent-by-hand").id)
    browser = signed_in(b, "agent-by-hand")
    assert browser.get("/").status_code == 200 and browser.get("/").status_code == 200
    engine = sa.create_engine(a.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.begin() as conn:
            conn.execute(sa.delete(SignIn.__table__).where(SignIn.__table__.c.user_id == user_id))
    finally:
        engine.dispose()
    assert browser.get("/").status_code == 302


def test_a_write_outside_the_app_is_obeyed_by_the_next_call(apps):
    """The database raises the version itself (triggers): a write made with plain SQL, as from psql,
    counts as much as one through the services."""
    a, b = apps
    user_id, key = service_account(a, "robot-by-hand")
    assert me(b, key) == 200 and me(b, key) == 200
    engine = sa.create_engine(a.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(User.__table__).where(User.__table__.c.id == user_id).values(active=False))
    finally:
        engine.dispose()
    assert me(b, key) == 401


def test_a_rolled_back_write_leaves_the_version_alone(apps):
    a, _ = apps
    version = sa.text("SELECT version FROM cache_version")
    before = in_app(a, lambda: db.session.scalar(version))

    def rolled_back():
        db.session.execute(sa.update(User).values(display_name=User.display_name + "!"))
        db.session.rollback()
        return db.session.scalar(version)

    assert in_app(a, rolled_back) == before
