"""Brute force: failed sign-ins are limited per account and per client address (429 + Retry-After),
on the app's one rate limiter; only failures count and the right password clears the account's."""
import time

import pytest

from ..conftest import CsrfClient, make_app, redis_keys
from ..factories import PASSWORD

WRONG = "not the password"


@pytest.fixture
def limits(app, monkeypatch):
    """Real, small budgets (the suite's default is effectively none), on clean counters."""
    limiter = app.extensions["rate_limiter"]
    limiter.reset()
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ADDRESS", "5 per 15 minutes")
    yield app.config
    limiter.reset()


def sign_in(client, username, password, address="10.0.0.7"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def refusal(response) -> str:
    """The sign-in form again with its message, 429 and Retry-After within the window."""
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    page = response.get_data(as_text=True)
    assert 'name="password"' in page  # the form, not a bare error page
    return page


def test_an_account_is_locked_after_its_failures_even_for_the_right_password(client, make, limits):
    make.user("victim")
    assert [sign_in(client, name, WRONG).status_code for name in ("victim", " Victim", "VICTIM")] == [422] * 3
    page = refusal(sign_in(client, "Victim ", PASSWORD))  # the count follows the account, however typed
    assert "Too many failed sign-ins for this account. Try again in 15 minutes" in page
    assert 'value="Victim "' in page  # what was typed is kept
    assert client.get("/").status_code == 302  # not signed in
    make.user("bystander")
    assert sign_in(client, "bystander", PASSWORD).status_code == 303  # other accounts are untouched


def test_an_address_is_refused_after_failures_across_accounts(client, make, limits):
    make.user("fresh")
    assert [sign_in(client, f"nobody{n}", WRONG, "10.0.0.8").status_code for n in range(5)] == [422] * 5
    assert "from your network" in refusal(sign_in(client, "fresh", PASSWORD, "10.0.0.8"))
    assert sign_in(client, "fresh", PASSWORD, "10.0.0.9").status_code == 303


def test_a_refused_attempt_does_not_check_the_password(client, make, limits, monkeypatch):
    make.user("victim")
    for _ in range(3):
        sign_in(client, "victim", WRONG)
    checked = []
    monkeypatch.setattr("webapp.auth.routes.authenticate", lambda *args: checked.append(args))
    assert sign_in(client, "victim", PASSWORD).status_code == 429
    assert checked == []


def test_successful_sign_ins_cost_nothing_and_clear_the_accounts_count(client, auth, make, limits):
    make.user("typo")
    for _ in range(5):  # more than the budget of 3
        assert sign_in(client, "typo", PASSWORD).status_code == 303
        auth.logout()
    for _ in range(2):
        sign_in(client, "typo", WRONG)
    assert sign_in(client, "typo", PASSWORD).status_code == 303
    auth.logout()
    for _ in range(2):
        sign_in(client, "typo", WRONG)
    assert sign_in(client, "typo", PASSWORD).status_code == 303  # 4 failures in all, never 3 in a row


def test_the_sign_in_page_itself_is_never_limited(client, limits):
    for n in range(6):
        sign_in(client, f"guess{n}", WRONG)
    assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 200


def test_the_window_moves_on(client, make, limits):
    limits["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per 1 second"
    make.user("patient")
    for _ in range(2):
        sign_in(client, "patient", WRONG)
    refused = sign_in(client, "patient", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) <= 1
    time.sleep(1.1)
    assert sign_in(client, "patient", PASSWORD).status_code == 303


def test_the_limiter_keeps_no_username_in_clear(app):
    from webapp.auth.throttle import account_key

    with app.test_request_context(method="POST", data={"username": " Agent "}):
        key = account_key()
    with app.test_request_context(method="POST", data={"username": "agent"}):
        assert account_key() == key and "agent" not in key.lower().removeprefix("account:")


@pytest.mark.parametrize("setting", ["LOGIN_LIMIT_PER_ACCOUNT", "LOGIN_LIMIT_PER_ADDRESS", "API_RATE_LIMIT",
                                     "API_BAD_KEY_LIMIT_PER_ADDRESS"])
def test_a_mistyped_limit_stops_the_app_at_start_up(database_url, setting):
    with pytest.raises(RuntimeError, match=setting):
        make_app(database_url, **{setting: "five a day"})


def test_the_documented_defaults(tmp_path):
    from webapp.config import from_env

    settings = from_env({"INSTANCE_PATH": str(tmp_path)})
    assert settings["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per 15 minutes"
    assert settings["LOGIN_LIMIT_PER_ADDRESS"] == "30 per 15 minutes"
    assert settings["API_BAD_KEY_LIMIT_PER_ADDRESS"] == "100 per 5 minutes"


@pytest.mark.redis
def test_failures_are_counted_in_redis_across_processes(database_url, _app, redis_keyspace):
    """Two web processes share one budget per account: the counters live in Redis."""
    url, prefix = redis_keyspace
    settings = {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": prefix, "LOGIN_LIMIT_PER_ACCOUNT": "2 per 15 minutes"}
    first, second = make_app(database_url, **settings), make_app(database_url, **settings)
    first.test_client_class = second.test_client_class = CsrfClient
    attempt = {"username": f"nobody-{prefix}", "password": WRONG}
    statuses = [app.test_client().post("/login", data=attempt).status_code for app in (first, second, first)]
    assert statuses == [422, 422, 429]
    assert redis_keys(url, prefix)


def test_redis_down_still_lets_people_sign_in_and_counts_in_memory(database_url, _app):
    """Losing Redis must lock nobody out: the limiter falls back to counting in this process."""
    app = make_app(database_url, REDIS_URL="redis://127.0.0.1:9/0", LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes")
    app.test_client_class = CsrfClient
    client = app.test_client()
    attempt = {"username": "nobody-while-redis-is-down", "password": WRONG}
    assert [client.post("/login", data=attempt).status_code for _ in range(3)] == [422, 422, 429]


def change_password(client, current, new="a new password 123"):
    return client.post("/profile/password", data={"current_password": current, "password": new},
                       environ_base={"REMOTE_ADDR": "10.0.0.7"})


def test_the_profile_pages_current_password_shares_the_accounts_budget(client, make, limits, monkeypatch):
    """A stolen session cannot guess the password on the profile page past the sign-in budget."""
    make.user("holder")
    assert sign_in(client, "holder", PASSWORD).status_code == 303
    assert [change_password(client, WRONG).status_code for _ in range(3)] == [422] * 3
    checked = []
    monkeypatch.setattr("webapp.models.user.User.check_password", lambda self, password: checked.append(1))
    refused = change_password(client, PASSWORD)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert "Too many wrong passwords for this account" in refused.get_data(as_text=True)
    assert checked == []  # not even checked
    assert sign_in(CsrfClient(client.application), "holder", PASSWORD).status_code == 429  # nor on the form


def test_a_right_current_password_clears_the_accounts_failures(client, make, limits):
    make.user("typist")
    assert sign_in(client, "typist", PASSWORD).status_code == 303
    assert [change_password(client, WRONG).status_code for _ in range(2)] == [422] * 2
    assert change_password(client, PASSWORD, new="short").status_code == 422  # the new one is refused
    assert change_password(client, PASSWORD).status_code == 303
    assert [change_password(client, WRONG).status_code for _ in range(2)] == [422] * 2  # a fresh count
