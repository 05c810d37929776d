"""Dashboard and ticket pages."""
from flask import render_template

from ..auth.access import STAFF, access
from ..extensions import db
from ..models import ACTIVE_STATUSES, Ticket
from . import bp

PAGE_SIZE = 50


@bp.get("/")
@access(STAFF)
def dashboard():
    query = (
        db.select(Ticket)
        .where(Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Ticket.severity, Ticket.created_at, Ticket.id)
        .limit(PAGE_SIZE)
    )
    tickets = list(db.session.scalars(query))
    return render_template("web/dashboard.html", tickets=tickets)
