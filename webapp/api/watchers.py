"""Who watches a ticket (told of its comments and status changes): list, watch, unwatch."""
from flask import jsonify, request

from ..auth.access import API, access, api_user
from ..services import ValidationError
from ..services import watchers as watch_service
from ..services.text import checked_text
from ..services.tickets import get_ticket
from . import bp
from .parsing import USERNAME_MAX, json_object
from .serializers import user_json


def watchers_response(ticket, status: int = 200):
    """The ticket's watchers in the order they started (the first WATCHERS_SHOWN) and how many there are."""
    people = watch_service.watchers(ticket, limit=None)  # a ticket's watchers are a handful of people
    shown = people[:watch_service.WATCHERS_SHOWN]
    response = jsonify({"items": [user_json(person) for person in shown], "count": len(people)})
    response.status_code = status
    return response


def named_person(value):
    """The active user a request names by username (422 naming `user` otherwise)."""
    if isinstance(value, str) and len(value.strip()) > USERNAME_MAX:
        raise ValidationError({"user": f"No such username: usernames have at most {USERNAME_MAX} characters."})
    return watch_service.find_person(checked_text("user", value))


@bp.get("/tickets/<ref>/watchers")
@access(API)
def list_watchers(ref):
    """The people told of the ticket's comments and status changes, in the order they started."""
    return watchers_response(get_ticket(ref))


@bp.post("/tickets/<ref>/watchers")
@access(API)
def watch_ticket(ref):
    """The caller, or the user a {"user": username} body names, watches the ticket: 201 when added,
    200 when they already did. A service account may add only itself."""
    ticket = get_ticket(ref)
    person = None
    if request.get_data(cache=True):  # no body: the caller
        body = json_object({"user"})
        if "user" in body:
            person = named_person(body["user"])
    added = watch_service.watch(api_user(), ticket, person)
    return watchers_response(ticket, 201 if added else 200)


@bp.delete("/tickets/<ref>/watchers")
@access(API)
def unwatch_ticket(ref):
    """The caller, or the user `?user=` names, stops watching (204, also when they were not watching).
    Only admins remove someone else."""
    ticket = get_ticket(ref)
    person = named_person(request.args["user"]) if "user" in request.args else None
    watch_service.unwatch(api_user(), ticket, person)
    return "", 204
