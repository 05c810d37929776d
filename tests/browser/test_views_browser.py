"""Saved views in Chromium: the sidebar loads beside the queue with counts, follows the filters, and
saves, renames and deletes views in place, from the keyboard too."""
import secrets

from playwright.sync_api import expect

from .conftest import login


def world(live_server):
    """A fresh agent with three tickets of their own in a queue of this test's own."""
    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        agent = make.user(display_name=f"Vera {tag}")
        chain = make.cti(f"Views {tag}", "Type", "Item")
        for severity in (1, 2, 2):
            make.ticket(actor=agent, cti=chain, assignee=agent, severity=severity)
        return {"tag": tag, "agent": agent.username, "queue": chain[0].id}


def view_item(page, name):
    return page.locator("#views-nav .view-item").filter(has=page.locator(".view-name", has_text=name))


def view_link(page, name):
    return view_item(page, name).locator(".view-link")


def test_the_sidebar_follows_the_filters_and_saves_renames_and_deletes_views(page, live_server):
    w = world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/?queue={w['queue']}&assignee=me"))
    expect(view_link(page, "Open queue")).to_be_visible()
    expect(view_link(page, "My tickets")).to_contain_text("3")
    expect(page.locator("#views-nav [aria-current=page]")).to_have_count(0)
    expect(page.locator(".views-empty")).to_contain_text("None yet")

    page.locator(".view-save > summary").click()
    page.fill("#view-new-name", f"Mine in {w['tag']}")
    page.keyboard.press("Enter")
    saved = view_link(page, f"Mine in {w['tag']}")
    expect(saved).to_have_attribute("aria-current", "page")
    expect(saved).to_contain_text("3")
    expect(page.locator(".views-notice")).to_contain_text("Saved the view")
    assert page.url == live_server(f"/?queue={w['queue']}&assignee=me")  # swapped in place

    page.select_option("#filter-severity", "2")  # new results: the sidebar reloads for the new filters
    expect(page.locator("#results tbody tr")).to_have_count(2)
    expect(saved).not_to_have_attribute("aria-current", "page")

    menu = view_item(page, f"Mine in {w['tag']}").locator("summary")
    menu.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Update with current filters").click()
    expect(saved).to_have_attribute("aria-current", "page")
    expect(saved).to_contain_text("2")

    item = view_item(page, f"Mine in {w['tag']}")
    item.locator("summary").click()
    item.locator("input[name=name]").fill(f"SEV 2 mine {w['tag']}")
    item.get_by_role("button", name="Rename").click()
    renamed = view_link(page, f"SEV 2 mine {w['tag']}")
    expect(renamed).to_have_attribute("aria-current", "page")

    page.locator(".view-save > summary").click()
    page.fill("#view-new-name", f"sev 2 MINE {w['tag']}")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator("#view-new-name-error")).to_contain_text("You already have a view named")
    expect(page.locator("#view-new-name")).to_have_value(f"sev 2 MINE {w['tag']}")
    expect(page.locator("#view-new-name")).to_have_attribute("aria-invalid", "true")

    item = view_item(page, f"SEV 2 mine {w['tag']}")
    item.locator("summary").click()
    item.get_by_role("button", name="Delete").click()
    expect(page.locator(".views-notice")).to_contain_text("Deleted the view")
    expect(renamed).to_have_count(0)
    assert page.dialogs and "Delete the view" in page.dialogs[-1]


def test_opening_a_view_keeps_the_sidebar_shown_until_it_reloads_for_that_view(page, live_server):
    w = world(live_server)
    login(page, live_server, w["agent"])
    expect(view_link(page, "Open queue")).to_have_attribute("aria-current", "page")
    page.evaluate("document.getElementById('views-nav').dataset.kept = 'yes'")
    held = []
    page.route("**/views?*", lambda route: held.append(route))  # the sidebar's reload waits until we let it through
    view_link(page, "My tickets").click()
    page.wait_for_url(live_server("/?assignee=me"))
    expect(page.locator("#filter-assignee")).to_have_value("me")
    expect(page.locator("#views-nav .views-loading")).to_have_count(0)  # not the placeholder
    assert page.evaluate("document.getElementById('views-nav').dataset.kept") == "yes"
    for _ in range(50):  # the reload is asked for once the swapped-in marker loads: give it its moment
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1 and "assignee=me" in held[0].request.url
    held[0].continue_()
    expect(view_link(page, "My tickets")).to_have_attribute("aria-current", "page")
    expect(view_link(page, "Open queue")).not_to_have_attribute("aria-current", "page")
