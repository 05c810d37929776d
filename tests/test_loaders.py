"""Every loader by id answers a missing (or foreign, or malformed) id with NotFound and its own message."""
import pytest

from webapp.models import Role, Ticket
from webapp.services import NotFound, comments, cti_admin, tickets, users, webhooks
from webapp.services.base import found, get_or_404


def test_get_or_404_takes_an_id_or_its_text_and_refuses_the_rest(app, make):
    agent = make.user()
    assert get_or_404(type(agent), str(agent.id), "none") is agent
    for ident in (None, "x", True, -1, 2**31, agent.id + 1000):
        with pytest.raises(NotFound, match="^No such$"):
            get_or_404(type(agent), ident, "No such")
    with pytest.raises(NotFound, match="^Not yours$"):
        get_or_404(type(agent), agent.id, "Not yours", accept=lambda user: user.role == Role.ADMIN)
    assert found(agent, "none") is agent
    with pytest.raises(NotFound, match="^gone$"):
        found(None, "gone")


def test_each_loader_keeps_its_message(app, make):
    admin = make.user(role=Role.ADMIN)
    ticket = make.ticket(actor=admin)
    other = make.ticket(actor=admin)
    on_other = comments.add_comment(admin, other, "elsewhere")
    gone = comments.add_comment(admin, ticket, "deleted")
    comments.delete_comment(admin, gone)
    hook = webhooks.create_webhook(admin, name="Loader hook", url="https://example.com/hook", secret="s" * 32)
    cases = [
        (lambda: tickets.get_ticket("V000000000"), "No ticket V000000000."),
        (lambda: tickets.get_ticket("nope"), "No ticket nope."),
        (lambda: webhooks.get_webhook("12x"), "No webhook 12x."),
        (lambda: webhooks.get_delivery(hook, 999999), "No delivery 999999 for Loader hook."),
        (lambda: users.get_user("abc"), "No user abc."),
        (lambda: cti_admin.get_entry("category", 999999), "No category 999999."),
        (lambda: comments.get_comment(ticket, on_other.id), f"No comment {on_other.id} on {ticket.display_id}."),
        (lambda: comments.get_comment(ticket, gone.id), f"No comment {gone.id} on {ticket.display_id}."),
    ]
    for load, message in cases:
        with pytest.raises(NotFound) as caught:
            load()
        assert str(caught.value) == message
    assert isinstance(tickets.get_ticket(ticket.display_id.lower()), Ticket)
    assert tickets.get_ticket(str(ticket.id)) is ticket
