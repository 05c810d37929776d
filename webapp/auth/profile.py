"""A person's own account: change the password, sign out everywhere."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from ..services import ValidationError
from ..services import users as user_service
from ..services.base import rollback
from . import bp, throttle
from .access import STAFF, access


def _me():
    """The signed-in person, as a plain model object (with the sign-in this request carries)."""
    return current_user._get_current_object()


def _page(errors: dict, status: int = 200):
    return render_template("auth/profile.html", errors=errors), status


@bp.get("/profile")
@access(STAFF)
def profile():
    return _page({})


@bp.post("/profile/password")
@access(STAFF)
def change_password():
    """The current password is checked under the sign-in budgets, as on the login form."""
    me = _me()
    reservation, wait = throttle.reserve_password_check(me.username)
    if reservation is None:
        message = f"Too many wrong passwords for this account. Try again in {throttle.wait_phrase(wait)}."
        page, _ = _page({"current_password": message}, 429)
        return page, 429, {"Retry-After": str(wait)}
    try:
        user_service.change_own_password(me, current_password=request.form.get("current_password"),
                                         password=request.form.get("password"))
    except ValidationError as exc:
        rollback()
        if "current_password" not in exc.fields:  # the current password was right
            throttle.password_was_right(reservation, me.username)
        return _page(exc.fields, 422)
    throttle.password_was_right(reservation, me.username)
    flash("Password changed. Every other browser signed in as you is signed out; this one stays.", "success")
    return redirect(url_for("auth.profile"), 303)


@bp.post("/profile/sign-out-everywhere")
@access(STAFF)
def sign_out_everywhere():
    user_service.sign_out_everywhere(_me())
    logout_user()
    flash("You are signed out everywhere, this browser too.", "info")
    return redirect(url_for("auth.login"), 303)
