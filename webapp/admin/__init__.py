"""The admin panel: users and service accounts, the CTI tree, and the log of admin actions."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from . import attachments, cti, helpers, overview, users  # noqa: E402,F401
