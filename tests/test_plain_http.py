"""Secure cookies on a plain-http address: the sign-in page, the CSRF error and the log say what to
change instead of a bare "The CSRF session token is missing"."""
import pytest

from webapp.http import plain_http

from .conftest import make_app


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    """What plain_http logs as warnings (its logger, whatever the logging setup of the moment)."""
    said = []
    monkeypatch.setattr(plain_http.log, "warning", lambda message, *args: said.append(message % args))
    return said


@pytest.fixture
def secure_cookies(app):
    """Production's default: session cookies sent over https only."""
    app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    app.extensions.pop(plain_http._WARNED, None)
    yield app
    app.config.update(SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)


def test_the_login_page_over_plain_http_says_what_to_change(secure_cookies, warnings):
    client = secure_cookies.test_client()
    page = client.get("/login", base_url="http://server.example:3080").get_data(as_text=True)
    client.get("/login", base_url="http://server.example:3080")
    assert 'id="plain-http"' in page and "SESSION_COOKIE_SECURE=false" in page
    assert "http://server.example:3080" in page and "https" in page
    assert len(warnings) == 1 and "SESSION_COOKIE_SECURE=false" in warnings[0]  # logged once a process


def test_the_failed_sign_in_over_plain_http_explains_itself(secure_cookies):
    response = secure_cookies.test_client().post(
        "/login", data={"username": "admin", "password": "x"}, base_url="http://server.example:3080")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "CSRF" in text and "SESSION_COOKIE_SECURE=false" in text


@pytest.mark.parametrize("base_url", ["https://server.example", "http://localhost:5000", "http://127.0.0.1:5000",
                                      "http://[::1]:5000", "http://LocalHost"])
def test_no_advice_where_the_cookie_comes_back(secure_cookies, base_url):
    page = secure_cookies.test_client().get("/login", base_url=base_url).get_data(as_text=True)
    assert 'id="plain-http"' not in page


def test_no_advice_when_cookies_are_not_secure_only(app):
    page = app.test_client().get("/login", base_url="http://server.example:3080").get_data(as_text=True)
    assert 'id="plain-http"' not in page


def test_start_up_warns_when_the_configured_scheme_is_http(database_url, warnings):
    make_app(database_url, SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="http")
    assert any("SESSION_COOKIE_SECURE is on" in message for message in warnings)
    warnings.clear()
    make_app(database_url, SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https")
    assert warnings == []
