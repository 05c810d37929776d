"""A ticket's links to other tickets (services.links): list, add, remove."""
from flask import jsonify, url_for

from ..auth.access import API, access, api_user
from ..services import links as link_service
from ..services.tickets import get_ticket
from . import bp
from .parsing import json_object
from .serializers import ident, ticket_web_url


def link_json(link: link_service.Link) -> dict:
    """A link as seen from the ticket it was asked of: its kind from that side and the other ticket."""
    other = link.ticket
    return {
        "id": ident(link.id), "kind": link.kind, "label": link.label,
        "ticket": {"id": ident(other.id), "displayId": other.display_id, "title": other.title,
                   "status": other.status, "severity": other.severity, "url": ticket_web_url(other.display_id),
                   "apiUrl": url_for("api.get_ticket", ref=other.display_id, _external=True)},
    }


def links_json(ticket) -> list[dict]:
    return [link_json(link) for link in link_service.links_of(ticket)]


@bp.get("/tickets/<ref>/links")
@access(API)
def list_links(ref):
    """The ticket's links, grouped parent, children, duplicate of, duplicated by, relates to."""
    return jsonify({"items": links_json(get_ticket(ref))})


@bp.post("/tickets/<ref>/links")
@access(API)
def add_link(ref):
    """Link the ticket to another ({"kind", "ticket"}): 201 with the link; 422 naming `kind` or `ticket`."""
    ticket = get_ticket(ref)
    body = json_object({"kind", "ticket"})
    link = link_service.add_link(api_user(), ticket, body.get("kind"), body.get("ticket"))
    response = jsonify(link_json(link))
    response.status_code = 201
    return response


@bp.delete("/tickets/<ref>/links/<link_id>")
@access(API)
def remove_link(ref, link_id):
    """Remove one of the ticket's links (204), audited on both tickets; 404 if it has no such link."""
    link_service.remove_link(api_user(), get_ticket(ref), link_id)
    return "", 204
