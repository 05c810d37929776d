from .conftest import login


def test_agent_signs_in_and_out_in_chromium(page, live_server):
    with live_server.setup():
        user = live_server.make.user()
        username, display_name = user.username, user.display_name
    login(page, live_server, username)
    assert page.locator(".whoami-name").inner_text() == display_name
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    assert page.locator("h1").inner_text() == "Sign in"
    assert page.dialogs == []
