"""CSRF: every state-changing route a browser can reach refuses a request without a valid token,
says so, and changes nothing. A new such route enters this walk by being in route_table.py (which
test_authorization_matrix.py makes sure of)."""
import pytest

from webapp.auth.access import API

from .route_table import ADMIN, ROUTES, UNSAFE, World, new_client, outcome_error, rolled_back, snapshot

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
# A mail client's one-click unsubscribe (RFC 8058) POSTs without a session or a token of ours: the
# signed token in its URL is the credential. test_unsubscribe_needs_a_signed_token proves it.
TOKEN_IN_URL = {("web.unsubscribe", "POST")}
WALK = [route for route in ROUTES if route.method in UNSAFE and not route.path.startswith("/api/")
        and (route.endpoint, route.method) not in TOKEN_IN_URL]


def test_the_walk_covers_every_state_changing_route_not_behind_an_api_key(app):
    """Anything a cookie (or nobody) can call with POST/PUT/PATCH/DELETE must be in the walk."""
    browser_reachable = {
        (rule.endpoint, method) for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "access_policy", None) != API
        for method in rule.methods & UNSAFE
    }
    assert browser_reachable - TOKEN_IN_URL == {(route.endpoint, route.method) for route in WALK}


@pytest.mark.parametrize("token", ["", "garbage", "WzEsImFzc2lnbmVkIl0.forged"])
def test_unsubscribe_needs_a_signed_token(app, make, token):
    """Without this installation's signature the one-click POST finds nothing and changes nothing."""
    World(make)
    before = snapshot()
    response = new_client(app).post(f"/notifications/unsubscribe/{token}", csrf=False)
    assert response.status_code in (404, 405) and snapshot() == before


def _tokens(other) -> dict:
    """The ways a forged or stale request arrives: no token, garbage, another session's valid token."""
    return {
        "missing": ({}, b"The CSRF token is missing."),
        "malformed": ({"X-CSRFToken": "not-a-token"}, b"The CSRF token is invalid."),
        "another session's": ({"X-CSRFToken": other.csrf_token()}, b"The CSRF tokens do not match."),
    }


@pytest.mark.parametrize("route", WALK, ids=lambda route: route.id)
def test_requests_without_a_valid_token_are_refused_and_change_nothing(app, make, route):
    world = World(make)
    wrong = {}
    for fragment in (False, True):
        for name, (headers, reason) in _tokens(new_client(app)).items():
            with rolled_back():
                client = new_client(app)
                world.become(client, ADMIN)
                before = snapshot()
                response = world.send(client, route, {**headers, **(HTMX if fragment else {})}, csrf=False)
                shape = b"<html" not in response.data if fragment else b"<html" in response.data
                if response.status_code != 400 or reason not in response.data or not shape:
                    wrong[name, fragment] = f"{response.status_code} {response.data[:200]!r}"
                elif b"Nothing was changed" not in response.data or snapshot() != before:
                    wrong[name, fragment] = "no clear message, or data changed"
    assert not wrong, wrong


@pytest.mark.parametrize("route", WALK, ids=lambda route: route.id)
def test_a_valid_token_is_accepted(app, make, route):
    world = World(make)
    client = new_client(app)
    world.become(client, ADMIN)
    response = world.send(client, route)
    assert b"CSRF" not in response.data
    assert outcome_error(response, route.expect[ADMIN]) is None
