"""The saved-views sidebar: loaded beside the queue, counts, the active view, save / rename / re-filter /
share / delete in place (htmx) or by redirect, refusals beside the field, and no N+1."""
import re
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from webapp.db.utc import utcnow
from webapp.extensions import db
from webapp.models import Role, SavedView, Ticket
from webapp.services import recent
from webapp.services import saved_views as service
from webapp.services.listing import COUNT_CAP

from ..security.xss import injections, payloads
from .conftest import PARTIAL, is_full_page
from .test_queries import recorded_queries


def sidebar(client, query: str = "") -> str:
    response = client.get(f"/views{query}", headers=PARTIAL)
    assert response.status_code == 200
    assert not is_full_page(response)
    return response.get_data(as_text=True)


def links(html: str) -> list[tuple[str, str, bool]]:
    """(name, count, active) of each view the sidebar lists, in order."""
    found = re.findall(r'<a class="view-link" href="[^"]*"( aria-current="page")?>\s*'
                       r'<span class="view-name">(.*?)</span>\s*<span class="count view-count">.*?</span>(.*?)<span', html, re.S)
    return [(name, count, bool(current)) for current, name, count in found]


def submit(client, path: str, data: dict, *, htmx=True):
    return client.post(path, data=data, headers=PARTIAL if htmx else {})


def view_named(name: str) -> SavedView:
    return db.session.scalar(sa.select(SavedView).filter_by(name=name))


# The queue page and its sidebar


def test_the_queue_page_loads_the_sidebar_for_its_own_filters(client, agent):
    html = client.get("/?severity=2&assignee=me").get_data(as_text=True)
    assert re.search(r'<aside id="views-nav"[^>]*hx-preserve>', html)
    assert re.search(r'<div id="views-refresh" hidden hx-get="/views\?severity=2&amp;assignee=me" hx-trigger="load" '
                     r'hx-target="#views-nav" hx-swap="outerHTML">', html)
    assert 'href="/views?severity=2&amp;assignee=me"' in html  # without JavaScript: a link to the same list


def test_new_results_ask_the_sidebar_to_reload_for_the_new_filters_but_a_next_page_does_not(client, agent, make):
    make.ticket(severity=1)
    fragment = client.get("/?severity=1", headers=PARTIAL).get_data(as_text=True)
    assert re.search(r'<div id="views-refresh" hidden hx-swap-oob="true" hx-get="/views\?severity=1"', fragment)
    paged = client.get("/?severity=1&after=1.0.1", headers=PARTIAL).get_data(as_text=True)
    assert "views-refresh" not in paged


def test_builtin_views_are_listed_first_with_counts_and_the_active_one_marked(client, agent, make):
    make.ticket(assignee=agent)
    make.ticket()
    make.ticket(severity=1)
    assert links(sidebar(client)) == [("Open queue", "3", True), ("My tickets", "1", False)]
    assert links(sidebar(client, "?assignee=me")) == [("Open queue", "3", False), ("My tickets", "1", True)]


def test_my_tickets_page_marks_the_my_tickets_view(client, agent):
    html = client.get("/my-tickets").get_data(as_text=True)
    assert 'hx-get="/views?assignee=me"' in html


def test_a_view_opens_the_dashboard_with_its_filters(client, agent):
    service.create_view(agent, name="Closed SEV 1", filters={"status": "CLOSED", "severity": "1"})
    assert 'href="/?status=CLOSED&amp;severity=1"' in sidebar(client)


def test_shared_views_come_before_ones_own_and_others_personal_views_are_not_shown(client, agent, make):
    other = make.user("other")
    service.create_view(other, name="Theirs, shared", filters={"severity": "2"}, shared=True)
    service.create_view(other, name="Theirs alone", filters={"severity": "3"})
    service.create_view(agent, name="Mine", filters={"severity": "4"})
    html = sidebar(client)
    assert [name for name, _, _ in links(html)] == ["Open queue", "My tickets", "Theirs, shared", "Mine"]
    assert html.index("Theirs, shared") < html.index('aria-label="Your views"') < html.index("Mine")


def test_without_javascript_the_sidebar_is_a_page_of_its_own(client, agent):
    response = client.get("/views?severity=1")
    html = response.get_data(as_text=True)
    assert is_full_page(response) and "<h1>Saved views</h1>" in html
    assert 'href="/?severity=1">Back to the queue' in html and '<aside id="views-nav"' in html


def test_no_views_of_ones_own_says_how_to_make_one(client, agent):
    assert "None yet. Set the filters you use often, then save them as a view." in sidebar(client)


def test_counts_above_the_cap_read_1000_plus(client, agent, make):
    category, cti_type, item = make.cti("Bulk", "Load")
    now = utcnow()
    db.session.execute(sa.insert(Ticket), [{
        "display_id": f"V6{n:08d}", "title": f"Bulk {n}", "overview": "", "severity": 3, "status": "OPEN",
        "category_id": category.id, "type_id": cti_type.id, "item_id": item.id, "creator_id": agent.id,
        "assignee_id": agent.id if n < COUNT_CAP else None, "created_at": now - timedelta(seconds=n),
        "updated_at": now} for n in range(COUNT_CAP + 1)])
    assert links(sidebar(client))[:2] == [("Open queue", "1,000+", True), ("My tickets", "1,000", False)]


def test_the_menu_is_offered_only_for_views_one_may_change(client, agent, make):
    other = make.user("other")
    theirs = service.create_view(other, name="Theirs", filters={}, shared=True)
    mine = service.create_view(agent, name="Mine", filters={"severity": "1"}, shared=True)
    html = sidebar(client)
    assert f'action="/views/{mine.id}"' in html and f'action="/views/{theirs.id}"' not in html
    builtin = view_named("Open queue")
    assert f'action="/views/{builtin.id}"' not in html  # an agent; an admin would get it


def test_an_admin_gets_the_menu_of_shared_views_but_no_unshare_for_builtin_ones(client, make, auth):
    make.user("root", role=Role.ADMIN)
    auth.login("root")
    builtin = view_named("Open queue")
    html = sidebar(client)
    start = html.index(f'action="/views/{builtin.id}"')
    menu = html[start:html.index("</details>", start)]
    assert "Rename" in menu and "Make personal" not in menu


# Saving, changing, deleting


def test_saving_the_current_filters_adds_the_view_in_place_marked_active(client, agent):
    response = submit(client, "/views", {"name": "SEV 2 mine", "filters": "severity=2&assignee=me"})
    assert response.status_code == 200 and not is_full_page(response)
    html = response.get_data(as_text=True)
    assert ("SEV 2 mine", "0", True) in links(html)
    assert "Saved the view “SEV 2 mine”." in html
    view = view_named("SEV 2 mine")
    assert (view.owner_id, view.shared, view.filters) == (agent.id, False, {"severity": "2", "assignee": "me"})


def test_without_htmx_saving_redirects_to_the_queue_of_those_filters(client, agent):
    response = submit(client, "/views", {"name": "Shared SEV 1", "filters": "severity=1", "shared": "on"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"] == "/?severity=1"
    assert view_named("Shared SEV 1").shared


@pytest.mark.parametrize("name,message", [("", "1–80 characters"), ("x" * 81, "1–80 characters"),
                                          ("line\nbreak", "no control characters"), ("Open queue", "already exists")])
def test_a_refused_name_is_told_beside_the_field_with_the_text_kept(client, agent, name, message):
    shared = name == "Open queue"
    response = submit(client, "/views", {"name": name, "filters": "severity=1", **({"shared": "on"} if shared else {})})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(r'<input id="view-new-name"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="view-new-name-error"' in field
    assert f'value="{escape(name)}"' in field
    assert re.search(rf'id="view-new-name-error" role="alert">[^<]*{message}', html)
    assert '<details class="view-save" open>' in html
    if name == "Open queue":
        assert 'name="shared" checked' in html


def test_without_htmx_a_refusal_is_a_page_of_its_own(client, agent):
    response = submit(client, "/views", {"name": "", "filters": "severity=1"}, htmx=False)
    assert response.status_code == 422 and is_full_page(response)
    assert "Saved views" in response.get_data(as_text=True)


def test_rename_update_share_and_delete_from_the_views_menu(client, agent, make):
    make.ticket(severity=1)
    view = service.create_view(agent, name="Draft", filters={"severity": "2"})
    html = submit(client, f"/views/{view.id}", {"name": "Final", "filters": ""}).get_data(as_text=True)
    assert ("Final", "0", False) in links(html)
    html = submit(client, f"/views/{view.id}", {"apply_filters": "1", "filters": "severity=1"}).get_data(as_text=True)
    assert ("Final", "1", True) in links(html) and view.filters == {"severity": "1"}
    assert "Update with current filters" not in html[html.index("Final"):html.index("</details>", html.index("Final"))]
    submit(client, f"/views/{view.id}", {"shared": "1", "filters": ""})
    assert view.shared
    html = submit(client, f"/views/{view.id}/delete", {"filters": ""}).get_data(as_text=True)
    assert "Deleted the view “Final”." in html and view_named("Final") is None


def test_a_refused_rename_opens_that_views_menu_with_the_message(client, agent):
    service.create_view(agent, name="Taken", filters={})
    view = service.create_view(agent, name="Other", filters={"severity": "1"})
    response = submit(client, f"/views/{view.id}", {"name": "taken", "filters": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<details class="view-menu" open>' in html
    assert f'id="view-{view.id}-name-error" role="alert">You already have a view named “taken”.' in html
    assert f'value="taken"' in html


def test_others_cannot_change_a_shared_view_nor_see_a_personal_one(client, agent, make):
    other = make.user("other")
    shared = service.create_view(other, name="Team", filters={}, shared=True)
    personal = service.create_view(other, name="Private", filters={})
    assert submit(client, f"/views/{shared.id}", {"name": "Mine now"}).status_code == 403
    assert submit(client, f"/views/{shared.id}/delete", {}).status_code == 403
    assert submit(client, f"/views/{personal.id}/delete", {}).status_code == 404
    assert (shared.name, view_named("Private")) == ("Team", personal)


# Cost


def test_the_sidebar_costs_one_bounded_statement_per_view(client, agent, make):
    def statements_for_sidebar():
        recent.forget_all(client.application)
        with recorded_queries() as statements:
            sidebar(client)
        return [statement for statement, _ in statements if "SAVEPOINT" not in statement]

    make.ticket()
    few = statements_for_sidebar()
    for n in range(5):
        service.create_view(agent, name=f"View {n}", filters={"severity": str(n + 1)})
    many = statements_for_sidebar()
    added = [statement for statement in many if statement not in few or many.count(statement) > few.count(statement)]
    assert len(many) == len(few) + 5
    assert all(f"LIMIT {COUNT_CAP + 1}" in statement for statement in added)


# Escaping


def saveable(payload: str) -> bool:
    try:
        return service.clean_name(payload) == payload
    except service.ValidationError:
        return False


# The corpus's payloads a view may be named (1-80 characters, no control characters), one per case-folded name.
SAVEABLE = list({p.casefold(): p for p in reversed(payloads()) if saveable(p)}.values())[::-1]


def test_every_saveable_payload_as_a_view_name_renders_inert(client, agent, make, monkeypatch):
    monkeypatch.setattr(service, "VIEWS_MAX", len(SAVEABLE))
    other = make.user("other")
    assert len(SAVEABLE) > 60
    views = [service.create_view(other if n % 2 else agent, name=payload, filters={"severity": str(n % 5 + 1)},
                                 shared=bool(n % 2)) for n, payload in enumerate(SAVEABLE)]
    html = sidebar(client)
    assert len(links(html)) == len(SAVEABLE) + 2
    for n, view in enumerate(views):
        view.name = f"Plain {n}"
    db.session.commit()
    assert Counter(injections(html)) == Counter(injections(sidebar(client)))  # only the sidebar's own forms


def test_the_comparison_above_would_see_a_name_left_unescaped(client, agent):
    service.create_view(agent, name="Plain", filters={})
    html = sidebar(client)
    assert Counter(injections(html.replace("Plain", "<img src=x onerror=alert(1)>"))) != Counter(injections(html))


def test_every_payload_in_the_sidebar_macro_renders_inert(app):
    """Names the service would refuse too (long, with control characters), straight into the template."""
    from flask import render_template_string

    from webapp.web.saved_views import ViewForm, ViewLink, ViewsNav

    def render(text: str) -> str:
        view = SavedView(id=7, owner_id=1, name=text, shared=False, filters={})
        nav = ViewsNav(shared=[], personal=[ViewLink(view, "/?severity=1", "3", True, True)], args={},
                       filters_text=text, form=ViewForm(7, {"name": text}, {"name": text}))
        return render_template_string('{% from "web/_views.html" import views_nav %}{{ views_nav(nav) }}', nav=nav)

    with app.test_request_context():
        plain = Counter(injections(render("plain")))
        for payload in payloads():
            assert Counter(injections(render(payload))) == plain, payload


def test_the_admin_log_tells_view_changes_in_words(client, make, auth):
    boss = make.user("boss", role=Role.ADMIN, display_name="The Boss")
    view = service.create_view(boss, name="Night shift", filters={"severity": "1"})
    service.update_view(boss, view, name="Night shift", filters={"severity": "1,2"})
    service.delete_view(boss, view)
    auth.login("boss")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/admin/log").get_data(as_text=True)))
    assert "The Boss saved view “Night shift”" in text
    assert "The Boss changed view “Night shift” " in text and "Filters severity=1 → severity=1,2" in text
    assert "The Boss deleted view “Night shift”" in text
