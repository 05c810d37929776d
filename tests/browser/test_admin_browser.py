"""The admin panel in Chromium: inline CTI renames (click, type, Enter / Escape) and one-time keys."""
import itertools
import re

import pytest

from webapp.models import Role

from .conftest import login

_seq = itertools.count(1)


def _admin_and_ticket(live_server):
    """An admin plus a ticket filed under a fresh Category › Type › Item; returns plain values."""
    n = next(_seq)
    with live_server.setup():
        admin = live_server.make.user(f"boss{n}", role=Role.ADMIN)
        cat, typ, item = live_server.make.cti(f"Infra {n}", "Servers", "Web")
        ticket = live_server.make.ticket(actor=admin, cti=(cat, typ, item), title=f"Web is down {n}")
        return admin.username, item.id, ticket.display_id, cat.name


def _rename_inline(page, live_server, item_id: int, new_name: str) -> None:
    """Click the item's name, replace it, press Enter, and wait for the plain name to come back."""
    page.goto(live_server("/admin/cti"))
    row = page.locator(f"#item-{item_id}")
    row.locator("a.cti-name").click()
    field = row.locator("form.inline-edit input[name=name]")
    field.wait_for()
    assert page.evaluate("document.activeElement.name") == "name"  # focused, ready to type
    field.fill(new_name)
    field.press("Enter")
    row.locator("a.cti-name", has_text=new_name).wait_for()
    assert row.locator("form.inline-edit").count() == 0


def _text(page) -> str:
    return " ".join(page.locator("main").inner_text().split())


def test_inline_rename_shows_on_the_dashboard(page, live_server):
    username, item_id, _, category = _admin_and_ticket(live_server)
    login(page, live_server, username)
    _rename_inline(page, live_server, item_id, "Web front")
    assert page.url == live_server("/admin/cti")  # an in-place swap, no navigation
    page.goto(live_server("/"))
    assert f"{category} › Servers › Web front" in _text(page)


def test_inline_rename_shows_on_the_ticket_page(page, live_server):
    if not any(rule.rule.startswith("/tickets/<") for rule in live_server.app.url_map.iter_rules()):
        pytest.skip("the ticket page (/tickets/<display_id>) is not in this build yet")
    username, item_id, display_id, category = _admin_and_ticket(live_server)
    login(page, live_server, username)
    _rename_inline(page, live_server, item_id, "Web frontend")
    page.goto(live_server(f"/tickets/{display_id}"))
    assert f"{category} › Servers › Web frontend" in _text(page)


def test_escape_cancels_an_inline_rename(page, live_server):
    username, item_id, _, _ = _admin_and_ticket(live_server)
    login(page, live_server, username)
    page.goto(live_server("/admin/cti"))
    row = page.locator(f"#item-{item_id}")
    row.locator("a.cti-name").click()
    field = row.locator("form.inline-edit input[name=name]")
    field.fill("Not this")
    field.press("Escape")
    row.locator("a.cti-name", has_text="Web").wait_for()
    assert row.locator("form.inline-edit").count() == 0
    page.reload()
    assert page.locator(f"#item-{item_id} .cti-name-text").inner_text() == "Web"


def test_duplicate_name_error_shows_inline_and_keeps_the_text(page, live_server):
    username, item_id, _, _ = _admin_and_ticket(live_server)
    with live_server.setup():
        _, typ, _ = live_server.make.cti(f"Infra {next(_seq)}", "Servers", "Mail")
        type_id = typ.id
    login(page, live_server, username)
    page.goto(live_server("/admin/cti"))
    field = page.locator(f"#add-item-{type_id}")
    field.fill("mail")
    field.press("Enter")
    error = page.locator(f"#add-item-{type_id}-error")
    error.wait_for()
    assert "There is an item called “Mail” in this type" in error.inner_text()
    assert page.locator(f"#add-item-{type_id}").input_value() == "mail"


def test_new_service_key_is_shown_once_and_copies(page, live_server):
    n = next(_seq)
    with live_server.setup():
        username = live_server.make.user(f"chief{n}", role=Role.ADMIN).username
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, live_server, username)
    page.goto(live_server("/admin/users"))
    page.click("text=New service account")
    page.fill("#username", f"robot{n}")
    page.fill("#display_name", f"Robot {n}")
    page.click("button:has-text('Create account')")
    key = page.locator("#new-key").input_value()
    assert re.fullmatch(r"sk_[\w-]{40,}", key)
    assert "will not be shown again" in _text(page)
    page.click("[data-copy]")
    page.locator("[data-copy-label]", has_text="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == key
    page.goto(live_server("/admin/users"))
    assert key not in page.content()
