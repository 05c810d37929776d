"""The JSON API for automation, authenticated by X-Api-Key (see docs at /api/docs)."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import bulk, comments, cti, docs, errors, reports, saved_views, tickets, users  # noqa: E402,F401
