"""An agent's day in Chromium: file a ticket, work it from the sidebar, discuss it, read its history."""
import secrets

from playwright.sync_api import expect

from .conftest import login


def world(live_server):
    """An agent, a colleague and a small CTI tree with names unique to this test."""
    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        agent = make.user(display_name=f"Alex {tag}")
        bob = make.user(display_name=f"Bob {tag}")
        make.cti(f"Infra {tag}", "Servers", "web01")
        make.cti(f"Infra {tag}", "Network", "vpn")
        make.cti(f"Office {tag}", "Printers", "3rd floor")
        return {"tag": tag, "agent": agent.username, "agent_name": agent.display_name, "bob": bob.display_name}


def file_ticket(page, live_server, w, title):
    """Fill the new-ticket form through the cascading selects and submit it."""
    page.click("nav.topnav >> text=New ticket")
    page.wait_for_url("**/tickets/new")
    expect(page.locator(".field-error")).to_have_count(0)  # a fresh form, not the last one's errors
    page.fill("#title", title)
    page.fill("#overview", "Disk at **98%** on web01")
    page.check("input[name=severity][value='2']")
    expect(page.locator("#type")).to_be_disabled()
    page.select_option("#category", label=f"Infra {w['tag']}")
    expect(page.locator("#type option")).to_have_text(["Choose a type…", "Network", "Servers"])
    expect(page.locator("#item")).to_be_disabled()
    page.select_option("#type", label="Servers")
    expect(page.locator("#item option")).to_have_text(["Choose an item…", "web01"])
    page.select_option("#item", label="web01")
    page.click("text=Create ticket")
    page.wait_for_url("**/tickets/V*")


def start_with_a_ticket(page, live_server, title):
    """Sign in as a fresh agent and file a ticket; the page is left on it."""
    w = world(live_server)
    login(page, live_server, w["agent"])
    file_ticket(page, live_server, w, title)
    return w


def mark_page(page):
    """Tag the window and the sidebar so a reload or a whole-body swap would be noticed."""
    page.evaluate("window.__sameDocument = true; document.getElementById('ticket-sidebar').dataset.kept = 'yes'")


def still_same_page(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_agent_files_a_ticket_through_the_cascading_selects(page, live_server):
    w = world(live_server)
    login(page, live_server, w["agent"])
    page.click("nav.topnav >> text=New ticket")
    page.click("text=Create ticket")
    expect(page.locator("#title-error")).to_have_text("Give the ticket a title.")
    expect(page.locator("#category-error")).to_have_text("Choose a category.")
    file_ticket(page, live_server, w, "Disk full on web01")
    expect(page.locator(".flash-success")).to_contain_text("created")
    expect(page.locator("#ticket-title-text")).to_have_text("Disk full on web01")
    expect(page.locator("#ticket-badges .sev")).to_have_text("SEV 2")
    expect(page.locator(".cti-path")).to_have_text(f"Infra {w['tag']} › Servers › web01")
    expect(page.locator(".overview strong")).to_have_text("98%")


def test_overview_preview_is_rendered_by_the_server(page, live_server):
    w = world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server("/tickets/new"))
    page.fill("#overview", "| host | disk |\n|---|---|\n| web01 | 98% |")
    page.click("#overview-preview >> xpath=.. >> [data-md-tab=preview]")
    expect(page.locator("#overview-preview table td").first).to_have_text("web01")
    expect(page.locator("#overview")).to_be_hidden()
    page.click("[data-md-tab=write] >> nth=0")
    expect(page.locator("#overview")).to_be_visible()
    expect(page.locator("#overview")).to_have_value("| host | disk |\n|---|---|\n| web01 | 98% |")


def test_tabs_switch_without_a_reload_and_back_and_forward_work(page, live_server):
    start_with_a_ticket(page, live_server, "Tabs ticket")
    ticket_url = page.url
    mark_page(page)
    page.click(".tabs >> text=Comments")
    page.wait_for_url("**/comments")
    expect(page.locator("#comment-form")).to_be_visible()
    page.click(".tabs >> text=Audit Log")
    page.wait_for_url("**/audit")
    expect(page.locator(".event-create")).to_be_visible()
    assert still_same_page(page)
    assert page.evaluate("document.getElementById('ticket-sidebar').dataset.kept") == "yes"
    page.go_back()
    page.wait_for_url("**/comments")
    expect(page.locator("#comment-form")).to_be_visible()
    expect(page.locator(".tab[aria-current=page]")).to_contain_text("Comments")
    page.go_back()
    page.wait_for_url(ticket_url)
    expect(page.locator("#overview")).to_be_visible()
    page.go_forward()
    page.wait_for_url("**/comments")
    expect(page.locator("#comment-form")).to_be_visible()


def test_markdown_comment_with_preview_post_and_delete(page, live_server):
    w = start_with_a_ticket(page, live_server, "Comment ticket")
    page.click(".tabs >> text=Comments")
    mark_page(page)
    body = "Checked:\n\n| host | disk |\n|---|---|\n| web01 | 98% |\n\n- [x] rotated logs"
    page.fill("#comment-body", body)
    page.click("#comment-form [data-md-tab=preview]")
    expect(page.locator("#comment-body-preview table td").first).to_have_text("web01")
    page.click("#comment-form [data-md-tab=write]")
    page.click("#comment-form button:has-text('Comment')")
    comment = page.locator("#comment-list .comment").first
    expect(comment.locator("table td").first).to_have_text("web01")
    expect(comment.locator("input[type=checkbox]")).to_be_checked()
    expect(comment.locator(".comment-head strong")).to_have_text(w["agent_name"])
    expect(page.locator("#comment-count")).to_have_text("1")
    expect(page.locator("#comment-body")).to_have_value("")
    expect(page.locator("#comments-empty")).to_be_hidden()
    assert still_same_page(page)
    comment.locator("button:has-text('Delete')").click()
    expect(page.locator(".comment-removed")).to_be_visible()
    assert page.dialogs == ["Delete this comment? Its text stays in the Audit Log."]
    expect(page.locator("#comment-count")).to_have_text("0")
    page.click(".tabs >> text=Audit Log")
    deleted = page.locator(".event-comment_delete")
    expect(deleted).to_contain_text("deleted a comment")
    deleted.locator("summary").click()
    expect(deleted.locator("table td").first).to_have_text("web01")


def test_empty_comment_is_refused_in_place(page, live_server):
    start_with_a_ticket(page, live_server, "Empty comment ticket")
    page.click(".tabs >> text=Comments")
    page.click("#comment-form button:has-text('Comment')")
    expect(page.locator("#body-error")).to_have_text("Write something before posting.")


def test_sidebar_actions_update_in_place_and_land_in_the_audit_log(page, live_server):
    w = start_with_a_ticket(page, live_server, "Sidebar ticket")
    page.click(".tabs >> text=Audit Log")
    page.wait_for_url("**/audit")
    page.evaluate("window.__sameDocument = true")

    page.click("#ticket-sidebar button:has-text('Start progress')")
    expect(page.locator("#ticket-badges .status")).to_have_text("In Progress")
    expect(page.locator("#flashes")).to_contain_text("is now In Progress")
    expect(page.locator(".timeline .event").first).to_contain_text("changed the status")

    page.select_option("#severity", "1")
    expect(page.locator("#ticket-badges .sev")).to_have_text("SEV 1")
    expect(page.locator(".timeline .event").first).to_contain_text("changed the severity")

    page.select_option("#assignee", label=w["bob"])
    expect(page.locator("#ticket-sidebar .field-row .avatar").first).to_have_attribute("title", w["bob"])
    expect(page.locator(".timeline .event").first).to_contain_text(w["bob"])

    page.click("#ticket-sidebar summary:has-text('Reroute')")
    page.select_option("#reroute-category", label=f"Office {w['tag']}")
    expect(page.locator("#reroute-type option")).to_have_text(["Choose a type…", "Printers"])
    page.select_option("#reroute-type", label="Printers")
    expect(page.locator("#reroute-item option")).to_have_text(["Choose an item…", "3rd floor"])
    page.select_option("#reroute-item", label="3rd floor")
    page.click("#ticket-sidebar form button:has-text('Reroute')")
    expect(page.locator(".cti-path")).to_have_text(f"Office {w['tag']} › Printers › 3rd floor")

    page.click("#ticket-sidebar button:has-text('Resolve')")
    expect(page.locator("#ticket-badges")).to_contain_text("auto-closes")
    page.click("#ticket-sidebar button:has-text('Re-open')")
    expect(page.locator("#ticket-badges .status")).to_have_text("Open")

    lines = page.locator(".timeline .event-line")
    expect(lines).to_have_count(7)
    expect(lines).to_contain_text(["changed the status", "changed the status", "rerouted the ticket",
                                    "changed the assignee", "changed the severity", "changed the status",
                                    "created the ticket"])
    expect(page.locator(".event-reroute .change")).to_contain_text(f"Infra {w['tag']} › Servers › web01")
    expect(page.locator("#audit-count")).to_have_text("7")
    assert still_same_page(page)


def test_inline_title_and_overview_edits(page, live_server):
    start_with_a_ticket(page, live_server, "Old title")
    page.click("#ticket-title a:has-text('Edit')")
    expect(page.locator("#title-input")).to_be_focused()
    page.fill("#title-input", "")
    page.click("text=Save title")
    expect(page.locator("#title-error")).to_have_text("Give the ticket a title.")
    page.fill("#title-input", "New title")
    page.click("text=Save title")
    expect(page.locator("#ticket-title-text")).to_have_text("New title")
    page.click("#overview a:has-text('Edit')")
    page.fill("#overview-input", "~~old~~ **new** overview")
    page.click("text=Save overview")
    expect(page.locator(".overview del")).to_have_text("old")
    page.click("#ticket-sidebar button:has-text('Start progress')")
    expect(page.locator("#ticket-badges .status")).to_have_text("In Progress")


def hold_live_polls(page) -> None:
    """The page hears of no change (its live polls never arrive): as if the change landed between
    two polls, so the stale path is what this test sees, never a page already refreshed."""
    page.route("**/*", lambda route: route.abort() if route.request.headers.get("x-live-poll")
               else route.continue_())


def test_a_stale_change_is_refused_with_a_fresh_view(browser, page, live_server):
    w = start_with_a_ticket(page, live_server, "Contested ticket")
    hold_live_polls(page)
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(other, live_server, w["agent"])
    other.goto(page.url)
    other.select_option("#severity", "5")
    expect(other.locator("#ticket-badges .sev")).to_have_text("SEV 5")  # at once, before the answer
    expect(other.locator("#flashes")).to_contain_text("Severity set to SEV 5")  # saved
    page.click("#ticket-sidebar button:has-text('Resolve')")
    expect(page.locator("#ticket-sidebar .alert-error")).to_contain_text("changed by someone else")
    expect(page.locator("#ticket-badges .sev")).to_have_text("SEV 5")
    expect(page.locator("#ticket-badges .status")).to_have_text("Open")
    page.click("#ticket-sidebar button:has-text('Resolve')")
    expect(page.locator("#ticket-badges .status")).to_have_text("Resolved")
    other.context.close()


def test_dashboard_filters_are_htmx_requests_kept_in_the_url(page, live_server):
    title = f"Filter me {secrets.token_hex(3)}"
    start_with_a_ticket(page, live_server, title)
    page.click("nav.topnav >> text=Dashboard")
    page.wait_for_url(live_server("/"))
    page.evaluate("window.__sameDocument = true")
    page.select_option("#filter-severity", "2")
    page.wait_for_url("**/?severity=2")
    expect(page.locator("#results")).to_contain_text(title)
    page.select_option("#filter-severity", "4")
    page.wait_for_url("**/?severity=4")
    expect(page.locator("#results")).not_to_contain_text(title)
    assert still_same_page(page)
    page.go_back()
    page.wait_for_url("**/?severity=2")
    expect(page.locator("#filter-severity")).to_have_value("2")
    expect(page.locator("#results")).to_contain_text(title)
    page.goto(live_server("/?severity=4"))
    expect(page.locator("#filter-severity")).to_have_value("4")
