"""Bulk changes from the queue: a box per row, the action bar's form, answers in place for a few rows,
a job (and its page, polled until done) for many or for everything a filter matches."""
import re

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, BulkJob, BulkStatus, Status
from webapp.services import bulk, bulk_jobs
from webapp.services.tickets import change_status
from webapp.web import bulk as bulk_view

from .conftest import PARTIAL, is_full_page


def ticked(*tickets) -> list[str]:
    """The values the rows' boxes send: display id and the version the row showed."""
    return [f"{t.display_id}:{t.version}" for t in tickets]


def change(client, headers=PARTIAL, **form):
    form.setdefault("view", "dashboard")
    return client.post("/tickets/bulk", data=form, headers=headers)


def status_events(ticket):
    return list(db.session.scalars(sa.select(AuditEvent).filter_by(ticket_id=ticket.id, action="status")))


def job_id(location: str) -> int:
    return int(re.fullmatch(r"/bulk/(\d+)", location)[1])


def test_each_row_has_a_box_and_the_bar_carries_the_queue_it_came_from(client, agent, make):
    cat = make.cti("Infra", "Servers", "web01")
    ticket = make.ticket(actor=agent, cti=cat)
    html = client.get(f"/?queue={cat[0].id}&severity=3").get_data(as_text=True)
    assert (f'<input type="checkbox" class="pick" name="ticket" form="bulk-form" value="{ticket.display_id}:1" '
            f'aria-label="Select {ticket.display_id}">') in html
    results, form = html[html.index('<section id="results"'):].split('<form id="bulk-form"')
    assert '<input type="hidden" name="view" value="dashboard" form="bulk-form">' in results
    assert f'name="filter.queue" value="{cat[0].id}" form="bulk-form"' in results
    assert 'name="filter.severity" value="3" form="bulk-form"' in results
    assert 'name="csrf_token"' in form and 'id="bulk-status" name="status"' in form and 'id="bulk-category"' in form
    assert "<script" not in html.split("</head>")[1]  # behaviour lives in static/js/bulk.js (CSP)


def test_a_few_ticked_rows_change_at_once_and_the_queue_comes_back_with_the_answer(client, agent, make):
    cat = make.cti("Infra", "Servers", "web02")
    first, second, final = (make.ticket(actor=agent, cti=cat) for _ in range(3))
    for status in ("RESOLVED", "CLOSED"):
        change_status(agent, final, status)
    response = change(client, ticket=ticked(first, second, final), status="RESOLVED", **{"filter.queue": cat[0].id,
                                                                                        "filter.status": "all"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and not is_full_page(response)
    assert html.lstrip().startswith('<section id="results"')
    assert "2 tickets changed</strong>; 1 not changed:" in html
    assert f'{final.display_id}</a>: Closed tickets are final; file a new ticket instead.</li>' in html
    assert html.count("status-resolved") == 2 and "status-closed" in html  # the same queue, fresh
    assert '<form id="bulk-form"' in html and 'name="status" >' in html  # the bar comes back emptied
    assert [t.status for t in (first, second)] == [Status.RESOLVED] * 2
    assert len(status_events(first)) == 1 and len(status_events(final)) == 2
    assert db.session.scalar(sa.select(BulkJob.status)) == BulkStatus.DONE  # kept, with who asked what


def test_a_row_changed_since_the_page_was_shown_is_refused_as_a_conflict(client, agent, make):
    ticket = make.ticket(actor=agent)
    shown = ticked(ticket)
    change_status(agent, ticket, "IN_PROGRESS")
    html = change(client, ticket=shown, severity="1").get_data(as_text=True)
    assert "0 tickets changed</strong>; 1 not changed:" in html and "changed by someone else" in html
    assert ticket.severity == 3


def test_without_htmx_the_answer_is_the_bulk_changes_page(client, agent, make):
    ticket = make.ticket(actor=agent)
    response = change(client, headers={}, ticket=ticked(ticket), assignee_id=str(agent.id), comment="Mine now.")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 of 1\n    ticket tried." in page and f"Assignee: {agent.display_name} · Comment added" in page
    assert ticket.assignee_id == agent.id


def test_many_ticked_rows_become_a_job(client, agent, make, monkeypatch):
    tickets = [make.ticket(actor=agent) for _ in range(3)]
    monkeypatch.setattr(bulk, "INLINE_MAX", 2)
    response = change(client, ticket=ticked(*tickets), severity="2")
    assert response.status_code == 204
    job = db.session.get(BulkJob, job_id(response.headers["HX-Redirect"]))
    assert job.status == BulkStatus.DONE and job.targets is not None  # run by the (inline) job runner
    assert all(t.severity == 2 for t in tickets)


def test_all_matching_changes_every_ticket_of_the_filter_and_no_other(client, agent, make):
    cat = make.cti("Office", "Printers", "3rd floor")
    inside = [make.ticket(actor=agent, cti=cat) for _ in range(3)]
    outside = make.ticket(actor=agent)
    response = change(client, headers={}, scope="filter", status="IN_PROGRESS", ticket=ticked(inside[0]),
                      **{"filter.queue": str(cat[0].id)})
    job = db.session.get(BulkJob, job_id(response.headers["Location"]))
    assert (job.filter_args, job.filter_source, job.total) == ({"queue": [str(cat[0].id)]}, "web", 3)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<a class="btn" href="/?queue={cat[0].id}">Back to the queue</a>' in page
    assert [t.status for t in inside] == [Status.IN_PROGRESS] * 3 and outside.status == Status.OPEN


def test_all_matching_in_my_tickets_means_mine(client, agent, make):
    mine, theirs = make.ticket(assignee=agent), make.ticket(assignee=make.user("bob"))
    response = change(client, headers={}, scope="filter", view="my_tickets", severity="1")
    job = db.session.get(BulkJob, job_id(response.headers["Location"]))
    assert job.filter_args == {"assignee": ["me"]}
    assert (mine.severity, theirs.severity) == (1, 3)


def test_refusals_of_the_form_keep_what_was_chosen(client, agent, make):
    ticket = make.ticket(actor=agent)
    nothing = change(client, status="RESOLVED")
    assert nothing.status_code == 422
    assert "Tick at least one ticket" in nothing.get_data(as_text=True)
    half_route = change(client, ticket=ticked(ticket), category_id=str(ticket.category_id), comment="Moving.")
    html = half_route.get_data(as_text=True)
    assert half_route.status_code == 422 and html.lstrip().startswith('<section id="results"')
    bar = html.split('<form id="bulk-form"')[1]
    assert 'hx-swap-oob="true"' in bar and 'id="item-error"' in bar and ">Moving.</textarea>" in bar
    assert f'value="{ticket.display_id}:1" aria-label="Select {ticket.display_id}" checked>' in html
    no_change = change(client, ticket=ticked(ticket))
    assert no_change.status_code == 422 and "Give at least one change" in no_change.get_data(as_text=True)
    assert ticket.status == Status.OPEN and db.session.scalars(sa.select(BulkJob)).all() == []


def test_the_count_of_all_matching_is_capped(client, agent, make, monkeypatch):
    cat = make.cti("Infra", "Servers", "web04")
    for _ in range(3):
        make.ticket(actor=agent, cti=cat)
    html = client.get(f"/tickets/bulk/count?queue={cat[0].id}", headers=PARTIAL).get_data(as_text=True)
    assert 'All <strong data-bulk-total="3">3</strong> tickets matching this filter are selected.' in html
    assert '<input type="hidden" name="scope" value="filter" form="bulk-form">' in html
    monkeypatch.setattr(bulk_view, "SHOWN_MAX", 2)
    capped = client.get(f"/tickets/bulk/count?queue={cat[0].id}", headers=PARTIAL).get_data(as_text=True)
    assert "2+ tickets match this filter: narrow it" in capped and 'name="scope"' not in capped


def test_the_select_all_matching_button_appears_only_when_there_is_more_than_a_page(client, agent, make):
    make.ticket(actor=agent)
    assert "data-bulk-all" not in client.get("/").get_data(as_text=True)


def test_a_filter_or_page_swapped_in_leaves_the_action_bar_alone(client, agent, make):
    """The bar's menus are drawn with the page; a results fragment carries only what depends on it."""
    make.ticket(actor=agent, severity=2)
    fragment = client.get("/?severity=2", headers=PARTIAL).get_data(as_text=True)
    assert '<form id="bulk-form"' not in fragment
    assert 'name="filter.severity" value="2" form="bulk-form"' in fragment


@pytest.fixture
def waiting_job(agent, make):
    changes = bulk.clean_changes({"status": "IN_PROGRESS"})
    return bulk_jobs.start_job(agent, changes, targets=[bulk.Target(make.ticket().display_id)], enqueue=False)


def test_a_jobs_page_polls_its_progress_until_it_is_done(client, waiting_job):
    url = f"/bulk/{waiting_job.id}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert is_full_page(page) and "Waiting to start" in html and "Status: In Progress" in html
    assert f'hx-get="{url}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    bulk_jobs.run_job(waiting_job.id)
    poll = client.get(url, headers=PARTIAL).get_data(as_text=True)
    assert poll.lstrip().startswith('<section id="bulk-progress"') and "<html" not in poll
    assert "hx-trigger" not in poll and "1 of 1" in poll and "Changed (1)" in poll


def test_a_jobs_page_is_its_owners_and_the_admins(client, auth, make, waiting_job, admin):
    auth.logout()
    make.user("colleague")
    auth.login("colleague")
    assert client.get(f"/bulk/{waiting_job.id}").status_code == 404
    auth.logout()
    auth.login("root")
    assert client.get(f"/bulk/{waiting_job.id}").status_code == 200


def test_my_tickets_fetches_the_people_to_assign_to_when_the_bar_shows(client, agent, make):
    """The queue lists people for its Assignee filter already; My tickets does not, so its bar asks."""
    bob = make.user("bob", display_name="Bob Builder")
    make.ticket(assignee=agent)
    dashboard, mine = (client.get(path).get_data(as_text=True) for path in ("/", "/my-tickets"))
    assert f'<option value="{bob.id}" >Bob Builder</option>' in dashboard.split('id="bulk-assignee"')[1]
    bar = mine.split('id="bulk-assignee"')[1].split("</select>")[0]
    assert 'hx-get="/tickets/bulk/assignees" hx-trigger="intersect once" hx-swap="beforeend"' in bar
    assert "Bob Builder" not in bar
    options = client.get("/tickets/bulk/assignees", headers=PARTIAL).get_data(as_text=True)
    assert f'<option value="{bob.id}" >Bob Builder</option>' in options and "<html" not in options


def test_a_jobs_page_escapes_the_names_it_shows(client, agent, make):
    """Display names and route names are anyone's text: the changes described and the refusals listed."""
    from ..security.xss import injections, payloads

    payload = next(p for p in payloads() if "onerror" in p)
    hostile = make.user("hostile", display_name=payload[:120])
    route = make.cti(payload[:80], payload[:80], payload[:80])
    ticket = make.ticket(actor=agent)
    changes = bulk.clean_changes({"assignee_id": hostile.id, "category_id": route[0].id, "type_id": route[1].id,
                                  "item_id": route[2].id})
    job, _ = bulk_jobs.change_now(agent, changes, [bulk.Target(ticket.display_id), bulk.Target(payload[:60])])
    html = client.get(f"/bulk/{job.id}").get_data(as_text=True).split("<main")[1].split("</main>")[0]
    assert "Assignee: " in html and "Route: " in html and "No ticket" in html
    assert injections(html) == []
