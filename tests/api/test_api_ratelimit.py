"""Per-key rate limits: 429 in the error shape with Retry-After; other keys are not affected."""
import time

import pytest

from webapp.api.ratelimit import rate_key


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
