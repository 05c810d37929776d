"""Every API route against every kind of caller: no key, a wrong key, a deactivated key, and
the keys of a service account, an agent and an admin."""
import io

import pytest

from webapp.auth.access import API

ROUTES = [
    ("GET", "/api/me", None, 200),
    ("GET", "/api/users", None, 200),
    ("GET", "/api/cti/categories", None, 200),
    ("GET", "/api/cti/types?categoryId={category}", None, 200),
    ("GET", "/api/cti/items?typeId={type}", None, 200),
    ("GET", "/api/tickets", None, 200),
    ("POST", "/api/tickets", "new ticket", 201),
    ("GET", "/api/tickets/{ticket}", None, 200),
    ("PATCH", "/api/tickets/{ticket}", {"severity": 2}, 200),
    ("GET", "/api/tickets/{ticket}/comments", None, 200),
    ("POST", "/api/tickets/{ticket}/comments", {"body": "Looking into it."}, 201),
    ("GET", "/api/tickets/{ticket}/comments/{comment}", None, 200),
    ("PATCH", "/api/tickets/{ticket}/comments/{comment}", {"body": "Edited."}, 200),
    ("DELETE", "/api/tickets/{ticket}/comments/{comment}", None, 204),
    ("GET", "/api/tickets/{ticket}/audit", None, 200),
    ("GET", "/api/tickets/{ticket}/watchers", None, 200),
    ("POST", "/api/tickets/{ticket}/watchers", None, 201),
    ("DELETE", "/api/tickets/{ticket}/watchers", None, 204),
    ("GET", "/api/tickets/{ticket}/links", None, 200),
    ("POST", "/api/tickets/{ticket}/links", "new link", 201),
    ("DELETE", "/api/tickets/{ticket}/links/{link}", None, 204),
    ("POST", "/api/tickets/{ticket}/attachments", "upload", 201),
    ("GET", "/api/tickets/{ticket}/attachments", None, 200),
    ("GET", "/api/tickets/{ticket}/attachments/{attachment}", None, 200),
    ("GET", "/api/tickets/{ticket}/attachments/{attachment}/content", None, 200),
    ("DELETE", "/api/tickets/{ticket}/attachments/{attachment}", None, 204),
    ("GET", "/api/notifications", None, 200),
    ("POST", "/api/notifications/read", {"all": True}, 200),
    ("POST", "/api/tickets/bulk", "bulk change", 200),
    ("GET", "/api/bulk/{job}", None, 200),
    ("GET", "/api/views", None, 200),
    ("POST", "/api/views", {"name": "Mine", "filters": {"assignee": "me"}}, 201),
    ("GET", "/api/views/{view}", None, 200),
    ("PATCH", "/api/views/{view}", {"name": "Renamed"}, 200),
    ("DELETE", "/api/views/{view}", None, 204),
    ("GET", "/api/views/{view}/tickets", None, 200),
    ("GET", "/api/reports", None, 200),
    ("GET", "/api/reports/open-by-age?severity=5", None, 200),
    ("GET", "/api/reports/created-resolved?by=week", None, 200),
    ("GET", "/api/reports/response-times", None, 200),
    ("GET", "/api/reports/top-items?categoryId={category}", None, 200),
    ("GET", "/api/reports/busiest-hours", None, 200),
]
REFUSED = ["none", "wrong", "deactivated"]
ALLOWED = ["service", "agent", "admin"]


@pytest.fixture
def world(make, keys, n8n_cti, n8n_body):
    category, cti_type, _ = n8n_cti
    ticket = make.ticket(actor=keys.service, cti=n8n_cti)
    return {"category": category.id, "type": cti_type.id, "ticket": ticket, "body": n8n_body,
            "spare": make.ticket(actor=keys.service, cti=n8n_cti)}  # to link the ticket to


def _call(api, keys, world, kind, method, path, body):
    """Make the request as `kind`; a comment, view or bulk job in the path is the caller's own (so it may
    delete or see it)."""
    from webapp.services.bulk import Target, clean_changes
    from webapp.services.bulk_jobs import start_job
    from webapp.services.comments import add_comment
    from webapp.services.saved_views import create_view

    comment = view = job = attachment = None
    if "{attachment}" in path:  # the caller's own, so it may remove it
        attachment = _uploaded(keys.user(kind) or keys.service, world["ticket"])
    if "{comment}" in path:
        comment = add_comment(keys.user(kind) or keys.service, world["ticket"], f"by {kind}").id
    link = None
    if "{link}" in path:
        from webapp.services.links import add_link
        link = add_link(keys.service, world["ticket"], "relates_to", world["spare"].display_id).id
    if "{view}" in path:
        view = create_view(keys.user(kind) or keys.service, name=f"by {kind}", filters={}).id
    if "{job}" in path:  # the caller's own: others' jobs are not shown
        job = start_job(keys.user(kind) or keys.service, clean_changes({"severity": 2}),
                        targets=[Target(world["ticket"].display_id)], enqueue=False).id
    path = path.format(comment=comment, view=view, ticket=world["ticket"].display_id,
                       category=world["category"], type=world["type"], job=job, attachment=attachment,
                       link=link)
    if body == "new ticket":
        body = world["body"]
    elif body == "upload":
        return api.as_key(keys.key(kind)).request(method, path, data={"file": (io.BytesIO(b"log"), "run.log")},
                                                  content_type="multipart/form-data")
    elif body == "new link":
        body = {"kind": "relates_to", "ticket": world["spare"].display_id}
    elif body == "bulk change":
        body = {"tickets": [world["ticket"].display_id], "changes": {"severity": 2}}
    return api.as_key(keys.key(kind)).request(method, path, json=body)


def _uploaded(actor, ticket) -> int:
    from webapp.services.attachment_files import Upload
    from webapp.services.attachments import add_attachments

    return add_attachments(actor, ticket, [Upload("run.log", None, io.BytesIO(b"log"))])[0].id


@pytest.mark.parametrize("kind", REFUSED)
@pytest.mark.parametrize(("method", "path", "body", "_ok"), ROUTES)
def test_route_refuses_caller_without_valid_key(api, keys, world, kind, method, path, body, _ok):
    response = _call(api, keys, world, kind, method, path, body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("ApiKey")


@pytest.mark.parametrize("kind", ALLOWED)
@pytest.mark.parametrize(("method", "path", "body", "ok"), ROUTES)
def test_route_serves_every_active_key(api, keys, world, kind, method, path, body, ok):
    response = _call(api, keys, world, kind, method, path, body)
    assert response.status_code == ok, response.get_json()


def test_every_api_route_is_in_the_access_table(app):
    """A new route cannot skip this matrix: each API-key route must be listed above."""
    listed = {(method, path.split("?")[0]) for method, path, _, _ in ROUTES}
    served = {
        (method, rule.rule.replace("<ref>", "{ticket}").replace("<comment_id>", "{comment}")
         .replace("<view_id>", "{view}").replace("<job>", "{job}").replace("<attachment_id>", "{attachment}")
         .replace("<link_id>", "{link}"))
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "access_policy", None) == API
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == listed


def test_only_docs_are_public_under_api(app):
    public = {rule.rule for rule in app.url_map.iter_rules()
              if rule.rule.startswith("/api/")
              and getattr(app.view_functions[rule.endpoint], "access_policy", None) != API}
    assert public == {"/api/openapi.json", "/api/docs"}


def test_agent_cannot_delete_someone_elses_comment(api, world, keys):
    from webapp.services.bulk import Target, clean_changes
    from webapp.services.bulk_jobs import start_job
    from webapp.services.comments import add_comment

    comment = add_comment(keys.service, world["ticket"], "robot note")
    path = f"/api/tickets/{world['ticket'].display_id}/comments/{comment.id}"
    response = api.as_key(keys.key("agent")).delete(path)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert api.get(path).status_code == 200


def test_admin_may_delete_any_comment(api, world, keys):
    from webapp.services.bulk import Target, clean_changes
    from webapp.services.bulk_jobs import start_job
    from webapp.services.comments import add_comment

    comment = add_comment(keys.service, world["ticket"], "robot note")
    path = f"/api/tickets/{world['ticket'].display_id}/comments/{comment.id}"
    assert api.as_key(keys.key("admin")).delete(path).status_code == 204
    assert api.get(path).status_code == 404


def test_rotated_key_stops_working(api, keys):
    from webapp.services.users import rotate_api_key

    old = keys.key("service")
    new = rotate_api_key(None, keys.service)
    assert api.as_key(old).get("/api/me").status_code == 401
    assert api.as_key(new).get("/api/me").get_json()["username"] == "goddard"


def test_me_names_the_key_owner(api, keys):
    body = api.get("/api/me").get_json()
    assert body == {"id": str(keys.service.id), "username": "goddard", "displayName": "Goddard",
                    "role": "SERVICE", "active": True}


def test_api_calls_leave_a_browser_session_alone(client, auth, api, make):
    """Key-authenticated calls get no cookie session: none is read, renewed or set for them,
    while the HTML docs under /api still know who is signed in."""
    person = make.user(display_name="Docs Reader")
    auth.login(person.username)
    for response in (api.get("/api/me"), api.get("/api/tickets?limit=1")):
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "Docs Reader" in docs.get_data(as_text=True)
    assert "Cookie" in docs.headers.get("Vary", "")
