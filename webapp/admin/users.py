"""Users and service accounts: list, create, edit, (de)activate, reset passwords, rotate keys."""
from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for

from ..auth.access import ADMIN, access
from ..models import Role, User
from ..services import users as user_service
from . import bp
from .helpers import actor, attempt, no_store

ROLE_LABELS = {Role.ADMIN: "Admin", Role.AGENT: "Agent", Role.SERVICE: "Service account"}
USER_FIELDS = ("username", "display_name", "role", "password")


@bp.get("/users")
@access(ADMIN)
def users():
    return render_template("admin/users.html", users=user_service.admin_user_list(), role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@access(ADMIN)
def user_new():
    if request.method == "GET":
        role = request.args.get("role", Role.AGENT.value)
        return _new_page({"role": role if role in Role.__members__ else Role.AGENT.value}, {})
    values = {field: request.form.get(field, "") for field in USER_FIELDS}
    created, error = attempt(user_service.create_user, actor(), **values)
    if error:
        return _new_page({**values, "password": ""}, error.fields or {"username": error.message}, 422)
    user, key = created
    if key:
        return _key_page(user, key, created=True)
    flash(f"Created {ROLE_LABELS[user.role].lower()} {user.display_name} (@{user.username}).", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


def _new_page(values: dict, errors: dict, status: int = 200):
    values = {field: values.get(field, "") for field in USER_FIELDS}
    return render_template("admin/user_new.html", values=values, errors=errors, role_labels=ROLE_LABELS), status


ISSUED_KEY = "issued_api_key"


def _key_page(user: User, key: str, *, created: bool):
    """After the POST, the key's own page (so a reload or Back never re-posts the form). The key
    rides in the signed, HttpOnly session cookie for that one redirect and is gone once shown."""
    session[ISSUED_KEY] = {"user": user.id, "key": key, "created": created}
    return no_store(redirect(url_for("admin.user_key_once", user_id=user.id), 303))


@bp.get("/users/<int:user_id>/key/once")
@access(ADMIN)
def user_key_once(user_id: int):
    """The only time a key is ever shown: taken out of the session as it is rendered."""
    user = user_service.get_user(user_id)
    issued = session.pop(ISSUED_KEY, None)
    if not issued or issued.get("user") != user.id:
        flash("That API key was shown once and is not kept. Generate a new one if it was not stored.", "info")
        return redirect(url_for("admin.user_edit", user_id=user.id), 303)
    page = render_template("admin/key_once.html", user=user, key=issued["key"], created=issued["created"])
    return no_store(make_response(page))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@access(ADMIN)
def user_edit(user_id: int):
    user = user_service.get_user(user_id)
    if request.method == "GET":
        return _edit_page(user)
    values = {"display_name": request.form.get("display_name", ""), "role": request.form.get("role")}
    if user.is_service:  # only keys have a budget
        values["api_rate_limit"] = request.form.get("api_rate_limit", "")
    _, error = attempt(user_service.update_user, actor(), user, **values)
    if error:
        return _edit_page(user, errors=error.fields or {"display_name": error.message}, values=values, status=422)
    flash(f"Saved {user.display_name}.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


def _edit_page(user: User, *, errors: dict | None = None, values: dict | None = None, status: int = 200):
    """One place builds the edit page's context, so every path renders the same template safely."""
    admin = actor()
    context = {
        "user": user,
        "errors": errors or {},
        "values": {"display_name": user.display_name, "role": user.role,
                   "api_rate_limit": user.api_rate_limit or "", **(values or {})},
        "default_api_rate_limit": current_app.config["API_RATE_LIMIT"],
        "role_labels": ROLE_LABELS,
        "demotion_refusal": (
            user_service.role_change_refusal(admin, user, Role.AGENT) if user.role == Role.ADMIN else None
        ),
        "deactivation_refusal": user_service.deactivation_refusal(admin, user) if user.active else None,
    }
    return render_template("admin/user_edit.html", **context), status


@bp.post("/users/<int:user_id>/password")
@access(ADMIN)
def user_password(user_id: int):
    user = user_service.get_user(user_id)
    _, error = attempt(user_service.reset_password, actor(), user, request.form.get("password", ""))
    if error:
        return _edit_page(user, errors=error.fields or {"password": error.message}, status=422)
    flash(f"New password set for {user.display_name}. Pass it on through a private channel.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/deactivate")
@access(ADMIN)
def user_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@access(ADMIN)
def user_reactivate(user_id: int):
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    user = user_service.get_user(user_id)
    _, error = attempt(user_service.set_active, actor(), user, active)
    if error:
        return _edit_page(user, errors=error.fields or {"active": error.message}, status=422)
    if active:
        flash(f"{user.display_name} is active again.", "success")
    else:
        flash(f"{user.display_name} is deactivated: signed out and keys refused from now on.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id), 303)


@bp.route("/users/<int:user_id>/key", methods=["GET", "POST"])
@access(ADMIN)
def user_key(user_id: int):
    user = user_service.get_user(user_id)
    if request.method == "GET":
        return render_template("admin/key_confirm.html", user=user, error=None)
    key, error = attempt(user_service.regenerate_service_key, actor(), user)
    if error:
        return render_template("admin/key_confirm.html", user=user, error=error.message), 422
    return _key_page(user, key, created=False)
