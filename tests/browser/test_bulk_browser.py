"""Bulk changes in Chromium: tick a range with Shift (mouse and keyboard), change them from the
sticky action bar, and change every ticket a filter matches as a job whose page survives a reload."""
import secrets

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.extensions import db
from webapp.models import Ticket, User
from webapp.models.ticket import ACTIVE_SQL
from webapp.services import bulk, bulk_jobs
from webapp.services.tickets import change_status

from .conftest import ARTIFACTS, login

SHOTS = ARTIFACTS / "screenshots"  # as tests/browser/test_layout_browser.py keeps its own


@pytest.fixture
def queue_of(live_server):
    """Make an agent and `count` tickets in a category of their own (the `closed` positions CLOSED);
    afterwards every one still open is resolved, out of the queues the other browser tests read."""
    made = []

    def make_queue(count: int, closed: tuple[int, ...] = ()) -> dict:
        tag = secrets.token_hex(3)
        make = live_server.make
        with live_server.setup():
            agent = make.user(display_name=f"Bulk {tag}")
            cti = make.cti(f"Bulk {tag}", "Servers", "web01")
            tickets = [make.ticket(actor=agent, cti=cti, title=f"Disk {n:02d} {tag}") for n in range(count)]
            for position in closed:
                for status in ("RESOLVED", "CLOSED"):
                    change_status(agent, tickets[position], status)
            made.append((agent.id, [ticket.id for ticket in tickets]))
            return {"agent": agent.username, "queue": f"/?queue={cti[0].id}&status=all",
                    "ids": [ticket.display_id for ticket in tickets]}

    yield make_queue
    with live_server.setup():
        for agent_id, ticket_ids in made:
            for ticket in db.session.scalars(sa.select(Ticket).where(Ticket.id.in_(ticket_ids), ACTIVE_SQL)):
                change_status(db.session.get(User, agent_id), ticket, "RESOLVED")


def boxes(page):
    return page.locator("#results input.pick")


def test_shift_selects_ranges_and_a_bulk_status_change_reports_each_refusal(page, live_server, queue_of):
    w = queue_of(6, closed=(5,))
    login(page, live_server, w["agent"])
    page.goto(live_server(w["queue"]))
    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()  # nothing ticked: no bar in the way
    boxes(page).nth(0).click()
    expect(bar).to_be_visible()
    boxes(page).nth(3).click(modifiers=["Shift"])
    expect(bar.locator("[data-bulk-count]")).to_have_text("4")
    assert [boxes(page).nth(n).is_checked() for n in range(6)] == [True] * 4 + [False] * 2
    boxes(page).nth(5).focus()  # the keyboard: Shift+Space extends the range from the last one ticked
    page.keyboard.press("Shift+Space")
    expect(bar.locator("[data-bulk-count]")).to_have_text("6")
    expect(page.locator("#results input.pick-page")).to_be_checked()
    page.select_option("#bulk-status", "RESOLVED")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "bulk-bar-light.png"), full_page=True)
    bar.locator("button[type=submit]").click()
    answer = page.locator(".bulk-answer")
    expect(answer).to_contain_text("5 tickets changed; 1 not changed")
    closed = w["ids"][5]
    expect(answer.locator("li")).to_have_text(f"{closed}: Closed tickets are final; file a new ticket instead.")
    expect(page.locator("#results .status-resolved")).to_have_count(5)
    expect(bar).to_be_hidden()  # the rows came back unticked
    page.screenshot(path=str(SHOTS / "bulk-answer-light.png"), full_page=True)


def test_all_matching_a_filter_changes_every_page_as_a_job(page, live_server, queue_of):
    w = queue_of(53)  # more than one page of 50
    login(page, live_server, w["agent"])
    page.goto(live_server(w["queue"]))
    page.locator("#results input.pick-page").check()
    everything = page.locator("[data-bulk-all]")
    expect(everything).to_be_visible()
    everything.click()
    expect(page.locator("#bulk-matching")).to_contain_text("All 53 tickets matching this filter are selected.")
    expect(page.locator("[data-bulk-count]")).to_have_text("53")
    page.select_option("#bulk-severity", "2")
    page.locator("#bulk-form button[type=submit]").click()
    page.wait_for_url("**/bulk/*")
    progress = page.locator("#bulk-progress")
    expect(progress).to_contain_text("53 of 53 tickets tried.")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    page.reload()  # the job's state lives in the database, not in the page
    expect(progress).to_contain_text("Done")
    expect(page.locator("p.muted")).to_contain_text("Severity: SEV 2 (High) · every ticket matching a filter")
    page.goto(live_server(w["queue"]))
    expect(page.locator("#results .sev-2")).to_have_count(50)


def test_unticking_one_row_leaves_the_filter_selection(page, live_server, queue_of):
    w = queue_of(52)
    login(page, live_server, w["agent"])
    page.goto(live_server(w["queue"]))
    page.locator("#results input.pick-page").check()
    page.locator("[data-bulk-all]").click()
    expect(page.locator("[data-bulk-count]")).to_have_text("52")
    boxes(page).nth(2).click()
    expect(page.locator("[data-bulk-count]")).to_have_text("49")
    expect(page.locator("input[name=scope]")).to_have_count(0)


def test_a_job_page_polls_until_the_job_is_done(page, live_server, queue_of):
    w = queue_of(3)
    with live_server.setup():
        agent = db.session.scalar(sa.select(User).filter_by(username=w["agent"]))
        job = bulk_jobs.start_job(agent, bulk.clean_changes({"status": "IN_PROGRESS"}),
                                  targets=[bulk.Target(ref) for ref in w["ids"]], enqueue=False)
        job_id = job.id
    login(page, live_server, w["agent"])
    page.goto(live_server(f"/bulk/{job_id}"))
    progress = page.locator("#bulk-progress")
    expect(progress).to_contain_text("Waiting to start")
    expect(progress.locator("progress")).to_have_attribute("value", "0")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "bulk-job-light.png"))
    with live_server.setup():
        bulk_jobs.run_job(job_id)  # a worker picks it up; the open page notices without a reload
    expect(progress).to_contain_text("3 of 3 tickets tried.")
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s")


def test_my_tickets_bar_fetches_the_people_when_it_shows(page, live_server, queue_of):
    w = queue_of(2)
    with live_server.setup():
        agent = db.session.scalar(sa.select(User).filter_by(username=w["agent"]))
        for ticket in db.session.scalars(sa.select(Ticket).where(Ticket.display_id.in_(w["ids"]))):
            bulk_jobs.change_now(agent, bulk.clean_changes({"assignee_id": agent.id}), [bulk.Target(ticket.display_id)])
        name = agent.display_name
    login(page, live_server, w["agent"])
    page.goto(live_server("/my-tickets"))
    boxes(page).nth(0).click()
    expect(page.locator("#bulk-assignee optgroup[label=People] option", has_text=name)).to_have_count(1)
    page.select_option("#bulk-assignee", "none")
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator(".bulk-answer")).to_contain_text("1 ticket changed.")
