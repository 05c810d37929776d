"""What every admin view shares: the acting admin, refusals shown in place, the admin tabs."""
from flask import current_app
from flask_login import current_user

from ..models import User
from ..services.base import rollback
from ..services.errors import DomainError
from . import bp


@bp.context_processor
def admin_nav() -> dict:
    """Webhooks live in their own blueprint; the admin tabs link to it when it is installed."""
    return {"admin_has_webhooks": "webhooks.index" in current_app.view_functions}


def attempt(action, *args, **kwargs):
    """Run one service call; on refusal discard its changes and return (None, error)."""
    try:
        return action(*args, **kwargs), None
    except DomainError as exc:
        rollback()
        return None, exc


def no_store(response):
    """Pages carrying a freshly issued secret must never be cached or restored from history."""
    response.headers["Cache-Control"] = "no-store"
    return response


def actor() -> User:
    """The signed-in admin, as a plain model object for the services."""
    return current_user._get_current_object()
