"""Every state-changing HTML route refuses a request without a valid CSRF token, and changes nothing.

The walk reads app.url_map, so a new POST route joins it by existing. The key-authenticated API is
exempt by design (no cookie rides along with a forged cross-site request) and is left out here.
"""
import pytest
import sqlalchemy as sa
from flask_wtf.csrf import generate_csrf

from webapp.extensions import db
from webapp.models import AuditEvent, Category, Comment, Role, Ticket, User, Webhook

from ..factories import PASSWORD
from .test_authorization_matrix import path_for, world  # noqa: F401  (the same objects to aim at)

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
FORM = {"title": "Forged", "body": "forged", "status": "CLOSED", "name": "Forged", "password": "forged pass 123",
        "username": "forged", "display_name": "Forged", "role": "ADMIN", "severity": "1", "version": "1"}
WATCHED = (AuditEvent, Ticket, Comment, User, Category, Webhook)


def unsafe_html_routes(app):
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules()
                  for method in rule.methods & UNSAFE if not rule.rule.startswith("/api/"))


def snapshot() -> tuple:
    """Row counts plus the newest audit event: a forged write would move one of them."""
    counts = tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in WATCHED)
    return counts, db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))


def test_the_walk_covers_the_routes_that_change_things(app):
    walked = {rule for rule, _ in unsafe_html_routes(app)}
    assert {"/login", "/logout", "/tickets/new", "/tickets/<display_id>/comments", "/admin/users/new",
            "/admin/webhooks/new"} <= walked
    assert len(walked) >= 20


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "wrong"])
def test_every_unsafe_html_route_refuses_a_request_without_a_valid_token(app, client, world, token):  # noqa: F811
    assert client.post("/login", data={"username": "matrix-admin", "password": PASSWORD}).status_code == 303
    before = snapshot()
    for rule, method in unsafe_html_routes(app):
        path = path_for(rule, world["values"])
        data = dict(FORM, **({"csrf_token": token} if token else {}))
        headers = {"X-CSRFToken": token} if token else {}
        response = client.open(path, method=method, data=data, headers=headers, csrf=False)
        assert response.status_code == 400, f"{method} {path} answered {response.status_code}"
        assert b"CSRF" in response.data or b"security token" in response.data.lower(), f"{method} {path}"
    assert snapshot() == before


def test_with_a_valid_token_the_same_requests_get_past_the_check(app, client, world):  # noqa: F811
    assert client.post("/login", data={"username": "matrix-admin", "password": PASSWORD}).status_code == 303
    refused = []
    for rule, method in unsafe_html_routes(app):
        if rule == "/logout":
            continue  # it would end the session the walk runs in
        response = client.open(path_for(rule, world["values"]), method=method, data=dict(FORM))
        if response.status_code == 400 and b"CSRF" in response.data:
            refused.append(f"{method} {rule}")
    assert refused == []


def test_a_token_from_another_session_is_refused(app, client, make):
    make.user("first", role=Role.ADMIN)
    with app.test_request_context():
        token_of_other = generate_csrf()  # signed for a session that is not the client's
    assert client.post("/login", data={"username": "first", "password": PASSWORD}).status_code == 303
    response = client.post("/tickets/new", data={"title": "x", "csrf_token": token_of_other}, csrf=False)
    assert response.status_code == 400
