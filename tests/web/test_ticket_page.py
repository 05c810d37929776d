"""The ticket page: header, tabs as their own URLs (page or fragment), 404s, audit log, auto-close."""
import re
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.services import comments
from webapp.services.tickets import change_severity, change_status, edit_overview, reroute

from .conftest import BOOSTED, PARTIAL, RESTORE, is_full_page, varies_on_htmx
from .test_queries import recorded_queries

TABS = {"overview": "", "comments": "/comments", "audit": "/audit"}


def test_ticket_page_header_shows_id_title_severity_and_status(client, agent, make):
    ticket = make.ticket(title="Disk full on web01", severity=1)
    response = client.get(f"/tickets/{ticket.display_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h1 id="ticket-title-text">Disk full on web01</h1>' in html
    start = html.index('id="ticket-badges"')
    badges = html[start:html.index("</div>", start)]
    assert ticket.display_id in badges and "sev sev-1" in badges and "status-open" in badges
    assert f"<title>{ticket.display_id} · Disk full on web01 · Ticketing</title>" in html


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_is_a_full_page_on_a_normal_request(client, agent, make, tab):
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.display_id}{TABS[tab]}")
    assert response.status_code == 200
    assert is_full_page(response)
    assert 'id="ticket-sidebar"' in response.get_data(as_text=True)
    assert varies_on_htmx(response)


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_is_only_its_fragment_to_htmx(client, agent, make, tab):
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.display_id}{TABS[tab]}", headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert not is_full_page(response)
    assert html.lstrip().startswith('<section id="ticket-tabs"')
    assert "ticket-sidebar" not in html and "ticket-badges" not in html
    current = re.search(r'<a class="tab" href="([^"]+)"[^>]*aria-current="page"', html)
    assert current.group(1) == f"/tickets/{ticket.display_id}{TABS[tab]}"
    assert varies_on_htmx(response)


@pytest.mark.parametrize("headers", [BOOSTED, RESTORE], ids=["boosted", "history-restore"])
def test_boosted_and_history_restore_requests_get_the_full_page(client, agent, make, headers):
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.display_id}/comments", headers=headers)
    assert is_full_page(response)


def test_tab_links_swap_the_tabs_and_push_their_url(client, agent, make):
    ticket = make.ticket()
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    for suffix in TABS.values():
        url = f"/tickets/{ticket.display_id}{suffix}"
        assert (f'href="{url}" hx-get="{url}" hx-target="#ticket-tabs" hx-swap="outerHTML" hx-push-url="true"'
                in html)


def test_unknown_ticket_gets_a_proper_404_page(client, agent):
    response = client.get("/tickets/V000000001")
    assert response.status_code == 404
    assert is_full_page(response)
    assert "Not found" in response.get_data(as_text=True)
    assert "No ticket V000000001." in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/tickets/nonsense", "/tickets/V12", "/tickets/V000000001/audit"])
def test_malformed_or_unknown_ids_are_404_not_500(client, agent, path):
    assert client.get(path).status_code == 404


def test_internal_ids_are_not_ticket_urls(client, agent, make):
    ticket = make.ticket()
    assert client.get(f"/tickets/{ticket.id}").status_code == 404
    assert client.post(f"/tickets/{ticket.id}/status", data={"status": "RESOLVED"}).status_code == 404


def test_unknown_ticket_fragment_is_just_the_error_card(client, agent):
    response = client.get("/tickets/V000000001/comments", headers=PARTIAL)
    assert response.status_code == 404
    assert not is_full_page(response)
    assert 'class="card error-page"' in response.get_data(as_text=True)


def test_lowercase_id_redirects_to_the_canonical_url(client, agent, make):
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.display_id.lower()}/audit")
    assert response.status_code == 308
    assert response.headers["Location"].endswith(f"/tickets/{ticket.display_id}/audit")


def test_overview_tab_renders_markdown(client, agent, make):
    ticket = make.ticket(overview="**Bold** and <script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in html and "<table>" in html
    assert "<script>alert" not in html


def test_comments_tab_shows_avatar_author_time_and_markdown(client, agent, make):
    bob = make.user("bob", display_name="Bob Builder")
    ticket = make.ticket()
    comments.add_comment(bob, ticket, "| host | disk |\n|---|---|\n| web01 | 98% |\n\n~~old~~ - [x] done")
    html = client.get(f"/tickets/{ticket.display_id}/comments").get_data(as_text=True)
    comment = html[html.index('<li class="comment"'):html.index("</li>", html.index('<li class="comment"'))]
    assert f'avatar avatar-md {bob.avatar_class}' in comment and ">BB</span>" in comment
    assert "<strong>Bob Builder</strong>" in comment
    assert ">just now</time>" in comment
    assert "<table>" in comment and "<del>old</del>" in comment
    assert '<span id="comment-count" class="count" >1</span>' in html


def test_comment_count_is_on_the_comments_tab_from_any_tab(client, agent, make):
    ticket = make.ticket()
    comments.add_comment(agent, ticket, "one")
    comments.add_comment(agent, ticket, "two")
    html = client.get(f"/tickets/{ticket.display_id}/audit").get_data(as_text=True)
    assert '<span id="comment-count" class="count" >2</span>' in html
    assert '<span id="audit-count" class="count" >3</span>' in html


def test_audit_log_is_newest_first_with_who_what_and_before_after(client, agent, make):
    other = make.cti("Office", "Printers", "3rd floor")
    ticket = make.ticket(actor=agent, severity=3, cti=make.cti("Infra", "Servers", "web01"))
    change_severity(agent, ticket, 1)
    change_status(agent, ticket, "IN_PROGRESS")
    reroute(agent, ticket, *(entry.id for entry in other))
    html = client.get(f"/tickets/{ticket.display_id}/audit").get_data(as_text=True)
    actions = re.findall(r'<li class="event event-(\w+)"', html)
    assert actions == ["reroute", "status", "severity", "create"]
    assert html.count("<strong>Alex Agent</strong>") == 4
    assert f"avatar avatar-md {agent.avatar_class}" in html
    severity = html[html.index("event-severity"):html.index("event-create")]
    assert severity.index("sev sev-3") < severity.index("→") < severity.index("sev sev-1")
    assert "Infra › Servers › web01" in html and "Office › Printers › 3rd floor" in html
    assert "status-open" in html and "status-in_progress" in html


def test_comment_events_expand_to_show_the_body(client, agent, make):
    ticket = make.ticket()
    comment = comments.add_comment(agent, ticket, "**first** words")
    comments.delete_comment(agent, comment)
    html = client.get(f"/tickets/{ticket.display_id}/audit").get_data(as_text=True)
    assert "<summary>Show comment</summary>" in html
    assert "<summary>Show deleted comment</summary>" in html
    assert html.count("<strong>first</strong> words") == 2
    assert "deleted a comment by Alex Agent" in html


def test_overview_edits_show_before_and_after(client, agent, make):
    ticket = make.ticket(overview="old text")
    edit_overview(agent, ticket, "new text")
    html = client.get(f"/tickets/{ticket.display_id}/audit").get_data(as_text=True)
    assert "edited the overview" in html
    details = html[html.index("Show the change"):]
    assert details.index("old text") < details.index("new text")


def test_system_actions_are_shown_as_the_system(client, agent, make, app):
    from webapp.services import audit

    ticket = make.ticket()
    change_status(agent, ticket, "RESOLVED")
    audit.record(None, "status", ticket=ticket, before="RESOLVED", after="CLOSED")
    db.session.commit()
    html = client.get(f"/tickets/{ticket.display_id}/audit").get_data(as_text=True)
    assert "<strong>System</strong>" in html and "closed the ticket automatically" in html


def test_resolved_ticket_shows_when_it_will_auto_close(client, agent, make, app):
    ticket = make.ticket()
    change_status(agent, ticket, "RESOLVED")
    due = ticket.resolved_at + timedelta(days=app.config["AUTO_CLOSE_DAYS"])
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert f'Closes automatically <time datetime="{due.isoformat(timespec="seconds")}"' in html
    assert f'auto-closes <time datetime="{due.isoformat(timespec="seconds")}"' in html


def test_auto_close_date_follows_the_configured_days(client, agent, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUTO_CLOSE_DAYS", 3)
    ticket = make.ticket()
    change_status(agent, ticket, "RESOLVED")
    due = ticket.resolved_at + timedelta(days=3)
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert f'<time datetime="{due.isoformat(timespec="seconds")}"' in html


def test_open_ticket_mentions_no_auto_close(client, agent, make):
    ticket = make.ticket()
    assert "auto-close" not in client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True).lower()


def test_status_buttons_follow_the_allowed_transitions(client, agent, make):
    ticket = make.ticket()
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert re.findall(r'name="status" value="(\w+)"', html) == ["IN_PROGRESS", "RESOLVED"]
    change_status(agent, ticket, "RESOLVED")
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert re.findall(r'name="status" value="(\w+)"', html) == ["OPEN", "IN_PROGRESS", "CLOSED"]
    assert ">Re-open</button>" in html
    change_status(agent, ticket, "CLOSED")
    html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert 'name="status"' not in html and "Closed tickets are final" in html


@pytest.mark.parametrize("part,block_start", [("title", '<div id="ticket-title"'), ("overview", '<section id="overview"')])
def test_inline_editors_open_as_fragment_or_full_page(client, agent, make, part, block_start):
    ticket = make.ticket(title="Old title", overview="Old overview")
    fragment = client.get(f"/tickets/{ticket.display_id}/{part}/edit", headers=PARTIAL)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith(block_start) and not is_full_page(fragment)
    assert f'name="version" id="{part}-version" value="{ticket.version}"' in html
    assert f"Old {part}" in html
    assert is_full_page(client.get(f"/tickets/{ticket.display_id}/{part}/edit"))
    shown = client.get(f"/tickets/{ticket.display_id}/{part}", headers=PARTIAL).get_data(as_text=True)
    assert shown.lstrip().startswith(block_start) and "<form" not in shown


@pytest.mark.parametrize("suffix", ["", "/comments", "/audit", "/title/edit", "/overview/edit"])
def test_ticket_pages_need_a_signed_in_agent(client, make, suffix):
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.display_id}{suffix}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_service_account_cannot_open_ticket_pages(client, make):
    robot = make.user("robot", role="SERVICE")
    ticket = make.ticket()
    response = client.get(f"/tickets/{ticket.display_id}", headers={"X-Api-Key": robot.plain_api_key})
    assert response.status_code == 302


def test_the_overview_counts_both_tabs_in_one_statement(client, agent, make):
    ticket = make.ticket()
    comments.add_comment(agent, ticket, "one")
    gone = comments.add_comment(agent, ticket, "two")
    comments.delete_comment(agent, gone)
    with recorded_queries() as statements:
        html = client.get(f"/tickets/{ticket.display_id}").get_data(as_text=True)
    assert '<span id="comment-count" class="count" >1</span>' in html
    assert '<span id="audit-count" class="count" >4</span>' in html  # create, two comments, a deletion
    tab_counts = [sql for sql, _ in statements if "count(" in sql.lower() and "notification" not in sql]
    assert len(tab_counts) == 1  # (the header bell's unread count is a statement of its own)
