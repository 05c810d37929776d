"""Fixtures for the agent web UI: a signed-in agent and the headers htmx sends."""
import pytest

from webapp.models import Role

# What htmx 4 sends (see docs/htmx4-notes.md): a partial swap, a boosted link, a history restore.
PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
BOOSTED = {"HX-Request": "true", "HX-Request-Type": "full", "HX-Boosted": "true"}
RESTORE = {"HX-Request-Type": "full", "HX-History-Restore-Request": "true"}
VARY = {"HX-Request", "HX-Request-Type", "HX-History-Restore-Request"}


def is_full_page(response) -> bool:
    return b"<!doctype html>" in response.data and b"</html>" in response.data


def varies_on_htmx(response) -> bool:
    return VARY <= {value.strip() for value in response.headers.get("Vary", "").split(",")}


@pytest.fixture
def agent(make, auth):
    """An agent, signed in through the login form."""
    user = make.user("agent", display_name="Alex Agent")
    auth.login("agent")
    return user


@pytest.fixture
def admin(make):
    return make.user("root", role=Role.ADMIN, display_name="Ada Admin")
