"""A live server on 127.0.0.1 with its own database, and Debian Chromium driven by Playwright."""
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from webapp.extensions import db

from ..conftest import make_app
from ..factories import PASSWORD, Factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _require_chromium():
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium (see .ci/run)")
    pytest.skip(f"browser tests need Debian chromium at {CHROMIUM} (apt-get install chromium)")


class LiveServer:
    def __init__(self, app, url):
        self.app = app
        self.url = url
        self.make = Factories()

    def __call__(self, path: str) -> str:
        return self.url + path

    def setup(self):
        """Enter the live app's context to create data with `self.make` (commits are visible).

        Read what you need from the objects inside the `with` block: they detach after it.
        """
        return self.app.app_context()


@pytest.fixture(scope="session")
def live_server(database_url, tmp_path_factory):
    """The app served by a real WSGI server on a free port, on a database of its own."""
    _require_chromium()
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    else:
        url = str(sa.make_url(url).set(database=sa.make_url(url).database + "_live"))
        _create_pg_database(url)
    app = make_app(url, LIVE_POLL_SECONDS=1)  # live pages poll each second here (4 in production)
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()
        if not url.startswith("sqlite"):
            _drop_pg_database(url)


def _admin_engine(url: str):
    return sa.create_engine(sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def _create_pg_database(url: str) -> None:
    engine = _admin_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{sa.make_url(url).database}"')
    engine.dispose()


def _drop_pg_database(url: str) -> None:
    engine = _admin_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(scope="session")
def browser(live_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _no_page_outlives_its_test(request):
    """Close every browser context a test opened, even one it left open by failing: an open live
    page polls the live server every second, and a poll answered while a later test holds the
    shared session on its own connection would run on that connection from another thread."""
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context per test; a screenshot is kept under test-artifacts/ on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.dialogs = dialogs
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def login(page, live_server, username, password=PASSWORD):
    """Sign in through the real login form."""
    page.goto(live_server("/login"))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
