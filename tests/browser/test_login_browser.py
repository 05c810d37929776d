from .conftest import PASSWORD, login


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


def test_agent_changes_their_password_and_signs_out_everywhere_from_their_account_page(page, live_server):
    with live_server.setup():
        username = live_server.make.user().username
    login(page, live_server, username)
    page.click(".whoami-link")
    page.wait_for_url("**/profile")
    page.fill("#current_password", "not my password")
    page.fill("#password", "a brand new secret")
    page.click("text=Change password")
    assert page.locator("#current_password-error").inner_text() == "That is not your current password."
    page.fill("#current_password", PASSWORD)
    page.fill("#password", "a brand new secret")
    page.click("text=Change password")
    page.locator(".flash-success").wait_for()
    assert "this one stays" in page.locator(".flash-success").inner_text()
    page.click("button:has-text('Sign out everywhere')")
    page.wait_for_url("**/login")
    assert page.dialogs == ["Sign out of every browser, this one too?"]
    login(page, live_server, username, "a brand new secret")
