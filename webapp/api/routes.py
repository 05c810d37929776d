"""API routes."""
from flask import jsonify

from ..auth.access import API, access, api_user
from . import bp


def user_json(user) -> dict:
    return {
        "id": user.id, "username": user.username, "displayName": user.display_name,
        "role": user.role, "active": user.active,
    }


@bp.get("/me")
@access(API)
def me():
    """Who the presented API key belongs to: a cheap way for automation to test its key."""
    return jsonify(user_json(api_user()))
