"""The JSON API for automation, authenticated by X-Api-Key."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import routes  # noqa: E402,F401
