"""Two people, two browsers: each sees the other's changes within seconds, presence, and nobody's
half-written text is replaced."""
import secrets

from playwright.sync_api import expect

from .conftest import login

SECONDS = 5_000  # a change must reach an open page within 5 s (the page polls every LIVE_POLL_SECONDS)


def two_agents(browser, live_server):
    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        ann, ben = make.user(display_name=f"Ann {tag}"), make.user(display_name=f"Ben {tag}")
        cti = make.cti(f"Live {tag}", "Servers", "web01")
        ticket = make.ticket(actor=ann, cti=cti, title=f"Disk full {tag}", severity=1)
        names = {"tag": tag, "ann": ann.username, "ben": ben.username, "ben_name": ben.display_name,
                 "ticket": ticket.display_id, "item": cti[2].id, "type": cti[1].id, "category": cti[0].id}
    pages = []
    for who in ("ann", "ben"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        login(page, live_server, names[who])
        pages.append(page)
    return names, pages


def test_the_queue_shows_a_colleagues_change_without_a_reload(browser, live_server):
    names, (ann, ben) = two_agents(browser, live_server)
    ann.goto(live_server(f"/?q={names['tag']}&status=all"))
    ann.evaluate("window.__sameDocument = true")
    row = ann.locator(f'tr[data-id="{names["ticket"]}"]')
    expect(row.locator(".col-status")).to_have_text("Open")
    ben.goto(live_server(f"/tickets/{names['ticket']}"))
    ben.click("#ticket-sidebar button:has-text('Start progress')")
    expect(ben.locator("#ticket-badges")).to_contain_text("In Progress")
    expect(row.locator(".col-status")).to_have_text("In Progress", timeout=SECONDS)
    expect(row).to_have_class("sev-row-1 live-changed")
    assert ann.evaluate("window.__sameDocument === true")  # updated in place, not reloaded
    ann.context.close(), ben.context.close()


def test_the_ticket_page_updates_and_keeps_a_half_written_comment(browser, live_server):
    names, (ann, ben) = two_agents(browser, live_server)
    path = f"/tickets/{names['ticket']}/comments"
    ann.goto(live_server(path))
    ann.fill("#comment-body", "I think it is the log rotation")
    ben.goto(live_server(path))
    expect(ben.locator("#presence")).to_contain_text("is writing a comment", timeout=SECONDS)  # Ann's draft
    ben.fill("#comment-body", "Rebooting web01 now")
    ben.click("#comment-form button[type=submit]")
    expect(ann.locator("#comment-list")).to_contain_text("Rebooting web01 now", timeout=SECONDS)
    expect(ann.locator("#comment-count")).to_have_text("1")
    expect(ann.locator("#comment-body")).to_have_value("I think it is the log rotation")  # never replaced
    ben.click("#ticket-sidebar button:has-text('Start progress')")
    expect(ann.locator("#ticket-badges")).to_contain_text("In Progress", timeout=SECONDS)
    expect(ann.locator("#comment-body")).to_have_value("I think it is the log rotation")
    ann.context.close(), ben.context.close()


def test_an_open_editor_waits_behind_a_notice_and_warns_of_a_second_editor(browser, live_server):
    names, (ann, ben) = two_agents(browser, live_server)
    path = f"/tickets/{names['ticket']}"
    ann.goto(live_server(path))
    ann.click("#overview a:has-text('Add one'), #overview a:has-text('Edit')")
    editor = ann.locator("#overview textarea")
    editor.fill("Ann's draft of the overview")
    ben.goto(live_server(path))
    ben.click("#overview a:has-text('Add one'), #overview a:has-text('Edit')")
    expect(ann.locator("#overview .presence-warning")).to_contain_text(f"{names['ben_name']} is editing the overview too",
                                                                        timeout=SECONDS)
    ben.locator("#overview textarea").fill("Ben's overview")
    ben.click("#overview button:has-text('Save overview')")
    expect(ann.locator("#live-notice")).to_contain_text("This ticket changed", timeout=SECONDS)
    expect(editor).to_have_value("Ann's draft of the overview")  # the open editor is never replaced
    ann.click("#live-notice button")
    expect(editor).to_have_value("Ann's draft of the overview")
    expect(ann.locator("#live-notice")).to_have_count(0)
    ann.context.close(), ben.context.close()
