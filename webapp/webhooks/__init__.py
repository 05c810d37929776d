"""Admin pages for webhooks, mounted at /admin/webhooks: receivers, their deliveries, redelivery."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from . import routes  # noqa: E402,F401
