"""Authorization matrix: every rule of app.url_map x six kinds of caller, against one declared table
(route_table.py). A rule missing from the table, or a row for a rule that is gone, fails."""
import pytest

from .route_table import (ANONYMOUS, CALLERS, LOGIN, REFUSED, ROUTES, World, new_client, outcome_error,
                          rolled_back, snapshot)

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask itself from the rule's other methods
HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


@pytest.fixture
def world(make, monkeypatch):
    # Readiness opens a connection of its own, which on SQLite waits out the write lock this test's
    # transaction holds; what it checks is tested in tests/test_ops_probes.py, who may ask is here.
    monkeypatch.setattr("webapp.ops.routes.readiness", lambda *_: {"failing": [], "checks": {}})
    return World(make)


def test_the_table_has_one_row_for_every_rule_and_no_other(app):
    listed = [(route.endpoint, route.method) for route in ROUTES]
    assert len(listed) == len(set(listed)), "a rule is listed twice"
    served = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
              for method in rule.methods - IGNORED_METHODS}
    assert served - set(listed) == set(), "rules missing from tests/security/route_table.py"
    assert set(listed) - served == set(), "rows for rules that no longer exist"


class _Shaped(dict):
    """Placeholder values of the right shape: a ticket's display id, otherwise a number."""

    def __missing__(self, name):
        return "V000000001" if name == "ticket" else "1"


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_each_row_reaches_its_rule(app, route):
    adapter = app.url_map.bind("localhost")
    path = route.path.split("?")[0].format_map(_Shaped())
    assert adapter.match(path, method=route.method)[0] == route.endpoint


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.id)
def test_every_caller_gets_what_the_table_declares(app, world, route):
    """Each caller on a fresh client, in a savepoint rolled back afterwards; refusals change nothing."""
    wrong = {}
    for caller in CALLERS:
        with rolled_back():
            client = new_client(app)
            headers = world.become(client, caller)
            before = snapshot()
            response = world.send(client, route, headers)
            expected = route.expect[caller]
            if error := outcome_error(response, expected):
                wrong[caller] = error
            elif expected in REFUSED and snapshot() != before:
                wrong[caller] = f"refused ({response.status_code}) but data changed"
    assert not wrong, wrong


@pytest.mark.parametrize("route", [r for r in ROUTES if r.expect[ANONYMOUS] == LOGIN], ids=lambda route: route.id)
def test_htmx_requests_without_a_session_get_401_and_the_way_to_sign_in(client, world, route):
    response = world.send(client, route, HTMX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=")
