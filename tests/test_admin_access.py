"""Every admin route x every kind of caller: only a signed-in admin gets in."""
import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Role

# (method, path template). Placeholders are filled from objects made per test.
ADMIN_ROUTES = [
    ("GET", "/admin"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("GET", "/admin/users/{agent}"),
    ("POST", "/admin/users/{agent}"),
    ("POST", "/admin/users/{agent}/password"),
    ("POST", "/admin/users/{agent}/deactivate"),
    ("POST", "/admin/users/{agent}/reactivate"),
    ("GET", "/admin/users/{robot}/key"),
    ("POST", "/admin/users/{robot}/key"),
    ("GET", "/admin/users/{robot}/key/once"),
    ("GET", "/admin/cti"),
    ("POST", "/admin/cti/category"),
    ("POST", "/admin/cti/type"),
    ("POST", "/admin/cti/item"),
    ("GET", "/admin/cti/item/{item}/edit"),
    ("GET", "/admin/cti/item/{item}/name"),
    ("POST", "/admin/cti/item/{item}/name"),
    ("POST", "/admin/cti/item/{item}/deactivate"),
    ("POST", "/admin/cti/item/{item}/reactivate"),
    ("POST", "/admin/cti/item/{item}/delete"),
    ("GET", "/admin/log"),
    ("GET", "/admin/attachments"),
    ("POST", "/admin/attachments/{removed}/purge"),
]
FORM = {"name": "Renamed", "password": "a new password 123", "display_name": "New Name",
        "username": "newbie", "role": "AGENT", "parent_id": ""}


@pytest.fixture
def world(make):
    """An admin, an agent, a service account and a CTI chain for the paths to point at."""
    make.user("boss", role=Role.ADMIN)
    agent = make.user("agent")
    robot = make.user("robot", role=Role.SERVICE)
    _, _, item = make.cti("Infra", "Servers", "Web")
    return {"agent": agent.id, "robot": robot.id, "item": item.id, "robot_key": robot.plain_api_key,
            "removed": _removed_attachment(make.ticket(actor=agent), agent)}


def _removed_attachment(ticket, uploader) -> int:
    """A file removed from a ticket and still kept: what an admin may purge."""
    import io

    from webapp.services.attachment_files import Upload
    from webapp.services.attachments import add_attachments, remove_attachment

    (attachment,) = add_attachments(uploader, ticket, [Upload("old.log", None, io.BytesIO(b"x"))])
    remove_attachment(uploader, ticket, attachment)
    return attachment.id


def call(client, method, template, world, **kwargs):
    path = template.format(**world)
    if method == "GET":
        return client.get(path, **kwargs)
    return client.post(path, data=FORM, **kwargs)


def admin_event_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.ticket_id.is_(None)))


def test_route_table_covers_every_admin_route(app):
    """A new admin route must be added to ADMIN_ROUTES, so its access is tested too."""
    declared = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    adapter = app.url_map.bind("localhost")
    ids = {"agent": 1, "robot": 2, "item": 3, "removed": 4}
    covered = {(adapter.match(path.format(**ids), method=method)[0], method) for method, path in ADMIN_ROUTES}
    assert covered == declared


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_anonymous_is_sent_to_login(client, world, method, path):
    before = admin_event_count()
    response = call(client, method, path, world)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert admin_event_count() == before


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_agent_gets_403_page_and_changes_nothing(client, auth, world, method, path):
    auth.login("agent")
    before = admin_event_count()
    response = call(client, method, path, world)
    assert response.status_code == 403
    assert b"Not allowed" in response.data and b"<html" in response.data
    assert admin_event_count() == before


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_service_key_is_not_admitted(client, world, method, path):
    before = admin_event_count()
    response = call(client, method, path, world, headers={"X-Api-Key": world["robot_key"]})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert admin_event_count() == before


@pytest.mark.parametrize(("method", "path"), [r for r in ADMIN_ROUTES if r[0] == "GET"])
def test_admin_opens_every_page(client, auth, world, method, path):
    auth.login("boss")
    response = call(client, method, path, world)
    # A plain GET of the cancel URL goes back to the tree; a key page with no key pending, to the user.
    expected = 303 if path.endswith(("/name", "/key/once")) else 200
    assert response.status_code == expected
    if expected == 200:
        assert b"<html" in response.data


@pytest.mark.parametrize(("method", "path"), [r for r in ADMIN_ROUTES if r[0] == "POST"])
def test_admin_is_admitted_to_every_action(client, auth, world, method, path):
    auth.login("boss")
    response = call(client, method, path, world)
    assert response.status_code in (200, 303, 409, 422)
    assert "/login" not in response.headers.get("Location", "")


@pytest.mark.parametrize(("method", "path"), [r for r in ADMIN_ROUTES if r[0] == "POST"])
def test_admin_actions_require_csrf(client, auth, world, method, path):
    auth.login("boss")
    before = admin_event_count()
    response = call(client, method, path, world, csrf=False)
    assert response.status_code == 400
    assert admin_event_count() == before


def test_admin_link_shows_for_admins_only(client, auth, world):
    auth.login("agent")
    assert b'href="/admin"' not in client.get("/").data
    auth.logout()
    auth.login("boss")
    assert b'href="/admin"' in client.get("/").data


def test_htmx_call_without_session_gets_hx_redirect(client, world):
    response = client.get("/admin/cti/item/{item}/edit".format(**world),
                          headers={"HX-Request": "true", "HX-Request-Type": "partial"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
