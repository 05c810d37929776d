"""The XSS corpus in every place user text appears, rendered by Chromium: nothing may run.

Titles, overviews, comments, CTI names, display names, saved views' names (in the sidebar), the
audit log's before/after, filter values in the URL, a re-rendered form, a flash message and the
markdown preview all carry payloads; on each page no dialog may open, the tripwire must stay unset,
and the DOM must hold no injected script, frame, event handler, htmx handler or dangerous URL.
"""
import pytest
from playwright.sync_api import expect

from webapp.models import Role
from webapp.services import ValidationError, comments, saved_views, tickets

from ..security.xss import DOM_SCAN, TRIPWIRE, payloads
from .conftest import login

CORPUS = payloads()


@pytest.fixture(scope="module")
def planted(live_server):
    """Every payload planted through the services; returns what the pages are reached by."""
    with live_server.setup():
        make = live_server.make
        admin = make.user(f"xss-admin-{make.user().id}", role=Role.ADMIN)
        people = [make.user(f"xss-person-{n}-{admin.id}", display_name=p[:120]) for n, p in enumerate(CORPUS[:30])]
        ctis = [make.cti(p[:80], CORPUS[-n - 1][:80], CORPUS[n + 40][:80]) for n, p in enumerate(CORPUS[:12])]
        for n, payload in enumerate(CORPUS):
            make.ticket(actor=people[n % len(people)], cti=ctis[n % len(ctis)], title=payload[:200],
                        assignee=people[(n + 1) % len(people)], severity=1)
        big = make.ticket(actor=admin, cti=ctis[0], title=CORPUS[0], overview="\n\n".join(CORPUS), severity=1)
        posted = [comments.add_comment(people[n % len(people)], big, payload) for n, payload in enumerate(CORPUS)]
        for comment in posted[:20]:
            comments.delete_comment(admin, comment)  # the audit log keeps the deleted bodies
        for payload in CORPUS[100:110]:
            tickets.edit_title(admin, big, payload[:200])  # before -> after pairs in the audit log
        for payload in CORPUS:  # the admin's saved views in the sidebar, and their events in the log
            if len([v for v in saved_views.views_for(admin) if not v.shared]) >= 40:
                break
            try:
                view = saved_views.create_view(admin, name=payload, filters={"severity": "1"})
            except ValidationError:  # too long, or a control character: refused, nothing to show
                continue
            saved_views.update_view(admin, view, filters={"severity": "1", "status": "all"})
        return {"admin": admin.username, "ticket": big.display_id, "victim": people[0].id,
                "category": ctis[0][0].id}


def check(page, where: str) -> None:
    page.wait_for_load_state("networkidle")
    assert page.dialogs == [], f"{where}: a dialog opened: {page.dialogs}"
    assert page.evaluate("() => window.__xss") == 0, f"{where}: a payload ran"
    assert page.evaluate(DOM_SCAN) == [], f"{where}: injected markup"


def visit(page, live_server, path: str) -> None:
    page.goto(live_server(path))
    check(page, path)


def test_no_payload_runs_or_lands_in_the_dom_anywhere(page, live_server, planted):
    page.add_init_script(TRIPWIRE)
    login(page, live_server, planted["admin"])
    check(page, "dashboard after sign-in")
    expect(page.locator("#views-nav .views-list").first).to_be_visible()  # the sidebar, loaded after the page
    check(page, "dashboard with its sidebar")
    assert page.locator("#views-nav .view-name").count() >= 2 + 40  # with the payload names
    visit(page, live_server, "/?status=all")
    for n in range(4):  # the planted tickets span several queue pages
        more = page.locator("a[rel=next]")
        if not more.count():
            break
        page.goto(live_server(more.first.get_attribute("href")))
        check(page, f"dashboard page {n + 2}")
    assert n >= 2, "the payload titles should fill several pages"
    ticket = f"/tickets/{planted['ticket']}"
    for path in (ticket, f"{ticket}/comments", f"{ticket}/audit", "/admin/users", "/admin/cti", "/admin/log",
                 f"/admin/users/{planted['victim']}", "/my-tickets"):
        visit(page, live_server, path)
    page.goto(live_server(ticket))
    for tab in ("Comments", "Overview", "Audit Log"):  # the same content swapped in by htmx
        page.get_by_role("link", name=tab).first.click()
        check(page, f"{ticket} {tab} tab via htmx")
    page.locator("details.event-details").first.evaluate("d => d.open = true")  # comment bodies
    check(page, f"{ticket} audit details opened")


def test_payloads_echoed_from_urls_forms_flashes_and_previews_run_nothing(page, live_server, planted):
    page.add_init_script(TRIPWIRE)
    login(page, live_server, planted["admin"])
    for payload in CORPUS[:15]:  # filter values and cursors echo into links and the pager
        page.goto(live_server("/"), wait_until="commit")
        page.goto(live_server(f"/?status={_q(payload)}&queue={_q(payload)}&assignee={_q(payload)}"
                              f"&severity={_q(payload)}&after={_q(payload)}"))
        check(page, f"filters {payload!r}")
    page.goto(live_server("/tickets/new"))
    page.fill("#title", CORPUS[1][:200])
    page.fill("#overview", "\n\n".join(CORPUS[:60]))
    page.get_by_role("tab", name="Preview").first.click()  # a server render over htmx
    check(page, "overview preview")
    page.locator("form button[type=submit]").last.click()  # no CTI chosen: re-rendered with errors
    check(page, "new ticket form re-rendered with errors")
    page.goto(live_server(f"/admin/users/{planted['victim']}"))
    page.fill("#display_name", CORPUS[5][:120])
    page.locator("form button[type=submit]").first.click()  # "Saved <display name>." as a flash
    check(page, "flash with a display name")


def test_the_detector_sees_an_unsafe_page(page):
    """The checks above can fail: a page that really is injected trips every one of them."""
    page.goto("about:blank")  # no CSP here, unlike our pages: the handler really runs
    page.evaluate(TRIPWIRE)
    page.set_content('<p>x</p><img src=x onerror="alert(1)"><a href="jav&#x09;ascript:1">a</a>'
                     '<iframe src="about:blank"></iframe><div hx-on:click="x">d</div>')
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.__xss") == 1  # the handler ran: no CSP on set_content pages
    found = page.evaluate(DOM_SCAN)
    assert {"<img onerror>", "<iframe>", "<div hx-on:click>"} <= set(found)
    assert any(problem.startswith("<a href=") for problem in found)


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
