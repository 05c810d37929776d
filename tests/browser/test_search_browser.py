"""Search in Chromium: "/" focuses the header's box, the queue filters as you type with the search in
the URL (the back button undoes it), a ticket's id opens the ticket, and the CSP lets it all run."""
import re
import secrets

from playwright.sync_api import expect

from .conftest import ARTIFACTS, login


def world(live_server):
    tag = secrets.token_hex(3)
    with live_server.setup():
        make = live_server.make
        agent = make.user()
        cti = make.cti(f"Infra {tag}", "Servers", "web01")
        wanted = make.ticket(actor=agent, cti=cti, title=f"Pelican{tag} alert on web01", severity=2,
                             overview=f"nginx answers ERR_CONN_RESET for pelican{tag}; see /var/log/nginx/error.log")
        other = make.ticket(actor=agent, cti=cti, title=f"Heron{tag} printer", severity=1)
        return {"tag": tag, "agent": agent.username, "wanted": wanted.display_id, "other": other.display_id}


def rows(page) -> list[str]:
    return page.locator("#results td.col-id a").all_inner_texts()


def test_live_search_filters_the_queue_and_the_back_button_undoes_it(page, live_server):
    w = world(live_server)
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    login(page, live_server, w["agent"])
    page.goto(live_server("/?status=all"))
    assert w["other"] in rows(page)
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#search-q")).to_be_focused()
    page.keyboard.type(f"pelican{w['tag']}")
    expect(page.locator("#results td.col-id a")).to_have_text([w["wanted"]])
    expect(page).to_have_url(re.compile(rf"/\?status=all&q=pelican{w['tag']}$"))
    snippet = page.locator("#results p.snippet")
    expect(snippet.locator("mark")).to_have_text([f"pelican{w['tag']}"])
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="hide" (the default) sets style="" on inputs, which htmx copies in a later swap: a CSP report
    page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True, caret="initial")
    page.select_option("#filter-severity", "1")
    expect(page.locator("#results .empty-title")).to_have_text(f"No tickets match “pelican{w['tag']}”.")
    page.screenshot(path=str(ARTIFACTS / "search-empty.png"), full_page=True, caret="initial")
    page.go_back()
    expect(page.locator("#results td.col-id a")).to_have_text([w["wanted"]])
    page.go_back()
    expect(page).to_have_url(re.compile(r"/\?status=all$"))
    # the restored page may arrive after its URL (htmx fetches it again when its snapshot is gone)
    expect(page.locator("#results td.col-id a", has_text=w["other"])).to_have_count(1)
    assert violations == []


def test_a_ticket_id_typed_in_the_header_opens_the_ticket(page, live_server):
    w = world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['other']}"))
    page.fill("#search-q", f"  {w['wanted'].lower()} ")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{w['wanted']}")
    page.goto(live_server("/"))
    page.fill("#search-q", w["other"])
    expect(page.locator(".search-note")).to_contain_text("press Enter to open it")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{w['other']}")


def test_slash_types_a_slash_in_a_text_field(page, live_server):
    w = world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['wanted']}/comments"))
    box = page.locator("textarea").first
    box.click()
    page.keyboard.type("see /var/log")
    expect(box).to_have_value("see /var/log")
    expect(page.locator("#search-q")).not_to_be_focused()


def test_a_search_too_long_to_run_fits_a_phone_and_says_why(browser, live_server):
    w = world(live_server)
    context = browser.new_context(viewport={"width": 390, "height": 800})
    phone = context.new_page()
    try:
        login(phone, live_server, w["agent"])
        phone.goto(live_server("/?q=" + "x" * 600))
        expect(phone.locator("#q-error")).to_have_text("Keep searches under 500 characters (600 now).")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
