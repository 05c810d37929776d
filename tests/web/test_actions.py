"""Sidebar actions and inline edits: each swaps only what changed, refusals explain themselves."""
import re

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, Status
from webapp.services.tickets import change_severity, change_status

from .conftest import PARTIAL, is_full_page, varies_on_htmx


def post(client, ticket, action, headers=PARTIAL, **data):
    data.setdefault("version", ticket.version)
    return client.post(f"/tickets/{ticket.display_id}/{action}", data=data, headers=headers)


def oob_ids(html: str) -> set[str]:
    return set(re.findall(r'id="([\w-]+)"[^>]*hx-swap-oob=', html))


def events(ticket, action):
    return list(db.session.scalars(db.select(AuditEvent).filter_by(ticket_id=ticket.id, action=action)))


def test_status_change_swaps_the_sidebar_and_refreshes_what_depends_on_it(client, agent, make):
    ticket = make.ticket()
    response = post(client, ticket, "status", status="IN_PROGRESS")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not is_full_page(response)
    assert html.lstrip().startswith('<aside id="ticket-sidebar"')
    assert ticket.status == Status.IN_PROGRESS
    assert oob_ids(html) >= {"ticket-badges", "comment-count", "audit-count", "audit-log", "title-version",
                             "overview-version"}
    assert '<div id="flashes" hx-swap-oob="innerHTML">' in html and "is now In Progress." in html
    assert '<span id="audit-count" class="count" hx-swap-oob="true">2</span>' in html
    assert f'name="version" value="{ticket.version}"' in html
    assert len(events(ticket, "status")) == 1
    assert varies_on_htmx(response)


def test_resolving_shows_the_auto_close_date_and_reopening_clears_it(client, agent, make):
    ticket = make.ticket()
    html = post(client, ticket, "status", status="RESOLVED").get_data(as_text=True)
    assert "Closes automatically" in html and "auto-closes" in html
    html = post(client, ticket, "status", status="OPEN").get_data(as_text=True)
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    assert "Closes automatically" not in html and "auto-closes" not in html


def test_a_refused_transition_is_explained_beside_the_status(client, agent, make):
    ticket = make.ticket()
    change_status(agent, ticket, "RESOLVED")
    change_status(agent, ticket, "CLOSED")
    response = post(client, ticket, "status", status="OPEN")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<aside id="ticket-sidebar"')
    assert 'id="status-error"' in html and "Closed tickets are final" in html
    assert ticket.status == Status.CLOSED


def test_assign_unassign_and_assign_to_me(client, agent, make):
    bob = make.user("bob", display_name="Bob Builder")
    ticket = make.ticket()
    html = post(client, ticket, "assignee", assignee_id=bob.id).get_data(as_text=True)
    assert ticket.assignee_id == bob.id and "Assigned to Bob Builder." in html
    assert f'<option value="{bob.id}" selected>Bob Builder</option>' in html
    html = post(client, ticket, "assignee", assignee_id="").get_data(as_text=True)
    assert ticket.assignee_id is None and "Unassigned." in html
    assert f'name="assignee_id" value="{agent.id}"' in html
    post(client, ticket, "assignee", assignee_id=agent.id)
    assert ticket.assignee_id == agent.id
    assert [e.after["name"] if e.after else None for e in events(ticket, "assignee")] == ["Bob Builder", None, "Alex Agent"]


def test_assigning_an_unknown_or_deactivated_user_is_explained(client, agent, make):
    gone = make.user("gone", display_name="Gone Person", active=False)
    ticket = make.ticket()
    html = post(client, ticket, "assignee", assignee_id="424242").get_data(as_text=True)
    assert 'id="assignee-error"' in html and "Unknown user id" in html
    response = post(client, ticket, "assignee", assignee_id=gone.id)
    assert response.status_code == 422 and "deactivated" in response.get_data(as_text=True)
    assert ticket.assignee_id is None


def test_severity_change_updates_the_header_badge(client, agent, make):
    ticket = make.ticket(severity=4)
    html = post(client, ticket, "severity", severity="1").get_data(as_text=True)
    badges = html[html.index('<div id="ticket-badges"'):]
    assert ticket.severity == 1 and "sev sev-1" in badges[:badges.index("</div>")]
    assert "Severity set to SEV 1 (Critical)." in html
    assert (events(ticket, "severity")[0].before, events(ticket, "severity")[0].after) == (4, 1)


@pytest.mark.parametrize("value", ["0", "6", "high", ""])
def test_bad_severity_is_refused_in_place(client, agent, make, value):
    ticket = make.ticket(severity=3)
    response = post(client, ticket, "severity", severity=value)
    assert response.status_code == 422
    assert 'id="severity-error"' in response.get_data(as_text=True)
    assert ticket.severity == 3


def test_reroute_moves_the_ticket_and_audits_the_path(client, agent, make):
    ticket = make.ticket(cti=make.cti("Infra", "Servers", "web01"))
    cat, typ, itm = make.cti("Office", "Printers", "3rd floor")
    response = post(client, ticket, "reroute", category_id=cat.id, type_id=typ.id, item_id=itm.id)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ticket.item_id == itm.id
    assert '<p class="cti-path">Office › Printers › 3rd floor</p>' in html
    event = events(ticket, "reroute")[0]
    assert (event.before["path"], event.after["path"]) == ("Infra › Servers › web01", "Office › Printers › 3rd floor")


def test_mismatched_reroute_keeps_the_choice_and_opens_the_picker(client, agent, make):
    ticket = make.ticket(cti=make.cti("Infra", "Servers", "web01"))
    office, printers, _ = make.cti("Office", "Printers", "3rd floor")
    _, _, vpn = make.cti("Infra", "Network", "vpn")
    response = post(client, ticket, "reroute", category_id=office.id, type_id=printers.id, item_id=vpn.id)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<details class="reroute" open>' in html
    assert 'id="item-error"' in html and "is not under type" in html
    assert f'<option value="{office.id}" selected>Office</option>' in html
    assert f'<option value="{printers.id}" selected>Printers</option>' in html
    assert ticket.category.name == "Infra"


def test_title_edit_swaps_the_title_back_in(client, agent, make):
    ticket = make.ticket(title="Old title")
    response = post(client, ticket, "title", title="  New   title ")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="ticket-title"')
    assert '<h1 id="ticket-title-text">New title</h1>' in html
    assert "ticket-sidebar" in oob_ids(html)
    assert ticket.title == "New title"
    assert (events(ticket, "title")[0].before, events(ticket, "title")[0].after) == ("Old title", "New title")


def test_blank_title_is_refused_and_the_editor_stays_open(client, agent, make):
    ticket = make.ticket(title="Old title")
    response = post(client, ticket, "title", title="   ")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="title-input" name="title" class="title-input" value="   "' in html
    assert 'id="title-error"' in html
    assert ticket.title == "Old title"


def test_overview_edit_renders_the_new_markdown(client, agent, make):
    ticket = make.ticket(overview="old")
    html = post(client, ticket, "overview", overview="- [x] done\n- [ ] todo").get_data(as_text=True)
    assert html.lstrip().startswith('<section id="overview"')
    assert 'type="checkbox"' in html and "<form" not in html.split('hx-swap-oob')[0]
    assert ticket.overview == "- [x] done\n- [ ] todo"


def test_too_long_overview_is_refused_with_the_text_kept(client, agent, make):
    ticket = make.ticket(overview="old")
    text = "x" * 50_001
    html = post(client, ticket, "overview", overview=text).get_data(as_text=True)
    assert 'id="overview-error"' in html and text in html
    assert ticket.overview == "old"


def test_stale_sidebar_action_is_refused_with_a_fresh_view(client, agent, make):
    ticket = make.ticket(severity=3)
    seen = ticket.version
    change_severity(make.user("bob"), ticket, 2)
    response = post(client, ticket, "status", status="RESOLVED", version=seen)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert html.lstrip().startswith('<aside id="ticket-sidebar"')
    assert "was changed by someone else" in html and "Your change was not applied" in html
    assert '<option value="2" selected>SEV 2 · High</option>' in html
    assert f'name="version" value="{ticket.version}"' in html
    assert ticket.status == Status.OPEN and not events(ticket, "status")


def test_stale_title_edit_keeps_the_typed_text_and_offers_the_fresh_version(client, agent, make):
    ticket = make.ticket(title="Original")
    seen = ticket.version
    change_severity(make.user("bob"), ticket, 1)
    response = post(client, ticket, "title", title="My better title", version=seen)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'value="My better title"' in html and "Your text is kept" in html
    assert f'id="title-version" value="{ticket.version}"' in html
    assert ticket.title == "Original"


def test_without_htmx_success_redirects_with_a_flash(client, agent, make):
    ticket = make.ticket()
    response = post(client, ticket, "status", headers={}, status="IN_PROGRESS")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/tickets/{ticket.display_id}"
    assert "is now In Progress." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_without_htmx_a_refusal_rerenders_the_page_with_the_error(client, agent, make):
    ticket = make.ticket(severity=3)
    response = post(client, ticket, "severity", headers={}, severity="nine")
    assert response.status_code == 422
    assert is_full_page(response)
    assert 'id="severity-error"' in response.get_data(as_text=True)


def test_without_htmx_a_stale_action_explains_itself_in_a_flash(client, agent, make):
    ticket = make.ticket()
    seen = ticket.version
    change_severity(agent, ticket, 1)
    response = post(client, ticket, "status", headers={}, status="RESOLVED", version=seen)
    assert response.status_code == 409
    assert is_full_page(response)
    assert 'class="flash flash-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("action,field,value", [
    ("status", "status", "RESOLVED"), ("assignee", "assignee_id", ""), ("severity", "severity", "1"),
    ("title", "title", "x"), ("overview", "overview", "x"), ("reroute", "category_id", "1"),
])
def test_actions_refuse_requests_without_a_csrf_token(client, agent, make, action, field, value):
    ticket = make.ticket(severity=3)
    before = ticket.version
    response = client.post(f"/tickets/{ticket.display_id}/{action}", data={field: value}, headers=PARTIAL, csrf=False)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert ticket.version == before


@pytest.mark.parametrize("action", ["status", "assignee", "severity", "reroute", "title", "overview"])
def test_actions_on_an_unknown_ticket_say_not_found_in_place(client, agent, action):
    response = client.post(f"/tickets/V000000002/{action}", data={}, headers=PARTIAL)
    assert response.status_code == 404
    assert not is_full_page(response)
    assert "No ticket V000000002." in response.get_data(as_text=True)


def test_actions_need_a_signed_in_agent(client, make):
    ticket = make.ticket()
    response = client.post(f"/tickets/{ticket.display_id}/status", data={"status": "RESOLVED"}, headers=PARTIAL)
    assert response.status_code == 401
    assert "/login" in response.headers["HX-Redirect"]
