"""The defects a new user's walkthrough found (issue 23, item 5), each fixed and checked in Chromium."""
import re
import secrets

from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import AuditEvent, Role, Ticket

from ..conftest import LOOPBACK_NETWORK
from ..jobs_fixtures import receiver  # noqa: F401
from .conftest import login


def ticket_world(live_server, **ticket):
    """An agent and one unassigned SEV 3 ticket of their own queue."""
    tag = secrets.token_hex(3)
    make = live_server.make
    with live_server.setup():
        agent = make.user(display_name=f"Wen {tag}")
        chain = make.cti(f"Walk {tag}", "Servers", "web01")
        make.cti(f"Walk {tag}", "Network", "vpn")
        ref = make.ticket(actor=agent, cti=chain, title=f"Walkthrough {tag}", **ticket).display_id
        return {"agent": agent.username, "name": agent.display_name, "id": ref, "queue": chain[0].id, "tag": tag}


def held(page, pattern):
    """Hold matching requests at the browser until released: a request 'in flight' for as long as
    the test needs, with no sleeping. Returns the list of held routes."""
    routes = []
    page.route(pattern, lambda route: routes.append(route))
    return routes


def release(page, pattern, routes):
    for route in routes:
        route.continue_()
    page.unroute(pattern)


def in_flight_bar(page) -> str:
    return page.evaluate("getComputedStyle(document.body, '::before').content")


def test_in_flight_indicator_and_optimistic_badge_then_a_queued_second_action(page, live_server):
    w = ticket_world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['id']}"))
    assert page.evaluate("htmx.config.includeIndicatorCSS") is False  # CSP would refuse its inline sheet
    assert in_flight_bar(page) == "none"
    pattern = re.compile(r".*/severity$")
    routes = held(page, pattern)
    page.select_option("#severity", "1")
    expect(page.locator("#ticket-badges .sev")).to_have_text("SEV 1")  # before any answer
    expect(page.locator("#ticket-badges .sev")).to_have_class(re.compile("is-pending"))
    expect(page.locator("#ticket-sidebar form.htmx-request")).to_have_count(1)
    assert in_flight_bar(page) == '""'
    expect(page.locator("#ticket-sidebar")).to_have_attribute("aria-busy", "true")
    page.click("text=Assign to me")  # while the severity change is still out
    queued = page.locator("#ticket-sidebar form.is-queued")
    expect(queued).to_have_count(1)
    assert "Queued" in page.evaluate("getComputedStyle(document.querySelector('form.is-queued'), '::after').content")
    release(page, pattern, routes)
    expect(page.locator("#flashes")).to_contain_text(f"Assigned to {w['name']}")
    expect(page.locator("#ticket-badges .sev")).to_have_text("SEV 1")
    expect(page.locator("#ticket-badges .sev.is-pending")).to_have_count(0)
    expect(page.locator("#ticket-sidebar")).not_to_have_attribute("aria-busy", "true")
    assert in_flight_bar(page) == "none"
    with live_server.setup():
        ticket = db.session.scalar(db.select(Ticket).filter_by(display_id=w["id"]))
        assert (ticket.severity, ticket.assignee.display_name) == (1, w["name"])  # both applied, none dropped
    expect(page.locator(".alert-error")).to_have_count(0)


def test_tabs_and_filters_show_they_are_loading(page, live_server):
    w = ticket_world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['id']}"))
    pattern = re.compile(r".*/audit$")
    routes = held(page, pattern)
    page.click(".tabs >> text=Audit Log")
    expect(page.locator("a.tab.htmx-request")).to_have_count(1)
    assert in_flight_bar(page) == '""'
    assert float(page.evaluate("getComputedStyle(document.querySelector('a.tab.htmx-request')).opacity")) < 1
    release(page, pattern, routes)
    expect(page.locator("#audit-log")).to_be_visible()
    page.goto(live_server("/"))
    pattern = re.compile(r".*/\?status=.*")
    routes = held(page, pattern)
    page.select_option("#filter-status", "all")
    expect(page.locator("form.filters.htmx-request")).to_have_count(1)
    release(page, pattern, routes)
    expect(page.locator("#results-title")).to_have_text("All tickets")


def test_reroute_panel_stacks_its_selects_at_full_width(page, live_server):
    w = ticket_world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['id']}"))
    page.click(".reroute summary")
    boxes = [page.locator(f"#reroute-{name}").bounding_box() for name in ("category", "type", "item")]
    sidebar = page.locator("#ticket-sidebar").bounding_box()
    assert all(box["width"] > sidebar["width"] - 40 for box in boxes)  # the sidebar's whole width
    assert boxes[0]["y"] < boxes[1]["y"] < boxes[2]["y"]  # one under another
    expect(page.locator("#reroute-category option:checked")).to_have_text(f"Walk {w['tag']}")


def test_task_list_preview_checkbox_sits_beside_its_label(page, live_server):
    w = ticket_world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server("/tickets/new"))
    page.fill("#overview", "- [ ] call the vendor\n- [x] checked the logs")
    page.locator(".md-editor", has=page.locator("#overview")).locator("[data-md-tab=preview]").click()
    box = page.locator("#overview-preview input[type=checkbox]").first
    box.wait_for()
    assert box.bounding_box()["width"] < 30
    label = page.locator("#overview-preview li", has_text="call the vendor").bounding_box()
    assert box.bounding_box()["x"] - label["x"] < 40


def test_field_errors_clear_as_each_field_becomes_valid(page, live_server):
    w = ticket_world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server("/tickets/new"))
    page.click("text=Create ticket")
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.locator("#category-error")).to_be_visible()
    page.fill("#title", "Printer jams")
    expect(page.locator("#title-error")).to_be_hidden()
    expect(page.locator("#title")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#category-error")).to_be_visible()  # not fixed yet: still there
    page.select_option("#category", label=f"Walk {w['tag']}")
    expect(page.locator("#category-error")).to_be_hidden()


def test_unsaved_comment_or_editor_asks_before_it_is_lost(page, live_server):
    w = ticket_world(live_server)
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/tickets/{w['id']}/comments"))
    page.fill("#comment-body", "Half a thought")
    page.click(".tabs >> text=Audit Log")
    expect(page.locator("#audit-log")).to_be_visible()  # the dialog was accepted: it went on
    assert page.dialogs == ["You have unsaved text here. Leave and lose it?"]
    page.click(".tabs >> text=Overview")
    page.click("#overview >> text=Edit")
    page.fill("#overview-input", "A better overview")
    page.click("nav.topnav >> text=Dashboard")
    page.wait_for_url(live_server("/"))
    assert len(page.dialogs) == 2
    page.goto(live_server(f"/tickets/{w['id']}/comments"))
    page.fill("#comment-body", "Saved this time")
    page.click("#comment-form button[type=submit]")  # saving its own form asks nothing
    expect(page.locator("#comment-list")).to_contain_text("Saved this time")
    assert len(page.dialogs) == 2
    has_guard = page.evaluate("""() => { document.querySelector('#comment-body').value = 'x';
        const event = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(event);
        return event.defaultPrevented; }""")
    assert has_guard  # a reload or closing the tab asks too


def test_whole_queue_row_opens_and_unassigned_reads_like_the_names(page, live_server):
    w = ticket_world(live_server)
    with live_server.setup():
        make = live_server.make
        chain = make.cti(f"Walk {w['tag']}", "Servers", "web02")
        owner = make.user(display_name=f"Owner {w['tag']}")
        make.ticket(actor=owner, cti=chain, assignee=owner, title=f"Assigned {w['tag']}")
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/?queue={w['queue']}"))
    sizes = page.evaluate("[...document.querySelectorAll('#results .col-assignee .who-name')]"
                          ".map(e => getComputedStyle(e).fontSize + ' ' + getComputedStyle(e.closest('td')).fontSize)")
    assert len(sizes) == 2 and len(set(sizes)) == 1
    row = page.locator("#results tbody tr", has_text=f"Walkthrough {w['tag']}")
    assert page.evaluate("getComputedStyle(document.querySelector('#results tbody tr')).cursor") == "pointer"
    row.locator(".col-cti").click()
    page.wait_for_url(f"**/tickets/{w['id']}")


def admin_login(page, live_server):
    with live_server.setup():
        username = live_server.make.user(f"boss{secrets.token_hex(3)}", role=Role.ADMIN).username
    login(page, live_server, username)


def test_cti_rename_updates_the_delete_confirmation_and_labels(page, live_server):
    tag = secrets.token_hex(3)
    with live_server.setup():
        _, cti_type, _ = live_server.make.cti(f"Rename {tag}", "Printers", "3rd floor")
        type_id = cti_type.id
    admin_login(page, live_server)
    page.goto(live_server("/admin/cti"))
    page.click(f"#type-{type_id} >> a.cti-name")
    page.fill(f"#rename-type-{type_id}", f"Copiers {tag}")
    page.press(f"#rename-type-{type_id}", "Enter")
    row = page.locator(f"#type-{type_id} > .cti-row")
    expect(row.locator(".cti-name-text")).to_have_text(f"Copiers {tag}")
    delete = row.locator("form", has=page.locator("button:has-text('Delete')"))
    assert f"“Copiers {tag}”" in delete.get_attribute("hx-confirm")
    expect(delete.locator(".visually-hidden")).to_have_text(f" type “Copiers {tag}”")
    assert "Printers" not in row.inner_text()
    add_label = page.locator(f"label[for=add-item-{type_id}]")
    expect(add_label).to_contain_text(f"Copiers {tag}")


def test_cti_row_actions_show_without_hover_on_touch(browser, live_server):
    tag = secrets.token_hex(3)
    with live_server.setup():
        type_id = live_server.make.cti(f"Touch {tag}", "Printers", "3rd floor")[1].id
        username = live_server.make.user(f"toucher{tag}", role=Role.ADMIN).username
    context = browser.new_context(viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        login(page, live_server, username)
        page.goto(live_server("/admin/cti"))
        assert page.evaluate("matchMedia('(hover: hover) and (pointer: fine)').matches") is False
        actions = page.locator(f"#type-{type_id} > .cti-row .cti-actions")
        assert page.evaluate("e => getComputedStyle(e).opacity", actions.element_handle()) == "1"
    finally:
        context.close()


def test_webhook_pages_have_admin_tabs_breadcrumb_and_a_test_event(page, live_server, receiver):  # noqa: F811
    admin_login(page, live_server)
    page.goto(live_server("/admin/webhooks/new"))
    expect(page.locator("nav.admin-tabs a[aria-current=page]")).to_have_text("Webhooks")
    expect(page.locator(".breadcrumb")).to_contain_text("Admin › Webhooks › New")
    name = f"Receiver {secrets.token_hex(3)}"
    page.fill("#name", name)
    page.fill("#url", receiver.url)
    live_server.app.config["WEBHOOK_ALLOWED_NETWORKS"] = LOOPBACK_NETWORK  # the test receiver's 127.0.0.1
    try:
        page.click(".wh-form button[type=submit]")
        page.wait_for_selector(f"h1:has-text('{name}')")
        expect(page.locator(".breadcrumb")).to_contain_text(f"Admin › Webhooks › {name}")
        expect(page.locator("nav.admin-tabs a[aria-current=page]")).to_have_text("Webhooks")
        before = len(receiver.requests)
        page.click("text=Send test event")
        answer = page.locator("#wh-test-answer")
        expect(answer).to_contain_text("Receiver answered")
        expect(answer).to_contain_text("HTTP 200: ok")
        sent = [r for r in receiver.requests[before:] if r.json["action"] == "webhook_test"]
        assert len(sent) == 1 and sent[0].json["test"] is True
        receiver.answer(503, body=b"maintenance until 9")
        page.click("text=Send test event")
        expect(answer).to_contain_text("HTTP 503")
        expect(answer).to_contain_text("maintenance until 9")
    finally:
        live_server.app.config["WEBHOOK_ALLOWED_NETWORKS"] = ""
    page.click("text=Send test event")  # loopback refused again: nothing sent, and it says why
    expect(answer).to_contain_text("Not delivered")
    expect(answer).to_contain_text("loopback")
    with live_server.setup():
        events = db.session.scalars(db.select(AuditEvent).filter_by(action="webhook_test").order_by(AuditEvent.id)).all()
        assert [e.after["ok"] for e in events[-3:]] == [True, False, False]


def test_the_one_time_api_key_has_its_own_url_and_is_gone_after(page, live_server):
    admin_login(page, live_server)
    page.goto(live_server("/admin/users/new?role=SERVICE"))
    robot = f"bot{secrets.token_hex(3)}"
    page.fill("#username", robot)
    page.fill("#display_name", robot.title())
    page.click("button:has-text('Create account')")
    page.wait_for_url(re.compile(r".*/admin/users/\d+/key/once$"))
    key = page.locator("#new-key").input_value()
    assert key.startswith("sk_")
    page.reload()
    page.wait_for_url(re.compile(r".*/admin/users/\d+$"))
    assert key not in page.content()
    expect(page.locator("#flashes")).to_contain_text("shown once")
