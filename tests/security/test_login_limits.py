"""Brute force: failed sign-ins are limited per account and per client address (429 + Retry-After)."""
import time

import pytest

from webapp.config import from_env
from webapp.extensions import db
from webapp.models import User

from ..conftest import CsrfClient, make_app, redis_keys
from ..factories import PASSWORD

WRONG = "not the password"


@pytest.fixture
def limits(app, monkeypatch):
    """Real, small budgets (the suite's default is high); counters start empty and are left empty."""
    limiter = app.extensions["rate_limiter"]
    limiter.reset()
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_ACCOUNT", "3 per 15 minutes")
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT_ADDRESS", "5 per 15 minutes")
    yield app.config
    limiter.reset()


def sign_in(client, username, password, address="127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def assert_refused(response):
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.data
    assert b'name="username"' in response.data  # the form again, not a bare error page
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60


def test_an_account_is_locked_after_its_failures_even_with_the_right_password(client, make, limits):
    user = make.user("agent")
    assert [sign_in(client, name, WRONG).status_code for name in ("agent", " Agent ", "AGENT")] == [422] * 3
    response = sign_in(client, "agent", PASSWORD)
    assert_refused(response)
    assert b"Wait 15 minutes" in response.data
    assert db.session.get(User, user.id).last_login_at is None  # the password was never checked
    assert client.get("/").status_code == 302


def test_other_accounts_keep_their_budget(client, make, limits):
    make.user("agent")
    make.user("other")
    for _ in range(3):
        sign_in(client, "agent", WRONG)
    assert sign_in(client, "other", PASSWORD).status_code == 303


def test_an_address_is_limited_across_usernames(client, make, limits):
    make.user("agent")
    statuses = [sign_in(client, f"guess{n}", WRONG, "10.0.0.7").status_code for n in range(5)]
    assert statuses == [422] * 5
    assert_refused(sign_in(client, "agent", PASSWORD, "10.0.0.7"))
    assert sign_in(client, "agent", PASSWORD, "10.0.0.8").status_code == 303


def test_a_successful_sign_in_spends_no_budget(client, auth, make, limits):
    make.user("agent")
    sign_in(client, "agent", WRONG)
    for _ in range(3):
        assert sign_in(client, "agent", PASSWORD).status_code == 303
        auth.logout()
    assert [sign_in(client, "agent", WRONG).status_code for _ in range(2)] == [422, 422]
    assert_refused(sign_in(client, "agent", PASSWORD))


def test_the_sign_in_page_itself_is_never_limited(client, make, limits):
    for _ in range(6):
        sign_in(client, f"guess{_}", WRONG)
    assert client.get("/login").status_code == 200


def test_a_lock_ends_when_its_window_has_passed(client, make, limits):
    make.user("agent")
    limits["LOGIN_RATE_LIMIT_ACCOUNT"] = "2 per 1 second"
    sign_in(client, "agent", WRONG)
    sign_in(client, "agent", WRONG)
    refused = sign_in(client, "agent", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 1
    time.sleep(1.1)
    assert sign_in(client, "agent", PASSWORD).status_code == 303


def test_the_limiter_keeps_no_username_in_clear(app, limits):
    from webapp.auth.throttle import account_key

    with app.test_request_context(method="POST", data={"username": " Agent "}):
        key = account_key()
    with app.test_request_context(method="POST", data={"username": "agent"}):
        assert account_key() == key and "agent" not in key.lower().removeprefix("account:")


@pytest.mark.parametrize("setting", ["LOGIN_RATE_LIMIT_ACCOUNT", "LOGIN_RATE_LIMIT_ADDRESS", "API_RATE_LIMIT"])
def test_a_mistyped_limit_stops_the_app_from_starting(tmp_path, setting):
    with pytest.raises(RuntimeError, match=setting):
        from_env({"INSTANCE_PATH": str(tmp_path), setting: "5 per fortnight"})


def test_the_documented_defaults(tmp_path):
    settings = from_env({"INSTANCE_PATH": str(tmp_path)})
    assert settings["LOGIN_RATE_LIMIT_ACCOUNT"] == "5 per 15 minutes"
    assert settings["LOGIN_RATE_LIMIT_ADDRESS"] == "20 per 15 minutes"


@pytest.mark.redis
def test_failures_are_counted_in_redis_across_processes(database_url, _app, redis_keyspace):
    """Two web processes share one budget per account: the counters live in Redis."""
    url, prefix = redis_keyspace
    settings = {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": prefix, "LOGIN_RATE_LIMIT_ACCOUNT": "2 per 15 minutes"}
    first, second = make_app(database_url, **settings), make_app(database_url, **settings)
    first.test_client_class = second.test_client_class = CsrfClient
    attempt = {"username": f"nobody-{prefix}", "password": WRONG}
    statuses = [app.test_client().post("/login", data=attempt).status_code for app in (first, second, first)]
    assert statuses == [422, 422, 429]
    assert redis_keys(url, prefix)
