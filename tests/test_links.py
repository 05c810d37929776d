"""services.links: linking tickets, each refusal naming its field and changing nothing, a duplicate
closed with notes on both tickets, the open-children guard, and the `parent` list filter."""
import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, Comment, Status, TicketLink
from webapp.services import ValidationError, links
from webapp.services.listing import ListFilter, count_capped, list_page
from webapp.services.tickets import OpenChildren, change_status, update_ticket

from .jobs_fixtures import receiver  # noqa: F401


def events(ticket, *actions) -> list[AuditEvent]:
    query = sa.select(AuditEvent).filter_by(ticket_id=ticket.id).where(AuditEvent.action.in_(actions))
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def link_rows() -> list[tuple]:
    return list(db.session.execute(sa.select(TicketLink.kind, TicketLink.source_id, TicketLink.target_id)))


def kinds_of(ticket) -> list[tuple[str, str]]:
    return [(link.kind, link.ticket.display_id) for link in links.links_of(ticket)]


@pytest.fixture
def agent(make):
    return make.user("agent")


def test_each_ticket_sees_a_link_from_its_own_side_and_both_are_audited(make, agent):
    parent, child, other = make.ticket(), make.ticket(), make.ticket()
    link = links.add_link(agent, child, "child_of", parent.display_id.lower())
    assert (link.kind, link.label, link.ticket.display_id) == ("child_of", "Parent", parent.display_id)
    links.add_link(agent, other, "relates_to", child.display_id)
    assert link_rows() == [("parent_of", parent.id, child.id), ("relates_to", min(child.id, other.id),
                                                                 max(child.id, other.id))]
    assert kinds_of(parent) == [("parent_of", child.display_id)]
    assert kinds_of(child) == [("child_of", parent.display_id), ("relates_to", other.display_id)]
    assert [label for label, _ in links.grouped(links.links_of(child))] == ["Parent", "Relates to"]
    [on_parent], [on_child, _] = events(parent, "link_add"), events(child, "link_add")
    assert on_parent.after == {"linkId": link.id, "kind": "parent_of",
                               "ticket": {"id": child.id, "displayId": child.display_id, "title": child.title}}
    assert on_child.after["kind"] == "child_of" and on_child.after["ticket"]["displayId"] == parent.display_id


def test_removing_a_link_is_audited_on_both_tickets_with_before(make, agent):
    a, b = make.ticket(), make.ticket()
    link = links.add_link(agent, a, "parent_of", b.display_id)
    links.remove_link(agent, b, link.id)
    assert link_rows() == []
    [on_a], [on_b] = events(a, "link_remove"), events(b, "link_remove")
    assert (on_a.before["kind"], on_b.before["kind"]) == ("parent_of", "child_of") and on_a.after is None
    with pytest.raises(links.NotFound):
        links.remove_link(agent, a, link.id)


@pytest.mark.parametrize("case", ["self", "unknown_ticket", "malformed", "unknown_kind", "pair", "reverse_pair",
                                  "second_parent", "cycle"])
def test_each_refusal_names_its_field_and_changes_nothing(make, agent, case):
    a, b, c = make.ticket(), make.ticket(), make.ticket()
    links.add_link(agent, a, "parent_of", b.display_id)  # A → B
    links.add_link(agent, b, "parent_of", c.display_id)  # B → C
    before, audited = link_rows(), len(events(a, "link_add")) + len(events(c, "link_add"))
    ticket, kind, ref, field = {
        "self": (a, "relates_to", a.display_id, "ticket"),
        "unknown_ticket": (a, "relates_to", "V000000001", "ticket"),
        "malformed": (a, "relates_to", "<script>", "ticket"),
        "unknown_kind": (a, "blocks", c.display_id, "kind"),
        "pair": (a, "relates_to", b.display_id, "ticket"),
        "reverse_pair": (b, "duplicate_of", a.display_id, "ticket"),
        "second_parent": (c, "child_of", a.display_id, "ticket"),  # C's parent is B
        "cycle": (c, "parent_of", a.display_id, "ticket"),  # A → B → C → A
    }[case]
    with pytest.raises(ValidationError) as refused:
        links.add_link(agent, ticket, kind, ref)
    assert list(refused.value.fields) == [field]
    assert link_rows() == before
    assert len(events(a, "link_add")) + len(events(c, "link_add")) == audited


def test_a_cycle_through_a_longer_chain_is_refused_but_a_branch_is_fine(make, agent):
    chain = [make.ticket() for _ in range(5)]
    for parent, child in zip(chain, chain[1:]):
        links.add_link(agent, parent, "parent_of", child.display_id)
    with pytest.raises(ValidationError, match="loop"):
        links.add_link(agent, chain[0], "child_of", chain[4].display_id)
    links.add_link(agent, chain[1], "parent_of", make.ticket().display_id)  # a second child is fine


@pytest.mark.parametrize("start", [Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED])
def test_duplicate_of_closes_the_duplicate_with_a_note_on_both(make, agent, start):
    original, duplicate = make.ticket(), make.ticket()
    for status in {Status.OPEN: [], Status.IN_PROGRESS: [Status.IN_PROGRESS], Status.RESOLVED: [Status.RESOLVED],
                   Status.CLOSED: [Status.RESOLVED, Status.CLOSED]}[start]:
        change_status(agent, duplicate, status)
    link = links.add_link(agent, original, "duplicated_by", duplicate.display_id)
    assert link.kind == "duplicated_by" and link.ticket.status == "CLOSED"
    db.session.expire_all()
    assert duplicate.status == Status.CLOSED and original.status == Status.OPEN
    notes = {c.ticket_id: c.body for c in db.session.scalars(sa.select(Comment).where(Comment.body.contains("dupl")))}
    assert notes == {duplicate.id: f"Closed as a duplicate of {original.display_id}.",
                     original.id: f"{duplicate.display_id} was marked as a duplicate of this ticket."}
    assert [e.after["kind"] for e in events(duplicate, "link_add")] == ["duplicate_of"]
    assert [e.after["kind"] for e in events(original, "link_add")] == ["duplicated_by"]
    moves = [(e.before, e.after) for e in events(duplicate, "status")]
    if start in (Status.OPEN, Status.IN_PROGRESS):
        assert moves[-2:] == [(start.value, "RESOLVED"), ("RESOLVED", "CLOSED")]


def test_resolving_a_parent_with_open_children_asks_first(make, agent):
    parent, done, open_one, working = make.ticket(), make.ticket(), make.ticket(), make.ticket()
    for child in (done, open_one, working):
        links.add_link(agent, parent, "parent_of", child.display_id)
    change_status(agent, done, Status.RESOLVED)
    change_status(agent, working, Status.IN_PROGRESS)
    with pytest.raises(OpenChildren) as refused:
        change_status(agent, parent, Status.RESOLVED)
    assert refused.value.code == "open_children" and refused.value.status == 409
    assert refused.value.message == (f"{parent.display_id} has 2 open child tickets; "
                                     "resolve them first or force it.")
    with pytest.raises(OpenChildren):
        update_ticket(agent, parent, {"status": "RESOLVED", "severity": 1})
    db.session.expire_all()
    assert (parent.status, parent.severity) == ("OPEN", 3)  # nothing of the refused update stayed
    with pytest.raises(ValidationError) as bad:
        update_ticket(agent, parent, {"status": "RESOLVED", "force": "yes"})
    assert list(bad.value.fields) == ["force"]
    update_ticket(agent, parent, {"status": "RESOLVED", "force": True})
    assert parent.status == Status.RESOLVED
    change_status(agent, parent, Status.CLOSED, force=True)
    change_status(agent, open_one, Status.IN_PROGRESS)  # children move freely


def test_the_parent_filter_lists_only_its_children_in_every_list(make, agent):
    parent, first, second, stranger = make.ticket(), make.ticket(), make.ticket(), make.ticket()
    for child in (first, second):
        links.add_link(agent, parent, "parent_of", child.display_id)
    links.add_link(agent, stranger, "relates_to", parent.display_id)
    change_status(agent, second, Status.RESOLVED)
    web = ListFilter.from_web_args({"parent": parent.display_id.lower(), "status": "all"})
    assert web.parent == parent.display_id and web.as_args() == {"status": "all", "parent": parent.display_id}
    assert {row.display_id for row in list_page(web, agent).items} == {first.display_id, second.display_id}
    assert count_capped(web, agent) == 2
    active = ListFilter.from_web_args({"parent": parent.display_id})
    assert [row.display_id for row in list_page(active, agent).items] == [first.display_id]
    api = ListFilter.from_api_args({"parent": parent.display_id})
    assert {row.display_id for row in list_page(api, agent, columns="api").items} == {first.display_id,
                                                                                        second.display_id}
    for value in ("V000000001", "nonsense"):
        with pytest.raises(ValidationError) as refused:
            ListFilter.from_api_args({"parent": value})
        assert list(refused.value.fields) == ["parent"]


def test_link_events_reach_webhooks_on_both_tickets_as_the_document_describes(app, make, agent, receiver,
                                                                               loopback_allowed):
    from webapp.api.openapi import openapi_document
    from webapp.models import Role
    from webapp.services.webhooks import create_webhook

    from .api.openapi_check import SpecChecker

    admin = make.user("admin", role=Role.ADMIN)
    create_webhook(admin, name="n8n", url=receiver.url, secret="s" * 24, events=["link_add", "link_remove"])
    parent, child = make.ticket(), make.ticket()
    link = links.add_link(agent, child, "child_of", parent.display_id)
    links.remove_link(agent, parent, link.id)
    bodies = [request.json for request in receiver.requests]
    assert sorted((body["action"], body["ticket"]["displayId"]) for body in bodies) == sorted(
        (action, ticket.display_id) for action in ("link_add", "link_remove") for ticket in (parent, child))
    added = next(b for b in bodies if b["action"] == "link_add" and b["ticket"]["displayId"] == parent.display_id)
    assert added["after"] == {"linkId": str(link.id), "kind": "parent_of",
                              "ticket": {"id": str(child.id), "displayId": child.display_id, "title": child.title}}
    spec = SpecChecker(openapi_document())
    for body in bodies:
        spec.validate(body, "#/components/schemas/WebhookEvent")
