"""Per-key rate limits: 429 in the error shape with Retry-After; other keys are not affected."""
import secrets
import time

import pytest

from webapp.api.ratelimit import rate_key
from webapp.auth.throttle import TOO_MANY_BAD_KEYS
from webapp.models import Role


@pytest.fixture
def tight_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")


def test_key_over_its_budget_gets_429_with_retry_after(api, tight_limit):
    for remaining in (2, 1, 0):
        response = api.get("/api/me")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    limited = api.get("/api/me")
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "too_many_requests"
    assert "Retry-After" in limited.get_json()["error"]["message"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60


def test_every_counted_answer_says_what_is_left_and_only_a_refusal_says_when_to_retry(api, tight_limit):
    answers = [api.get("/api/me"), api.as_key("sk_" + "x" * 43).get("/api/me")]
    assert [answer.status_code for answer in answers] == [200, 401]
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == "3"
        assert time.time() + 58 < int(answer.headers["X-RateLimit-Reset"]) <= time.time() + 61
        assert "Retry-After" not in answer.headers


def test_budget_is_shared_across_routes(api, tight_limit):
    api.get("/api/me")
    api.get("/api/users")
    api.get("/api/cti/categories")
    assert api.get("/api/tickets").status_code == 429


def test_other_keys_keep_their_budget(api, keys, tight_limit):
    for _ in range(4):
        api.get("/api/me")
    assert api.as_key(keys.key("agent")).get("/api/me").status_code == 200


def test_requests_without_a_key_are_limited_by_address(api, tight_limit):
    statuses = [api.as_key(None).get("/api/me").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.fixture
def bad_key_limit(app, monkeypatch):
    """A small budget of unknown keys per address, and a count of the key lookups in the database."""
    import webapp.services.users as users

    monkeypatch.setitem(app.config, "API_BAD_KEY_LIMIT_PER_ADDRESS", "5 per minute")
    lookups, real = [], users._user_by_key_hash
    monkeypatch.setattr(users, "_user_by_key_hash", lambda key_hash: lookups.append(key_hash) or real(key_hash))
    return lookups


def random_key() -> str:
    return "sk_" + secrets.token_urlsafe(32)


def assert_too_many_bad_keys(answer) -> None:
    assert answer.status_code == 429 and 1 <= int(answer.headers["Retry-After"]) <= 60
    assert answer.get_json() == {"error": {"code": "too_many_requests", "fields": {}, "message": TOO_MANY_BAD_KEYS}}


def test_many_unknown_keys_from_one_address_get_429_without_being_looked_up(api, bad_key_limit):
    answers = [api.as_key(random_key()).get("/api/me") for _ in range(60)]
    assert [answer.status_code for answer in answers] == [401] * 5 + [429] * 55
    for answer in answers[5:]:
        assert_too_many_bad_keys(answer)
    assert len(bad_key_limit) == 6  # the sixth was looked up, then refused; the rest never were


def test_valid_keys_spend_nothing_of_the_unknown_key_budget(api, keys, bad_key_limit):
    assert all(api.get("/api/me").status_code == 200 for _ in range(10))
    assert [api.as_key(random_key()).get("/api/me").status_code for _ in range(6)] == [401] * 5 + [429]
    assert api.as_key(keys.key("deactivated")).get("/api/me").status_code == 429  # refused before its lookup


def test_a_refused_address_waits_even_with_a_valid_key_other_addresses_do_not(api, client, bad_key_limit):
    """The documented trade-off: over the budget, no key from that address is looked up."""
    for _ in range(6):
        api.as_key(random_key()).get("/api/me")
    assert_too_many_bad_keys(api.get("/api/me"))
    elsewhere = client.get("/api/me", headers={"X-Api-Key": api.key}, environ_base={"REMOTE_ADDR": "10.2.0.1"})
    assert elsewhere.status_code == 200


@pytest.mark.redis
def test_a_flood_of_unknown_keys_leaves_no_counter_per_key_in_redis(database_url, _app, redis_keyspace):
    from ..conftest import make_app, redis_keys

    url, prefix = redis_keyspace
    app = make_app(database_url, REDIS_URL=url, RATELIMIT_KEY_PREFIX=prefix, API_BAD_KEY_LIMIT_PER_ADDRESS="5 per minute")
    client = app.test_client()
    statuses = [client.get("/api/me", headers={"X-Api-Key": random_key()}).status_code for _ in range(60)]
    assert statuses == [401] * 5 + [429] * 55
    assert len(redis_keys(url, prefix)) == 7  # the six keys looked up, and the address's count


def test_rate_key_never_holds_the_api_key(app):
    with app.test_request_context(headers={"X-Api-Key": "sk_secret"}):
        assert "sk_secret" not in rate_key() and rate_key().startswith("key:")
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        assert rate_key() == "ip:10.1.2.3"


def test_docs_are_not_rate_limited(client, tight_limit):
    assert all(client.get("/api/openapi.json").status_code == 200 for _ in range(5))


@pytest.mark.redis
def test_limits_are_kept_in_redis_when_configured(database_url, _app, redis_keyspace):
    """Several web processes share one budget per key: the counters live in Redis."""
    from ..conftest import make_app, redis_keys

    url, prefix = redis_keyspace
    settings = {"REDIS_URL": url, "RATELIMIT_KEY_PREFIX": prefix, "API_RATE_LIMIT": "2 per minute"}
    first, second = make_app(database_url, **settings), make_app(database_url, **settings)
    statuses = [app.test_client().get("/api/me").status_code for app in (first, second, first)]
    assert statuses == [401, 401, 429]
    assert redis_keys(url, prefix)


def test_requests_still_served_when_redis_is_down(database_url, _app):
    """Losing Redis must not take the API down: the limiter falls back to memory."""
    from ..conftest import make_app

    app = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0", API_RATE_LIMIT="2 per minute")
    statuses = [app.test_client().get("/api/me").status_code for _ in range(3)]
    assert 500 not in statuses and statuses[0] == 401


def test_an_accounts_own_budget_replaces_the_default_at_once(app, client, make):
    """Set per service account in the admin panel: its key gets that budget from the next call on,
    in every process (the user row changes, so cache_version does); other keys keep the default."""
    from webapp.services.users import update_user

    app.extensions["rate_limiter"].reset()
    busy, other = make.user("busy-bot", role=Role.SERVICE), make.user("quiet-bot", role=Role.SERVICE)
    update_user(None, busy, api_rate_limit="2 per minute")
    calls = [client.get("/api/me", headers={"X-Api-Key": busy.plain_api_key}) for _ in range(3)]
    assert [c.status_code for c in calls] == [200, 200, 429]
    assert calls[0].headers["X-RateLimit-Limit"] == "2" and calls[2].headers["Retry-After"].isdigit()
    assert client.get("/api/me", headers={"X-Api-Key": other.plain_api_key}).headers["X-RateLimit-Limit"] != "2"
    update_user(None, busy, api_rate_limit="")  # blank: back to the default
    assert client.get("/api/me", headers={"X-Api-Key": busy.plain_api_key}).status_code == 200
    app.extensions["rate_limiter"].reset()


@pytest.mark.parametrize("text", ["fast", "0 per minute", "5 per 0 minutes", "1" * 50, "6\x00 per minute"])
def test_a_budget_that_does_not_parse_is_refused_beside_the_field(make, text):
    from webapp.services import ValidationError
    from webapp.services.users import update_user

    bot = make.user(role=Role.SERVICE)
    with pytest.raises(ValidationError) as refused:
        update_user(None, bot, api_rate_limit=text)
    assert set(refused.value.fields) == {"api_rate_limit"}
