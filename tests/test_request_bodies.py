"""A chunked body (Transfer-Encoding: chunked, no Content-Length) is held to MAX_CONTENT_LENGTH as a
sized one is: over it, 413 (JSON under /api, a page elsewhere); under it, read whole."""
import io
import json

import pytest

LIMIT = 1000


@pytest.fixture
def small_cap(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", LIMIT)


def chunked(client, path, body: bytes, content_type: str, **headers):
    """POST `body` as a server that frames chunked requests hands it on: a stream of unknown length."""
    return client.post(path, input_stream=io.BytesIO(body), content_type=content_type, csrf=False,
                       headers={"Transfer-Encoding": "chunked", **headers},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_json_body_over_the_cap_is_a_json_413(client, make, small_cap):
    key = make.user("robot", role="SERVICE").plain_api_key
    body = json.dumps({"title": "x" * 2 * LIMIT}).encode()
    response = chunked(client, "/api/tickets", body, "application/json", **{"X-Api-Key": key})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_a_chunked_form_over_the_cap_is_a_413_page(client, small_cap):
    body = f"csrf_token={client.csrf_token()}&username=agent&password={'x' * 2 * LIMIT}".encode()
    response = chunked(client, "/login", body, "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.mimetype == "text/html" and "Too large" in response.get_data(as_text=True)


@pytest.mark.parametrize("size", [LIMIT - 100, LIMIT])
def test_a_chunked_body_within_the_cap_is_read_whole(client, make, small_cap, size):
    make.user("agent")
    start = f"csrf_token={client.csrf_token()}&username=agent&password=".encode()
    body = start + b"w" * (size - len(start))
    assert len(body) == size
    response = chunked(client, "/login", body, "application/x-www-form-urlencoded")
    assert response.status_code == 422 and "do not match" in response.get_data(as_text=True)
