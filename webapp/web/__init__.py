"""The agent web UI: dashboard and ticket pages."""
from flask import Blueprint

bp = Blueprint("web", __name__)

from . import routes  # noqa: E402,F401
