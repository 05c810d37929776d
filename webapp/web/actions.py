"""Ticket actions from the sidebar and the inline editors; each swaps only what it changed."""
from flask import request
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services import Conflict, ValidationError
from ..services import tickets as service
from ..services.base import rollback
from ..templating import status_label
from . import bp
from .forms import cti_choices, expected_version
from .ticket_page import respond

STALE_SIDEBAR = " Your change was not applied; this is the latest version."
STALE_EDITOR = (" Your text is kept below and the page now shows the latest version;"
                " save again to replace what they wrote.")


def _act(ticket, main: str, change, describe, *, editing=None, values=None, stale=STALE_SIDEBAR):
    """Run one service call and answer with the fresh fragment, or say why it was refused."""
    try:
        change(expected_version=expected_version(request.form))
    except ValidationError as exc:
        rollback()
        return respond(ticket, main, status=422, errors=exc.fields, values=values, editing=editing)
    except Conflict as exc:
        rollback()
        kept = values if editing else None
        return respond(ticket, main, status=409, alert=exc.message + stale, alert_at=main,
                       values=kept, editing=editing)
    return respond(ticket, main, message=describe(ticket))


@bp.post("/tickets/<display_id>/status")
@access(STAFF)
def change_status(display_id):
    ticket = service.get_ticket(display_id)
    status = request.form.get("status")
    return _act(
        ticket, "sidebar",
        lambda **kw: service.change_status(current_user, ticket, status, **kw),
        lambda t: f"{t.display_id} is now {status_label(t.status)}.",
    )


@bp.post("/tickets/<display_id>/assignee")
@access(STAFF)
def assign(display_id):
    ticket = service.get_ticket(display_id)
    assignee_id = request.form.get("assignee_id") or None
    return _act(
        ticket, "sidebar",
        lambda **kw: service.assign(current_user, ticket, assignee_id, **kw),
        lambda t: f"Assigned to {t.assignee.display_name}." if t.assignee else "Unassigned.",
    )


@bp.post("/tickets/<display_id>/severity")
@access(STAFF)
def change_severity(display_id):
    ticket = service.get_ticket(display_id)
    severity = request.form.get("severity")
    return _act(
        ticket, "sidebar",
        lambda **kw: service.change_severity(current_user, ticket, severity, **kw),
        lambda t: f"Severity set to SEV {t.severity} ({t.severity_label}).",
    )


@bp.post("/tickets/<display_id>/reroute")
@access(STAFF)
def reroute(display_id):
    ticket = service.get_ticket(display_id)
    ids = [request.form.get(name) for name in ("category_id", "type_id", "item_id")]
    return _act(
        ticket, "sidebar",
        lambda **kw: service.reroute(current_user, ticket, *ids, **kw),
        lambda t: f"Rerouted to {t.cti_path}.",
        values={"reroute": cti_choices(*ids)},
    )


@bp.post("/tickets/<display_id>/title")
@access(STAFF)
def edit_title(display_id):
    ticket = service.get_ticket(display_id)
    title = request.form.get("title", "")
    return _act(
        ticket, "title_block",
        lambda **kw: service.edit_title(current_user, ticket, title, **kw),
        lambda t: "Title saved.",
        editing="title", values={"title": title}, stale=STALE_EDITOR,
    )


@bp.post("/tickets/<display_id>/overview")
@access(STAFF)
def edit_overview(display_id):
    ticket = service.get_ticket(display_id)
    overview = request.form.get("overview", "")
    return _act(
        ticket, "overview",
        lambda **kw: service.edit_overview(current_user, ticket, overview, **kw),
        lambda t: "Overview saved.",
        editing="overview", values={"overview": overview}, stale=STALE_EDITOR,
    )
