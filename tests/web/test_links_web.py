"""Linked tickets in the ticket page's sidebar: add, remove, refusals beside their field, a duplicate
closing its ticket, the confirm before resolving a parent with open children, and the children queue."""
import re

from webapp.extensions import db
from webapp.models import Status, TicketLink
from webapp.services import links
from webapp.services.tickets import change_status

from .conftest import PARTIAL


def page_of(client, ticket, **kw) -> str:
    return client.get(f"/tickets/{ticket.display_id}", **kw).get_data(as_text=True)


def test_the_sidebar_shows_links_grouped_and_an_empty_state(client, agent, make):
    ticket, parent, related = make.ticket(), make.ticket(title="The parent"), make.ticket()
    assert "No linked tickets." in page_of(client, ticket)
    links.add_link(agent, ticket, "child_of", parent.display_id)
    links.add_link(agent, ticket, "relates_to", related.display_id)
    html = page_of(client, ticket)
    section = html[html.index('id="ticket-links"'):html.index('aria-labelledby="side-watchers"')]
    assert section.index(">Parent</h3>") < section.index(">Relates to</h3>")
    assert f'href="/tickets/{parent.display_id}">{parent.display_id}</a>' in section and "The parent" in section
    assert 'class="badge' in section or "sev" in section  # the severity and status badges
    assert f'aria-label="Remove the link to {parent.display_id}"' in section
    assert "No linked tickets." not in section
    assert html.index('id="side-route"') < html.index('id="side-links"') < html.index('id="side-watchers"')


def test_adding_and_removing_a_link_with_htmx_and_without(client, agent, make):
    ticket, other = make.ticket(), make.ticket()
    response = client.post(f"/tickets/{ticket.display_id}/links", data={"kind": "parent_of", "ticket": other.display_id},
                           headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="ticket-sidebar"' in html and ">Children</h3>" in html
    assert 'id="audit-count"' in html and f"{ticket.display_id} is the parent of {other.display_id}." in html
    assert f'/?parent={ticket.display_id}&amp;status=all">Change all 1 child</a>' in html
    link = db.session.scalar(db.select(TicketLink))
    audit = client.get(f"/tickets/{other.display_id}/audit").get_data(as_text=True)
    assert re.search(r"linked this ticket: it is a child of\s*<a class=\"mono\" href=\"/tickets/" + ticket.display_id, audit)
    removed = client.post(f"/tickets/{ticket.display_id}/links/{link.id}/remove")
    assert removed.status_code == 303 and db.session.scalar(db.select(TicketLink)) is None
    again = client.post(f"/tickets/{ticket.display_id}/links/{link.id}/remove", headers=PARTIAL)
    assert again.status_code == 404 and f"No link {link.id}" in again.get_data(as_text=True)
    plain = client.post(f"/tickets/{ticket.display_id}/links", data={"kind": "relates_to", "ticket": other.display_id})
    assert plain.status_code == 303


def test_a_refusal_shows_beside_its_field_and_keeps_what_was_typed(client, agent, make):
    ticket = make.ticket()
    for data, field in (({"kind": "relates_to", "ticket": "V000000001"}, "ticket"),
                        ({"kind": "relates_to", "ticket": ticket.display_id}, "ticket"),
                        ({"kind": "blocks", "ticket": "V000000001"}, "kind")):
        for headers in (PARTIAL, {}):
            response = client.post(f"/tickets/{ticket.display_id}/links", data=data, headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == 422, data
            assert f'id="{field}-error"' in html and f'value="{data["ticket"]}"' in html
    assert db.session.scalar(db.select(TicketLink)) is None


def test_a_duplicate_closes_and_the_page_shows_it(client, agent, make):
    original, duplicate = make.ticket(), make.ticket()
    response = client.post(f"/tickets/{duplicate.display_id}/links",
                           data={"kind": "duplicate_of", "ticket": original.display_id}, headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="ticket-badges"' in html and 'id="comment-count"' in html  # status and counts out of band
    db.session.expire_all()
    assert duplicate.status == Status.CLOSED
    assert "Closed as a duplicate of" in client.get(f"/tickets/{duplicate.display_id}/comments").get_data(as_text=True)


def test_resolving_a_parent_with_open_children_asks_and_force_resolves(client, agent, make):
    parent, child, done = make.ticket(), make.ticket(), make.ticket()
    links.add_link(agent, parent, "parent_of", child.display_id)
    links.add_link(agent, parent, "parent_of", done.display_id)
    change_status(agent, done, Status.RESOLVED)
    asked = client.post(f"/tickets/{parent.display_id}/status", data={"status": "RESOLVED"}, headers=PARTIAL)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 409
    assert re.search(r"This ticket has 1 open child\s*\(<a[^>]*>" + child.display_id, html)
    assert 'name="force" value="1"' in html and "Resolve anyway" in html
    db.session.expire_all()
    assert parent.status == Status.OPEN
    no_js = client.post(f"/tickets/{parent.display_id}/status", data={"status": "RESOLVED"})
    assert no_js.status_code == 409 and "Resolve anyway" in no_js.get_data(as_text=True)
    forced = client.post(f"/tickets/{parent.display_id}/status", data={"status": "RESOLVED", "force": "1"},
                         headers=PARTIAL)
    assert forced.status_code == 200
    db.session.expire_all()
    assert parent.status == Status.RESOLVED


def test_the_queue_lists_a_parents_children(client, agent, make):
    parent = make.ticket(title="Parent ticket")
    kids = [make.ticket(title=f"Kid {n}") for n in range(2)]
    for kid in kids:
        links.add_link(agent, parent, "parent_of", kid.display_id)
    change_status(agent, kids[1], Status.RESOLVED)
    html = client.get(f"/?parent={parent.display_id}&status=all").get_data(as_text=True)
    assert "Kid 0" in html and "Kid 1" in html and "Parent ticket" not in html
    assert f'<input type="hidden" name="parent" value="{parent.display_id}">' in html  # kept by the filters
    assert f'name="filter.parent" value="{parent.display_id}"' in html  # and by the bulk bar's selection
    active = client.get(f"/?parent={parent.display_id}").get_data(as_text=True)
    assert "Kid 0" in active and "Kid 1" not in active
