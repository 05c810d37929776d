"""Security headers on every response, request ids, proxy headers, and templates fit for the CSP."""
import json
import logging
import re
from pathlib import Path

import pytest

from webapp.models import Role
from webapp.ops.http import CONTENT_SECURITY_POLICY
from webapp.ops.logs import JsonFormatter

from .conftest import make_app
from .csp_audit import audit

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def test_the_policy_allows_no_inline_code_and_no_framing():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path, status", [
    ("/login", 200),                        # an HTML page
    ("/", 302),                             # a redirect to the login page
    ("/no-such-page", 404),                 # an error page
    ("/api/me", 401),                       # a JSON error
    ("/static/css/app.css", 200),           # a static file
    ("/healthz", 200),                      # a probe
])
def test_every_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers[name] == value
    assert "Strict-Transport-Security" not in response.headers  # plain http: no HSTS


def test_hsts_only_when_the_request_is_https(client):
    secure = client.get("/login", base_url="https://tickets.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_can_include_subdomains_or_be_turned_off(database_url):
    wide = make_app(database_url, HSTS_SECONDS=600, HSTS_INCLUDE_SUBDOMAINS=True).test_client()
    assert wide.get("/healthz", base_url="https://t.example").headers["Strict-Transport-Security"] == (
        "max-age=600; includeSubDomains")
    off = make_app(database_url, HSTS_SECONDS=0).test_client()
    assert "Strict-Transport-Security" not in off.get("/healthz", base_url="https://t.example").headers


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured(client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in response.headers


def test_proxy_fix_trusts_the_configured_hops(database_url):
    app = make_app(database_url, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    seen = {}

    @app.after_request
    def remember(response):
        from flask import request

        seen.update(remote=request.remote_addr, scheme=request.scheme)
        return response

    response = app.test_client().get(
        "/healthz", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    assert seen == {"remote": "203.0.113.9", "scheme": "https"}  # one hop: the last address only
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_sane_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-Id": "npm-4f2a:7.1"})
    assert response.headers["X-Request-Id"] == "npm-4f2a:7.1"


@pytest.mark.parametrize("supplied", [None, "", "has space", "x" * 129, "quo\"te", "<script>"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(client, supplied):
    headers = {} if supplied is None else {"X-Request-Id": supplied}
    first = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    second = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_log_lines_written_during_a_request_carry_its_id(database_url):
    app = make_app(database_url)
    lines = []

    @app.before_request
    def log_something():
        lines.append(JsonFormatter().format(logging.LogRecord("t", logging.INFO, "", 0, "probe", (), None)))

    app.test_client().get("/healthz", headers={"X-Request-Id": "trace-me"})
    entry = json.loads(lines[0])
    assert entry["request_id"] == "trace-me" and entry["message"] == "probe" and entry["level"] == "INFO"


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_needs_inline_script_style_or_eval(template):
    assert audit(template.read_text(), str(template.relative_to(ROOT))) == []


def test_the_audit_catches_what_the_csp_would_block():
    bad = """<script>alert(1)</script><style>p{}</style><p style="color:red" onclick="x()">
    <a href="javascript:go()">x</a><button hx-on:click="go()" hx-vals='js:{a: 1}'
    hx-trigger="keyup[key=='Enter']">b</button><script src="https://cdn.example/x.js"></script>"""
    found = "\n".join(audit(bad, "sample"))
    for fragment in ("inline <script>", "inline <style>", "style= attribute", "onclick=", "javascript: URL",
                     "hx-on:click=", "hx-vals=", "trigger filters", "another origin"):
        assert fragment in found
    assert audit('<script src="/static/js/app.js" defer></script><p class="x" hx-get="/a">', "good") == []


def _html_get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(("/api", "/static")):
            yield rule.rule


def test_every_rendered_page_is_free_of_inline_code(app, client, auth, make):
    admin = make.user("ops_admin", role=Role.ADMIN)
    make.ticket(actor=admin, title="A <b>bold</b> title", overview="**md** <script>alert(1)</script>")
    auth.login("ops_admin")
    checked = 0
    for path in _html_get_routes(app):
        response = client.get(path, follow_redirects=True)
        if response.mimetype == "text/html":
            assert audit(response.get_data(as_text=True), path) == []
            checked += 1
    assert checked >= 2  # at least the dashboard and the login page
    assert audit(client.get("/missing-page").get_data(as_text=True), "404") == []
