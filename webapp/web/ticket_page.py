"""The ticket page's context, built in one place, and the one way every ticket action answers."""
import re
from functools import cached_property

from flask import flash, redirect, url_for
from flask_login import current_user

from ..models import Face, Status, Ticket
from ..services import NotFound, audit, comments, presence, watchers
from ..services import attachments as attachment_service
from ..services import links as link_service
from ..services.tickets import TRANSITIONS, auto_close_at, get_ticket, ticket_id
from ..services.users import assignable_users
from .forms import cti_choices
from ..ui.rendering import render, wants_fragment

TEMPLATE = "web/ticket.html"
# The block each inline editor (title, overview) lives in.
EDITOR_BLOCKS = {"title": "title_block", "overview": "overview"}
STATUS_ORDER = (Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED)
# What any change to a ticket can make stale elsewhere on its page, refreshed out of band.
AFFECTED = ("badges", "sidebar", "audit", "comment_count", "audit_count", "versions", "flash")
# A comment changes neither the ticket's fields nor its version: only these (and the list itself).
AFFECTED_BY_COMMENTS = ("audit", "comment_count", "audit_count", "updated", "flash")


def ticket_from_url(display_id: str) -> Ticket:
    """The ticket a /tickets/V######### URL names (any case), or NotFound, which renders the 404 page."""
    if not re.fullmatch(r"[Vv]\d{9}", display_id):
        raise NotFound(f"No ticket {display_id}.")
    return get_ticket(display_id)


def id_from_url(display_id: str) -> int:
    """The id of the ticket such a URL names, without loading it (services.tickets.ticket_id)."""
    if not re.fullmatch(r"[Vv]\d{9}", display_id):
        raise NotFound(f"No ticket {display_id}.")
    return ticket_id(display_id)


class PresentFace(Face):
    """A present person as the avatar macro draws them (username and display name)."""

    def __init__(self, present):
        self.present, self.display_name = present, present.name
        self.username, self.state, self.words, self.editing = (
            f"user{present.user_id}", present.state, present.words, present.editing)


class TicketView:
    """What the ticket page shows, loaded on first use so a fragment queries only what it draws."""

    def __init__(self, ticket: Ticket):
        self.ticket = ticket

    @cached_property
    def comments(self):
        return comments.visible_comments(self.ticket)

    @cached_property
    def comment_count(self) -> int:
        if "comments" in self.__dict__:  # already listed: no need to ask again
            return len(self.comments)
        return self._tab_counts[0]

    @cached_property
    def events(self):
        return audit.ticket_history(self.ticket)

    @cached_property
    def event_count(self) -> int:
        if "events" in self.__dict__:
            return len(self.events)
        return self._tab_counts[1]

    @cached_property
    def _tab_counts(self) -> tuple[int, int]:
        return comments.tab_counts(self.ticket)

    @cached_property
    def attachments(self):
        """Every file on the ticket not removed, its comments' included (one query)."""
        return attachment_service.attachments_of(self.ticket)

    @cached_property
    def _files_by_comment(self):
        return attachment_service.by_comment(self.attachments)

    def files_of(self, comment) -> list:
        return self._files_by_comment.get(comment.id, [])

    def can_remove(self, attachment) -> bool:
        return attachment_service.can_remove(current_user, attachment)

    @cached_property
    def present(self):
        """Everyone else with this ticket open (services.presence), with a face each."""
        return [PresentFace(p) for p in presence.others(self.ticket.id, current_user)]

    @cached_property
    def watchers(self):
        return watchers.watchers(self.ticket)

    @cached_property
    def links(self):
        """The ticket's links from its side (services.links), one query."""
        return link_service.links_of(self.ticket)

    @property
    def link_groups(self):
        return link_service.grouped(self.links)

    @property
    def open_children(self):
        return link_service.children(self.links, open_only=True)

    link_phrases = link_service.PHRASES

    @property
    def watching(self) -> bool:
        return any(person.id == current_user.id for person in self.watchers)

    @cached_property
    def users(self):
        return assignable_users()

    @cached_property
    def reroute(self):
        return cti_choices(self.ticket.category_id, self.ticket.type_id, self.ticket.item_id)

    def can_delete(self, comment) -> bool:
        return comments.can_delete(current_user, comment)

    def can_edit(self, comment) -> bool:
        return comments.can_edit(current_user, comment)

    @property
    def auto_close_at(self):
        return auto_close_at(self.ticket)

    @property
    def next_statuses(self) -> list[Status]:
        allowed = TRANSITIONS[Status(self.ticket.status)]
        return [status for status in STATUS_ORDER if status in allowed]


def ticket_context(ticket: Ticket, *, tab: str = "overview", editing: str | None = None,
                   editing_comment: int | None = None, errors: dict | None = None, values: dict | None = None,
                   alert: str | None = None, alert_at: str | None = None,
                   flash_message: str | None = None, confirm_status: str | None = None, **extra) -> dict:
    """Every variable ticket.html and its blocks read (`extra`: what one action's block needs;
    `confirm_status`: the status a parent with open children was asked to move to, to ask again)."""
    return {
        "ticket": ticket, "t": TicketView(ticket), "tab": tab, "editing": editing, "editing_comment": editing_comment,
        "errors": errors or {}, "values": values or {}, "alert": alert, "alert_at": alert_at,
        "flash_message": flash_message, "confirm_status": confirm_status, **extra,
    }


def render_ticket(ticket: Ticket, block: str = "tabs", *, status: int = 200, oob=(), **page):
    return render(TEMPLATE, block, status=status, oob=oob, **ticket_context(ticket, **page))


def respond(ticket: Ticket, main: str, *, status: int = 200, message: str | None = None,
            extra_oob=(), affected=AFFECTED, **page):
    """Answer a ticket action: the block that changed plus fresh copies of all it affects.

    Without htmx, success redirects to the ticket (303) and a refusal re-renders the page.
    """
    if not wants_fragment():
        if status < 400:
            if message:
                flash(message, "success")
            return redirect(url_for("web.ticket", display_id=ticket.display_id), 303)
        if page.get("alert"):
            flash(page.pop("alert"), "error")
        return render_ticket(ticket, main, status=status, **page)
    if status < 400:
        page["flash_message"] = message
    oob = [name for name in (*affected, *extra_oob) if name != main]
    return render_ticket(ticket, main, status=status, oob=oob, **page)
