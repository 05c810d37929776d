"""Linking tickets from the ticket page's sidebar: add a link, remove one."""
from flask import request
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services import NotFound, ValidationError
from ..services import links as service
from ..services.base import rollback
from . import bp
from .ticket_page import AFFECTED, respond, ticket_from_url

# What a link changes besides the sidebar (which holds the links): the other ticket is elsewhere.
LINK_AFFECTED = ("audit", "audit_count", "updated", "flash")
# A duplicate is closed and both tickets get a note: the page's status and counts change too.
DUPLICATE_AFFECTED = (*AFFECTED, "comment_count", "updated")


@bp.post("/tickets/<display_id>/links")
@access(STAFF)
def add_link(display_id):
    """Link this ticket to another (form: kind, ticket); a refusal shows beside its field, the input kept."""
    ticket = ticket_from_url(display_id)
    kind, other = request.form.get("kind", ""), request.form.get("ticket", "")
    try:
        link = service.add_link(current_user, ticket, kind, other)
    except ValidationError as exc:
        rollback()
        return respond(ticket, "sidebar", status=422, errors=exc.fields,
                       values={"link_kind": kind, "link_ticket": other})
    closing = link.kind in ("duplicate_of", "duplicated_by")
    return respond(ticket, "sidebar", affected=DUPLICATE_AFFECTED if closing else LINK_AFFECTED,
                   message=f"{ticket.display_id} {service.PHRASES[link.kind]} {link.ticket.display_id}.")


@bp.post("/tickets/<display_id>/links/<int:link_id>/remove")
@access(STAFF)
def remove_link(display_id, link_id):
    ticket = ticket_from_url(display_id)
    try:
        service.remove_link(current_user, ticket, link_id)
    except NotFound as exc:  # removed a moment ago, e.g. from the other ticket's page
        return respond(ticket, "sidebar", status=404, alert=exc.message, alert_at="sidebar")
    return respond(ticket, "sidebar", affected=LINK_AFFECTED, message="Link removed.")
