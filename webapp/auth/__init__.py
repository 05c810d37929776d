"""Sign-in for people (sessions) and API-key checks for automation."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import profile, routes  # noqa: E402,F401
