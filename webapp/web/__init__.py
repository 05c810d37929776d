"""The agent web UI: dashboard, ticket pages, ticket actions and comments."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from . import actions, attachments, bulk, comments, dashboard, links, notifications, reports, saved_views, tickets  # noqa: E402,F401
