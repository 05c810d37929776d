"""Filing a ticket and reading one: the page, its tabs, and the widgets its forms use."""
from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..auth.access import STAFF, access
from ..models import Ticket
from ..services import ValidationError, inbox
from ..services.tickets import create_ticket as create_ticket_service, get_ticket
from ..services.users import assignable_users
from . import bp, live
from .forms import cti_choices, id_prefix, ticket_values
from ..ui.rendering import render, render_widget, wants_fragment
from .ticket_page import EDITOR_BLOCKS, id_from_url, render_ticket, ticket_from_url

PREVIEW_FIELDS = ("body", "overview")


def _canonical(ticket: Ticket, display_id: str):
    """Send /tickets/v123… (lower case) to the ticket's one true URL."""
    if display_id == ticket.display_id:
        return None
    path = request.path.replace(f"/tickets/{display_id}", f"/tickets/{ticket.display_id}", 1)
    return redirect(path, 308)


@bp.get("/tickets/new")
@access(STAFF)
def new_ticket():
    values = dict.fromkeys(("title", "overview", "assignee_id"), "") | {"severity": "3"}
    return _new_ticket_form(values, {}, 200)


@bp.post("/tickets/new")
@access(STAFF)
def create_ticket():
    values = ticket_values(request.form)
    try:
        ticket = create_ticket_service(
            current_user, title=values["title"], overview=values["overview"], severity=values["severity"],
            category_id=values["category_id"], type_id=values["type_id"], item_id=values["item_id"],
            assignee_id=values["assignee_id"] or None,
        )
    except ValidationError as exc:
        return _new_ticket_form(values, exc.fields, 422)
    flash(f"Ticket {ticket.display_id} created.", "success")
    return redirect(url_for("web.ticket", display_id=ticket.display_id), 303)


def _new_ticket_form(values: dict, errors: dict, status: int):
    cti = cti_choices(values.get("category_id"), values.get("type_id"), values.get("item_id"))
    return render("web/new_ticket.html", "content", status=status, values=values, errors=errors,
                  cti=cti, users=assignable_users())


def _tab(display_id: str, tab: str):
    """A tab of the ticket page; an unknown ID raises NotFound, which renders the 404 page. A live
    page's poll that finds nothing new is answered 304 before the ticket is even loaded."""
    if wants_fragment():  # a tab swapped in by htmx; live polls ask for the whole page
        ticket = ticket_from_url(display_id)
        return _canonical(ticket, display_id) or render_ticket(ticket, "tabs", tab=tab)
    ticket_id = id_from_url(display_id)
    poll = live.ticket_poll(ticket_id)
    if poll.response is not None:
        return poll.response
    ticket = get_ticket(ticket_id)
    if redirect_to := _canonical(ticket, display_id):
        return redirect_to
    etag = poll.etag
    if poll.waiting and inbox.mark_all_read(current_user, ticket=ticket):  # opening a ticket reads its notifications
        etag = live.ticket_poll(ticket_id).etag  # the bell it shows has moved
    live.watched("ticket", etag)
    return live.tagged(render_ticket(ticket, "tabs", tab=tab), etag)


@bp.get("/tickets/<display_id>")
@access(STAFF)
def ticket(display_id):
    return _tab(display_id, "overview")


@bp.get("/tickets/<display_id>/comments")
@access(STAFF)
def ticket_comments(display_id):
    return _tab(display_id, "comments")


@bp.get("/tickets/<display_id>/audit")
@access(STAFF)
def ticket_audit(display_id):
    return _tab(display_id, "audit")


@bp.get("/tickets/<display_id>/<any(title, overview):part>")
@access(STAFF)
def show_text(display_id, part):
    """The title or overview as shown (what an editor's Cancel swaps back in)."""
    return render_ticket(ticket_from_url(display_id), EDITOR_BLOCKS[part])


@bp.get("/tickets/<display_id>/<any(title, overview):part>/edit")
@access(STAFF)
def edit_text_form(display_id, part):
    """The inline editor for the title or overview; a full page when opened directly."""
    return render_ticket(ticket_from_url(display_id), EDITOR_BLOCKS[part], editing=part)


@bp.get("/cti/types")
@access(STAFF)
def cti_types():
    """The Type and Item selects for the chosen category (Item waits for a type)."""
    cti = cti_choices(request.args.get("category_id"), categories=False)
    return render_widget("web/widgets.html", "cti_types", cti=cti, prefix=id_prefix(request.args.get("prefix")))


@bp.get("/cti/items")
@access(STAFF)
def cti_items():
    """The Item select for the chosen category and type."""
    cti = cti_choices(request.args.get("category_id"), request.args.get("type_id"), categories=False)
    return render_widget("web/widgets.html", "cti_items", cti=cti, prefix=id_prefix(request.args.get("prefix")))


@bp.post("/preview")
@access(STAFF)
def preview():
    """Markdown rendered exactly as it will be shown, for the editor's Preview tab."""
    field = request.args.get("field")
    text = request.form.get(field if field in PREVIEW_FIELDS else "body", "")
    return render_widget("web/widgets.html", "preview", text=text)
