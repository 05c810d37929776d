def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Sign in" in response.data


def test_dashboard_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_agent_logs_in_and_sees_dashboard(client, auth, make):
    make.user("agent")
    response = auth.login()
    assert response.status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    assert b"Open tickets" in page.data
