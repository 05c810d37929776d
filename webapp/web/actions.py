"""Ticket actions from the sidebar and the inline editors; each swaps only what it changed."""
from flask import request
from flask_login import current_user

from ..auth.access import STAFF, access
from ..services import Conflict, ValidationError
from ..services import tickets as service
from ..services.base import rollback
from ..ui.templating import status_label
from . import bp
from .forms import cti_choices, expected_version
from .ticket_page import EDITOR_BLOCKS, respond, ticket_from_url

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
    except service.OpenChildren:  # the sidebar lists them and asks again, with force
        rollback()
        return respond(ticket, main, status=409, confirm_status=request.form.get("status"))
    except Conflict as exc:
        rollback()
        kept = values if editing else None
        return respond(ticket, main, status=409, alert=exc.message + stale, alert_at=main,
                       values=kept, editing=editing)
    return respond(ticket, main, message=describe(ticket))


# Sidebar fields changed by one value each: the form field, the service call, the confirmation.
FIELD_ACTIONS = {
    "status": ("status", service.change_status,
               lambda t: f"{t.display_id} is now {status_label(t.status)}."),
    "assignee": ("assignee_id", service.assign,
                 lambda t: f"Assigned to {t.assignee.display_name}." if t.assignee else "Unassigned."),
    "severity": ("severity", service.change_severity,
                 lambda t: f"Severity set to SEV {t.severity} ({t.severity_label})."),
}
EDITORS = {"title": service.edit_title, "overview": service.edit_overview}


@bp.post("/tickets/<display_id>/<any(status, assignee, severity):action>")
@access(STAFF)
def change_field(display_id, action):
    field, call, describe = FIELD_ACTIONS[action]
    ticket = ticket_from_url(display_id)
    value = request.form.get(field) or None
    force = {"force": request.form.get("force") == "1"} if action == "status" else {}
    return _act(ticket, "sidebar", lambda **kw: call(current_user, ticket, value, **kw, **force), describe)


@bp.post("/tickets/<display_id>/reroute")
@access(STAFF)
def reroute(display_id):
    ticket = ticket_from_url(display_id)
    ids = [request.form.get(name) for name in ("category_id", "type_id", "item_id")]
    return _act(
        ticket, "sidebar",
        lambda **kw: service.reroute(current_user, ticket, *ids, **kw),
        lambda t: f"Rerouted to {t.cti_path}.",
        values={"reroute": cti_choices(*ids)},
    )


@bp.post("/tickets/<display_id>/<any(title, overview):part>")
@access(STAFF)
def edit_text(display_id, part):
    call = EDITORS[part]
    ticket = ticket_from_url(display_id)
    text = request.form.get(part, "")
    return _act(
        ticket, EDITOR_BLOCKS[part], lambda **kw: call(current_user, ticket, text, **kw),
        lambda t: f"{part.capitalize()} saved.",
        editing=part, values={part: text}, stale=STALE_EDITOR,
    )
