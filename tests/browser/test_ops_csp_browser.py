"""The strict Content-Security-Policy in Chromium: htmx and our script work, inline code is refused."""
from .conftest import login

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


def test_pages_run_under_the_csp_without_a_single_violation(page, live_server):
    with live_server.setup():
        username = live_server.make.user().username
    page.add_init_script(WATCH_VIOLATIONS)
    login(page, live_server, username)
    response = page.goto(live_server("/"))
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.evaluate("() => window.htmx && window.htmx.version") == "4.0.1"
    # htmx 4 adds its indicator rules as a constructed stylesheet, which style-src 'self' allows.
    hidden = page.evaluate("""() => {
        const el = document.createElement("span"); el.className = "htmx-indicator";
        document.body.append(el); return getComputedStyle(el).opacity; }""")
    assert hidden == "0"
    page.click("nav.topnav >> text=Dashboard")  # a boosted navigation through htmx
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => window.__cspViolations") == []


def test_inline_script_injected_into_a_page_is_refused(page, live_server):
    page.add_init_script(WATCH_VIOLATIONS)
    page.goto(live_server("/login"))
    ran = page.evaluate("""() => {
        const s = document.createElement("script"); s.textContent = "window.__inlineRan = true;";
        document.body.append(s); return window.__inlineRan === true; }""")
    assert ran is False
    assert any(v.startswith("script-src") for v in page.evaluate("() => window.__cspViolations"))


def test_reports_draw_under_the_csp_in_light_and_dark(page, live_server):
    """The SVG charts take their colours from the stylesheet's variables, differently per scheme."""
    with live_server.setup():
        user = live_server.make.user()
        live_server.make.ticket(actor=user, severity=1)
    page.add_init_script(WATCH_VIOLATIONS)
    login(page, live_server, user.username)
    colours = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(live_server("/reports"))
        assert page.locator("svg.chart").count() == 4
        colours[scheme] = page.evaluate(
            "() => getComputedStyle(document.querySelector('svg.chart text.chart-label')).fill")
    assert colours["light"] != colours["dark"]
    page.click("nav.topnav >> text=Dashboard")
    page.wait_for_load_state("networkidle")
    assert page.locator("#chart-dash-open-title").count() == 1
    assert page.evaluate("() => window.__cspViolations") == []
