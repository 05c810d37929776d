"""Sign-in is throttled per account and per address, counting failures only."""
import os
import secrets
import time

import pytest

from webapp.auth.throttle import LoginThrottle, throttle

from .factories import PASSWORD


@pytest.fixture
def limits(app, monkeypatch):
    """Real limits (the suite's default is effectively none), on a clean count."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "5 per 15 minutes")
    throttle().reset()
    yield
    throttle().reset()


def sign_in(client, username, password, address="10.0.0.7"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_an_account_is_locked_after_its_failures_even_for_the_right_password(client, make, limits):
    make.user("victim")
    for _ in range(3):
        assert sign_in(client, "victim", "guess").status_code == 422
    response = sign_in(client, "Victim ", PASSWORD)  # the count follows the account, however typed
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed sign-ins for this account. Try again in 15 minutes" in response.get_data(as_text=True)
    assert 'value="Victim "' in response.get_data(as_text=True)  # what was typed is kept
    assert client.get("/").status_code == 302  # not signed in
    make.user("bystander")
    assert sign_in(client, "bystander", PASSWORD).status_code == 303  # other accounts are untouched


def test_an_address_is_refused_after_failures_across_accounts(client, make, limits):
    make.user("fresh")
    for n in range(5):
        sign_in(client, f"nobody{n}", "guess", address="10.0.0.8")
    refused = sign_in(client, "fresh", PASSWORD, address="10.0.0.8")
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "from your network" in refused.get_data(as_text=True)
    assert sign_in(client, "fresh", PASSWORD, address="10.0.0.9").status_code == 303


def test_a_refused_attempt_does_not_check_the_password(client, make, limits, monkeypatch):
    make.user("victim")
    for _ in range(3):
        sign_in(client, "victim", "guess")
    checked = []
    monkeypatch.setattr("webapp.auth.routes.authenticate", lambda *args: checked.append(args))
    assert sign_in(client, "victim", PASSWORD).status_code == 429
    assert checked == []


def test_a_successful_sign_in_clears_the_accounts_count(client, auth, make, limits):
    make.user("typo")
    for _ in range(2):
        sign_in(client, "typo", "guess")
    assert sign_in(client, "typo", PASSWORD).status_code == 303
    auth.logout()
    for _ in range(2):
        sign_in(client, "typo", "guess")
    assert sign_in(client, "typo", PASSWORD).status_code == 303  # 4 failures in all, never 3 in a row


def test_the_window_moves_on(client, make, app, monkeypatch, limits):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per 1 second")
    make.user("patient")
    for _ in range(2):
        sign_in(client, "patient", "guess")
    assert sign_in(client, "patient", PASSWORD).status_code == 429
    time.sleep(1.1)
    assert sign_in(client, "patient", PASSWORD).status_code == 303


def test_a_bad_limit_setting_stops_the_app_at_start_up(database_url):
    from .conftest import make_app

    with pytest.raises(ValueError):
        make_app(database_url, LOGIN_LIMIT_PER_ACCOUNT="five a day")


@pytest.mark.redis
def test_counts_are_kept_in_redis_for_every_process(app, monkeypatch):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("set TEST_REDIS_URL to test the Redis-backed throttle")
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "2 per 15 minutes")
    one, other = LoginThrottle(app), LoginThrottle(app)  # two web processes
    name, address = f"redis-{secrets.token_hex(4)}", f"10.1.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    one.failed(name, address)
    other.failed(name, address)
    refusal = one.refusal(name, address)
    assert refusal is not None and 1 <= refusal.retry_after <= 15 * 60
    other.succeeded(name, address)
    assert one.refusal(name, address) is None


def test_redis_down_means_unthrottled_not_locked_out(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens there
    down = LoginThrottle(app)
    for _ in range(10):
        down.failed("someone", "10.0.0.1")
    assert down.refusal("someone", "10.0.0.1") is None
