"""The JSON API for automation, authenticated by X-Api-Key (see docs at /api/docs)."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import (  # noqa: E402,F401
    attachments, bulk, comments, cti, docs, errors, links, notifications, reports, saved_views, tickets, users, watchers,
)
