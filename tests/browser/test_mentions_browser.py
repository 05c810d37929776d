"""@mentions in Chromium: autocomplete by keyboard, the mention posts as a link, and the person
mentioned sees the unread count in the header and the item in their inbox."""
import secrets

from playwright.sync_api import expect

from .conftest import login


def test_mention_by_keyboard_then_the_mentioned_person_sees_it(browser, live_server):
    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        author = make.user(f"writer{tag}", display_name=f"Wanda {tag}")
        mentioned = make.user(f"quinn{tag}", display_name=f"Quinn {tag}")
        make.user(f"quill{tag}", display_name=f"Quill {tag}", active=False)  # never offered
        ticket = make.ticket(actor=author, title=f"Disk full {tag}")
        names = author.username, mentioned.username, ticket.display_id

    writer = browser.new_context(viewport={"width": 1280, "height": 900})
    page = writer.new_page()
    login(page, live_server, names[0])
    page.goto(live_server(f"/tickets/{names[2]}/comments"))
    box = page.locator("#comment-body")
    box.click()
    box.type("Can you look, @qu")
    menu = page.locator("#mention-menu")
    expect(menu.locator(".mention-option").first).to_be_visible()  # "qu" offers somebody already
    expect(menu).not_to_contain_text(f"Quill {tag}")  # deactivated: never offered
    box.type(f"inn{tag[:2]}")
    expect(menu.locator(".mention-option")).to_have_count(1)
    expect(menu.locator('.mention-option[aria-selected="true"]')).to_contain_text(f"Quinn {tag}")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Enter")  # picks the person, does not submit or add a line
    expect(menu).to_have_count(0)
    expect(box).to_have_value(f"Can you look, @{names[1]} ")
    box.type("thanks!")
    page.click("#comment-form button[type=submit]")
    link = page.locator(f'#comment-list a.mention:has-text("@{names[1]}")')
    expect(link).to_have_count(1)
    writer.close()

    reader = browser.new_context(viewport={"width": 1280, "height": 900})
    page = reader.new_page()
    login(page, live_server, names[1])
    expect(page.locator("#notifications-bell .unread-badge")).to_have_text("1")
    page.click("#notifications-bell")
    page.wait_for_url("**/notifications")
    item = page.locator(".inbox-item.unread").first
    expect(item).to_contain_text(f"Wanda {tag} mentioned you on {names[2]}")
    expect(item).to_contain_text("thanks!")
    item.locator(".inbox-link").click()
    page.wait_for_url(f"**/tickets/{names[2]}/comments*")
    expect(page.locator("#notifications-bell .unread-badge")).to_have_count(0)  # opening the ticket read it
    reader.close()
