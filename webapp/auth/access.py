"""Every route declares who may call it; one before_request hook enforces the declaration."""
from functools import wraps

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user

from ..models import Role
from .throttle import count_bad_key

PUBLIC = "public"   # anyone, e.g. the login page and health checks
STAFF = "staff"     # a logged-in admin or agent (browser session)
ADMIN = "admin"     # a logged-in admin (browser session)
API = "api"         # any active user presenting a valid X-Api-Key
POLICIES = (PUBLIC, STAFF, ADMIN, API)


def access(policy: str):
    """Declare a view's policy; create_app refuses to start if any view lacks one."""
    if policy not in POLICIES:
        raise ValueError(f"unknown access policy {policy!r}")

    def decorate(view):
        view.access_policy = policy
        return view

    return decorate


def policy_for(endpoint: str | None) -> str | None:
    if endpoint is None:
        return PUBLIC  # no route matched: let the 404/405 handlers answer
    if endpoint == "static":
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def enforce_access():
    """before_request: apply the matched view's declared policy."""
    policy = policy_for(request.endpoint)
    if policy == PUBLIC:
        return None
    if policy == API:
        return _enforce_api_key()
    if not current_user.is_authenticated:
        if request.headers.get("HX-Request"):
            response = current_app.response_class(status=401)
            response.headers["HX-Redirect"] = url_for("auth.login", next=request.full_path)
            return response
        return redirect(url_for("auth.login", next=request.full_path))
    if policy == STAFF and current_user.role in (Role.ADMIN, Role.AGENT):
        return None
    if policy == ADMIN and current_user.role == Role.ADMIN:
        return None
    abort(403)


_KEY_HOLDER = "ticketing.key_holder"  # in the WSGI environ: it belongs to this request and no other


def key_holder():
    """The active user behind this request's X-Api-Key, or None: looked up once per request (the
    rate budget asks first, the access check next)."""
    if _KEY_HOLDER not in request.environ:
        from ..services.users import user_for_api_key

        key = request.headers.get("X-Api-Key")
        request.environ[_KEY_HOLDER] = user_for_api_key(key) if key else None
    return request.environ[_KEY_HOLDER]


def _enforce_api_key():
    key = request.headers.get("X-Api-Key")
    user = key_holder()
    if user is None:
        if key:
            count_bad_key()
        message = "Missing X-Api-Key header." if not key else "Unknown, revoked or deactivated API key."
        body = {"error": {"code": "unauthorized", "message": message, "fields": {}}}
        return jsonify(body), 401, {"WWW-Authenticate": 'ApiKey header="X-Api-Key"'}
    g.api_user = user
    return None


def check_declarations(app) -> None:
    """Fail at start-up when a route forgets to say who may call it."""
    missing = [
        rule.rule for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and getattr(app.view_functions[rule.endpoint], "access_policy", None) not in POLICIES
    ]
    if missing:
        raise RuntimeError(f"routes without an access policy: {', '.join(sorted(missing))}")


def api_user():
    """The user behind the current API request's key."""
    return g.api_user


def require_role(*roles: Role):
    """Narrow an API view to some roles (403 otherwise), after the key check."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if g.api_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate
