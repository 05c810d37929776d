"""Every keyboard shortcut in Chromium (static/js/keys.js), and none of them while typing."""
import secrets

from playwright.sync_api import expect

from .conftest import login


def queue_world(live_server, count=3):
    """An agent and `count` tickets in a queue (category) of their own; returns what the test needs."""
    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        agent = make.user(display_name=f"Kim {tag}")
        chain = make.cti(f"Keys {tag}", "Servers", "web01")
        ids = [make.ticket(actor=agent, cti=chain, title=f"Keyed {tag} {n}", severity=n + 1).display_id
               for n in range(count)]
        return {"agent": agent.username, "name": agent.display_name, "queue": chain[0].id, "ids": ids}


def cursor_id(page):
    return page.locator("#results tr.is-cursor .col-id").inner_text()


def test_queue_shortcuts_help_move_open_select_and_go(page, live_server):
    w = queue_world(live_server)
    login(page, live_server, w["agent"])
    queue = live_server(f"/?queue={w['queue']}")
    page.goto(queue)
    page.keyboard.press("?")
    help_dialog = page.locator("#kbd-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Keyboard shortcuts")
    expect(help_dialog).to_contain_text("Assign to me")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("j")
    assert cursor_id(page) == w["ids"][0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stops at the last row
    assert cursor_id(page) == w["ids"][2]
    page.keyboard.press("k")
    assert cursor_id(page) == w["ids"][1]
    page.keyboard.press("x")  # the row's bulk-change box: ticked, and the action bar shows
    expect(page.locator("#results tr.is-cursor input.pick")).to_be_checked()
    expect(page.locator(".bulk-bar")).to_be_visible()
    page.keyboard.press("x")
    expect(page.locator("#results input.pick:checked")).to_have_count(0)

    page.keyboard.press("Enter")
    page.wait_for_url(f"**/tickets/{w['ids'][1]}")
    page.go_back()
    page.wait_for_url(queue)
    expect(page.locator("#results tbody tr")).to_have_count(3)  # the restored queue, not the ticket
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"**/tickets/{w['ids'][0]}")

    page.keyboard.press("g")
    page.keyboard.press("m")
    page.wait_for_url("**/my-tickets")
    page.keyboard.press("g")
    page.keyboard.press("d")
    page.wait_for_url(live_server("/"))


def test_x_marks_a_row_that_has_no_checkbox(page, live_server):
    """A queue without bulk boxes (none on the page) still shows which row `x` picked."""
    w = queue_world(live_server, count=2)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/?queue={w['queue']}"))
    page.evaluate("() => document.querySelectorAll('#results td.col-pick').forEach(cell => cell.remove())")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("#results tr.is-cursor.is-marked")).to_have_count(1)
    assert page.locator("#results tr.is-marked").get_attribute("aria-selected") == "true"
    page.keyboard.press("x")
    expect(page.locator("#results tr.is-marked")).to_have_count(0)


def test_slash_focuses_the_search_box_and_typing_there_fires_nothing(page, live_server):
    w = queue_world(live_server, count=1)
    login(page, live_server, w["agent"])
    page.goto(live_server("/"))
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.type("jk?")  # typing in the field: no shortcut fires
    assert page.input_value("#search-q") == "jk?"
    expect(page.locator("#kbd-help")).to_have_count(0)
    expect(page.locator("#results tr.is-cursor")).to_have_count(0)


def test_ticket_shortcuts_assign_status_comment_edit_and_cancel(page, live_server):
    w = queue_world(live_server, count=1)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['ids'][0]}"))
    page.keyboard.press("a")
    expect(page.locator("#flashes")).to_contain_text(f"Assigned to {w['name']}")
    expect(page.locator("#assignee option:checked")).to_contain_text(w["name"])
    expect(page.locator("#ticket-sidebar button[name=assignee_id]")).to_have_count(0)

    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.closest('.status-actions') !== null")
    page.evaluate("document.activeElement.blur()")

    page.keyboard.press("e")  # the overview tab is open: its editor
    editor = page.locator("#overview-input")
    expect(editor).to_be_visible()
    editor.fill("Half-written overview")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    assert page.dialogs == ["Discard your changes?"]

    page.keyboard.press("c")  # switches to the comments tab and puts the cursor in the box
    body = page.locator("#comment-body")
    expect(body).to_be_focused()
    page.keyboard.type("Typed with **shortcuts** only: j k x e s a stay letters")
    expect(page.locator("#kbd-help")).to_have_count(0)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#comment-list .comment")).to_contain_text("Typed with shortcuts only")
    expect(page.locator("#comment-list strong", has_text="shortcuts")).to_have_count(1)
    expect(page.locator("#comment-body")).to_have_value("")

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("e")  # no overview on this tab: the title
    title = page.locator("#title-input")
    title.wait_for()
    title.press("Escape")  # unchanged: no question asked
    expect(title).to_have_count(0)
    assert page.dialogs == ["Discard your changes?"]
