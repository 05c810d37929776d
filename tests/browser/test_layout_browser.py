"""The layout: readable on a phone, dark mode from the system, labelled controls, visible focus."""
import secrets

import pytest

from .conftest import ARTIFACTS, PASSWORD

SHOTS = ARTIFACTS / "screenshots"
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def sample(live_server):
    """A ticket with a comment and some history, and the paths of the pages to look at."""
    from webapp.services import comments, tickets

    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        agent = make.user(display_name="Alex Agent")
        bob = make.user(display_name="Bob Builder")
        cti = make.cti(f"Infra {tag}", "Servers", "web01")
        for n, severity in enumerate((1, 2, 3, 5)):
            make.ticket(actor=bob, cti=cti, severity=severity, assignee=agent if n % 2 else None,
                        title=f"Sample ticket {n} with a fairly long title to see how it wraps")
        ticket = make.ticket(actor=agent, cti=cti, severity=2, assignee=bob, title="Disk full on web01",
                             overview="Seen at **02:00**.\n\n| host | disk |\n|---|---|\n| web01 | 98% |")
        comments.add_comment(bob, ticket, "Looking now. `df -h`:\n\n```\n/dev/sda1  98%\n```")
        tickets.change_status(bob, ticket, "IN_PROGRESS")
        return {"user": agent.username, "pages": {
            "dashboard": "/", "new-ticket": "/tickets/new", "ticket": f"/tickets/{ticket.display_id}",
            "ticket-comments": f"/tickets/{ticket.display_id}/comments",
            "ticket-audit": f"/tickets/{ticket.display_id}/audit", "profile": "/profile",
        }}


def signed_in_page(browser, live_server, sample, **context):
    page = browser.new_context(**context).new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.goto(live_server("/login"))
    page.fill("#username", sample["user"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_render_cleanly_in_light_and_dark(browser, live_server, sample, scheme):
    page = signed_in_page(browser, live_server, sample, viewport={"width": 1280, "height": 860},
                          color_scheme=scheme)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in sample["pages"].items():
        page.goto(live_server(path))
        page.screenshot(path=str(SHOTS / f"{name}-{scheme}.png"), full_page=True)
        assert page.evaluate(UNLABELLED) == [], name
    assert page.console_errors == []
    page.context.close()


def test_dark_mode_follows_the_system_setting(browser, live_server, sample):
    backgrounds = {}
    for scheme in ("light", "dark"):
        page = signed_in_page(browser, live_server, sample, color_scheme=scheme)
        backgrounds[scheme] = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        page.context.close()
    assert backgrounds["light"] != backgrounds["dark"]
    assert backgrounds["dark"] in ("rgb(15, 19, 26)",)


@pytest.mark.parametrize("name", ["dashboard", "new-ticket", "ticket", "ticket-comments", "ticket-audit", "profile"])
def test_pages_fit_a_phone_screen(browser, live_server, sample, name):
    page = signed_in_page(browser, live_server, sample, viewport={"width": 375, "height": 740},
                          is_mobile=True, has_touch=True)
    page.goto(live_server(sample["pages"][name]))
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.context.close()


def test_keyboard_focus_is_visible(browser, live_server, sample):
    page = signed_in_page(browser, live_server, sample)
    page.goto(live_server(sample["pages"]["ticket"]))
    for _ in range(4):
        page.keyboard.press("Tab")
        outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                                " return [s.outlineStyle, s.outlineWidth]; })()")
        assert outline[0] != "none" and outline[1] != "0px", outline
    page.context.close()
