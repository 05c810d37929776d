"""Users, to look up an assigneeId, and the caller's own identity."""
from flask import jsonify

from ..auth.access import API, access, api_user
from ..services.users import USER_ORDER, users_query
from . import bp
from .pagination import page_response
from .parsing import query_flag, query_text
from .serializers import user_json


@bp.get("/users")
@access(API)
def list_users():
    """Active users by username (?username= finds one; includeInactive=true lists everyone)."""
    query = users_query(include_inactive=query_flag("includeInactive"), username=query_text("username"))
    return page_response("users", query, USER_ORDER, user_json)


@bp.get("/me")
@access(API)
def me():
    """Who the presented API key belongs to: a cheap way for automation to test its key."""
    return jsonify(user_json(api_user()))
