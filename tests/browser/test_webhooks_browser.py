from webapp.models import Role

from .conftest import login


def test_admin_adds_a_webhook_and_fixes_a_mistake_in_chromium(page, live_server):
    with live_server.setup():
        admin = live_server.make.user(role=Role.ADMIN)
        username = admin.username
    login(page, live_server, username)
    page.goto(live_server("/admin/webhooks"))
    page.click("text=New webhook")
    suggested = page.input_value("#secret")
    assert len(suggested) >= 32
    page.fill("#name", "Pager")
    page.fill("#url", "pager.example.com/in")
    page.check("input[value=status]")
    page.click(".wh-form button[type=submit]")
    page.wait_for_selector("#url-error")
    assert page.input_value("#name") == "Pager"
    assert page.is_checked("input[value=status]")
    page.fill("#url", "https://pager.example.com/in")
    page.click(".wh-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Pager')")
    assert "/admin/webhooks/" in page.url
    assert "Status changed" in page.inner_text("main")
    page.click("text=Webhooks")
    assert "https://pager.example.com/in" in page.inner_text("table")
    assert suggested not in page.content()
    assert page.dialogs == []
