"""API fixtures: callers with keys, the n8n CTI chain, and a client that checks every answer
against the OpenAPI document the app serves."""
import json as jsonlib
from functools import cached_property

import pytest

from webapp.extensions import db
from webapp.models import Role
from webapp.services.users import rotate_api_key

from .openapi_check import SpecChecker


@pytest.fixture(scope="session")
def spec_checker(_app) -> SpecChecker:
    response = _app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return SpecChecker(response.get_json())


DEFAULT = object()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(_app):
    """Rate-limit counters live in memory for the whole run; each test starts with full budgets."""
    _app.extensions["rate_limiter"].reset()


class ApiClient:
    """Sends what n8n would send (X-Api-Key, JSON, no cookies or CSRF) and checks every response."""

    def __init__(self, client, checker: SpecChecker, key: str | None = None):
        self.client, self.checker, self.key = client, checker, key

    def as_key(self, key: str | None) -> "ApiClient":
        return ApiClient(self.client, self.checker, key)

    def request(self, method, path, *, json=None, data=None, content_type=None, headers=None, key=DEFAULT):
        key = self.key if key is DEFAULT else key
        sent = {"X-Api-Key": key} if key is not None else {}
        sent.update(headers or {})
        if json is not None:
            data, content_type = jsonlib.dumps(json), content_type or "application/json"
        response = self.client.open(
            path, method=method, data=data, content_type=content_type, headers=sent, csrf=False,
        )
        self.checker.check(method, path, response)
        return response

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


class Keys:
    """One caller of each kind, made on first use; `key(kind)` gives the X-Api-Key each would send."""

    def __init__(self, make):
        self.make = make

    @cached_property
    def service(self):
        return self.make.user("goddard", role=Role.SERVICE, display_name="Goddard")

    @cached_property
    def agent(self):
        return self._with_personal_key(self.make.user("alice", role=Role.AGENT))

    @cached_property
    def admin(self):
        return self._with_personal_key(self.make.user("root", role=Role.ADMIN))

    @cached_property
    def deactivated(self):
        return self.make.user("retired-bot", role=Role.SERVICE, active=False)

    @staticmethod
    def _with_personal_key(user):
        user.plain_api_key = rotate_api_key(None, user)
        return user

    def user(self, kind: str):
        return getattr(self, kind) if kind in ("service", "agent", "admin", "deactivated") else None

    def key(self, kind: str) -> str | None:
        if kind == "none":
            return None
        if kind == "wrong":
            return "sk_" + "x" * 43
        return self.user(kind).plain_api_key


@pytest.fixture
def keys(make) -> Keys:
    return Keys(make)


@pytest.fixture
def api(client, spec_checker, keys) -> ApiClient:
    """A client holding the service account's key (as n8n's goddard robot would)."""
    return ApiClient(client, spec_checker, keys.service.plain_api_key)


@pytest.fixture
def n8n_cti(make):
    """The routing that DESIGN.md's n8n example files into: TheWrightServer › Automation › Backup."""
    return make.cti("TheWrightServer", "Automation", "Backup")


@pytest.fixture
def n8n_body(n8n_cti, keys) -> dict:
    """DESIGN.md's real n8n call, ids filled in as n8n sends them: strings."""
    category, cti_type, item = n8n_cti
    return {
        "title": "[Plex] Backup - 2026-03-30T02:00:00",
        "overview": "Automated nightly Plex backup completed.",
        "severity": 5, "categoryId": str(category.id),
        "typeId": str(cti_type.id), "itemId": str(item.id),
        "assigneeId": str(keys.service.id),
    }


def ticket_count() -> int:
    from webapp.models import Ticket

    return db.session.scalar(db.select(db.func.count()).select_from(Ticket))
