"""Sign-in for people (sessions) and API-key checks for automation."""
from flask import Blueprint

from ..http import plain_http

bp = Blueprint("auth", __name__)


@bp.context_processor
def _plain_http_advice() -> dict:
    """The sign-in pages say why signing in cannot work when Secure cookies meet plain http."""
    if not plain_http.cookies_lost_over_http():
        return {"plain_http_advice": None}
    plain_http.warn_once()
    return {"plain_http_advice": plain_http.advice()}


from . import profile, routes  # noqa: E402,F401
