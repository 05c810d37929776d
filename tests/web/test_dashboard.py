"""The dashboard and My tickets: order, columns, URL filters, htmx fragments, pages, empty states."""
import re
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.services import listing
from webapp.services.tickets import assign, change_status
from webapp.db.utc import utcnow

from .conftest import BOOSTED, PARTIAL, RESTORE, is_full_page, varies_on_htmx


def listed(response) -> list[str]:
    """Display IDs in the order the queue shows them."""
    return re.findall(r'<td class="col-id"><a class="mono" href="/tickets/(V\d{9})"', response.get_data(as_text=True))


def aged(ticket, hours):
    ticket.created_at = utcnow() - timedelta(hours=hours)
    db.session.commit()
    return ticket


def test_dashboard_sorts_sev1_first_then_oldest_first(client, agent, make):
    newer_sev3 = aged(make.ticket(severity=3), 1)
    older_sev3 = aged(make.ticket(severity=3), 5)
    newer_sev1 = aged(make.ticket(severity=1), 2)
    older_sev1 = aged(make.ticket(severity=1), 9)
    sev5 = aged(make.ticket(severity=5), 50)
    response = client.get("/")
    assert response.status_code == 200
    assert listed(response) == [t.display_id for t in (older_sev1, newer_sev1, older_sev3, newer_sev3, sev5)]


def test_dashboard_row_shows_every_column(client, agent, make):
    bob = make.user("bob", display_name="Bob Builder")
    ticket = make.ticket(title="Disk <full>", severity=2, assignee=bob, cti=make.cti("Infra", "Servers", "web01"))
    html = client.get("/").get_data(as_text=True)
    assert f'<a class="mono" href="/tickets/{ticket.display_id}">{ticket.display_id}</a>' in html
    assert "Disk &lt;full&gt;" in html and "Disk <full>" not in html
    assert '<span class="sev sev-2"' in html
    assert '<span class="status status-open">Open</span>' in html
    assert "Infra › Servers › web01" in html
    assert f'class="avatar avatar-sm {bob.avatar_class}" title="Bob Builder"' in html and ">BB</span>" in html
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d UTC">just now</time>', html)


def test_default_view_hides_resolved_and_closed_tickets(client, agent, make):
    active = make.ticket()
    resolved = make.ticket()
    change_status(agent, resolved, "RESOLVED")
    assert listed(client.get("/")) == [active.display_id]
    assert set(listed(client.get("/?status=all"))) == {active.display_id, resolved.display_id}
    assert listed(client.get("/?status=RESOLVED")) == [resolved.display_id]
    assert listed(client.get("/?status=OPEN")) == [active.display_id]


def test_filters_by_severity_queue_and_assignee(client, agent, make):
    bob = make.user("bob")
    infra, office = make.cti("Infra", "Servers"), make.cti("Office", "Printers")
    mine = make.ticket(severity=1, cti=infra, assignee=agent)
    bobs = make.ticket(severity=2, cti=office, assignee=bob)
    nobodys = make.ticket(severity=2, cti=infra)
    assert listed(client.get("/?severity=2")) == [bobs.display_id, nobodys.display_id]
    assert listed(client.get(f"/?queue={infra[0].id}")) == [mine.display_id, nobodys.display_id]
    assert listed(client.get("/?assignee=me")) == [mine.display_id]
    assert listed(client.get("/?assignee=unassigned")) == [nobodys.display_id]
    assert listed(client.get(f"/?assignee={bob.id}")) == [bobs.display_id]
    assert listed(client.get(f"/?severity=2&queue={infra[0].id}")) == [nobodys.display_id]


def test_filter_form_keeps_the_chosen_values_and_lists_queues_and_people(client, agent, make):
    bob = make.user("bob", display_name="Bob Builder")
    cat, _, _ = make.cti("Infra", "Servers")
    html = client.get(f"/?status=all&severity=2&queue={cat.id}&assignee={bob.id}").get_data(as_text=True)
    assert '<option value="all" selected>All statuses</option>' in html
    assert '<option value="2" selected>SEV 2 · High</option>' in html
    assert f'<option value="{cat.id}" selected>Infra</option>' in html
    assert f'<option value="{bob.id}" selected>Bob Builder</option>' in html
    assert 'hx-push-url="true"' in html and 'hx-target="#results"' in html


@pytest.mark.parametrize("query", [
    "severity=9", "severity=x", "status=NOPE", "assignee=%3Cscript%3E", "queue=abc",
    "after=garbage", "before=1.2", "after=1.99999999999999999999.3", "after=1.0.99999999999999999999",
    "after=99999999999999999999.0.1", "queue=99999999999999999999", "assignee=99999999999999999999",
    "after=1.0." + "9" * 5000,
])
def test_nonsense_filters_fall_back_instead_of_failing(client, agent, make, query):
    ticket = make.ticket()
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    assert listed(response) == [ticket.display_id]


def test_htmx_filter_request_gets_only_the_results_and_the_canonical_url(client, agent, make):
    make.ticket(severity=2)
    response = client.get("/?status=active&severity=2&queue=&assignee=", headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not is_full_page(response)
    assert html.lstrip().startswith('<section id="results"')
    assert "Filter tickets" not in html
    assert response.headers["HX-Push-Url"] == "/?severity=2"
    assert varies_on_htmx(response)


@pytest.mark.parametrize("headers", [{}, BOOSTED, RESTORE], ids=["plain", "boosted", "history-restore"])
def test_dashboard_full_page_for_plain_boosted_and_history_requests(client, agent, headers):
    response = client.get("/?severity=1", headers=headers)
    assert is_full_page(response)
    assert "HX-Push-Url" not in response.headers
    assert varies_on_htmx(response)


def test_pages_walk_forward_and_back_without_gaps(client, agent, make, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    tickets = [aged(make.ticket(severity=3), 10 - i) for i in range(5)]
    expected = [t.display_id for t in tickets]
    first = client.get("/")
    assert listed(first) == expected[:2]
    html = first.get_data(as_text=True)
    assert 'rel="prev"' not in html and "« First" not in html
    next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    second = client.get(next_url)
    assert listed(second) == expected[2:4]
    html = second.get_data(as_text=True)
    prev_url = re.search(r'rel="prev" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert listed(client.get(prev_url)) == expected[:2]
    last_url = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    last = client.get(last_url)
    assert listed(last) == expected[4:]
    assert 'rel="next"' not in last.get_data(as_text=True)


def test_page_links_keep_the_filters(client, agent, make, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 1)
    make.ticket(severity=2)
    make.ticket(severity=2)
    html = client.get("/?severity=2&status=all").get_data(as_text=True)
    next_url = re.search(r'rel="next" href="([^"]+)"', html).group(1)
    assert "severity=2" in next_url and "status=all" in next_url and "after=" in next_url


def test_my_tickets_shows_only_what_is_assigned_to_me(client, agent, make):
    mine = make.ticket(assignee=agent)
    make.ticket()
    response = client.get("/my-tickets")
    assert response.status_code == 200
    assert listed(response) == [mine.display_id]
    assert 'id="filter-assignee"' not in response.get_data(as_text=True)


def test_my_tickets_partial_request_pushes_its_own_url(client, agent, make):
    make.ticket(assignee=agent, severity=4)
    response = client.get("/my-tickets?severity=4&assignee=unassigned", headers=PARTIAL)
    assert response.headers["HX-Push-Url"] == "/my-tickets?severity=4"


def test_empty_states_explain_themselves(client, agent, make):
    assert "No open tickets. Enjoy the quiet." in client.get("/").get_data(as_text=True)
    assert "Nothing open is assigned to you." in client.get("/my-tickets").get_data(as_text=True)
    make.ticket(severity=3)
    html = client.get("/?severity=1").get_data(as_text=True)
    assert "No tickets match these filters." in html and "Clear filters" in html


def test_reassigned_ticket_leaves_my_tickets(client, agent, make):
    ticket = make.ticket(assignee=agent)
    assign(agent, ticket, None)
    assert listed(client.get("/my-tickets")) == []


@pytest.mark.parametrize("path", ["/", "/my-tickets"])
def test_queue_pages_need_a_signed_in_agent(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
