"""A person's own account: settings (name, email, time zone, theme), notifications, password, sign out everywhere."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from ..services import ValidationError, notify_prefs
from ..services import profile as profile_service
from ..services import users as user_service
from ..services.base import rollback
from . import bp, throttle
from .access import STAFF, access


def _me():
    """The signed-in person, as a plain model object (with the sign-in this request carries)."""
    return current_user._get_current_object()


def _page(errors: dict, status: int = 200, values: dict | None = None, anchor: str | None = None):
    me = _me()
    return render_template("auth/profile.html", errors=errors, values=values or {}, anchor=anchor,
                           modes=notify_prefs.modes(me), reasons=notify_prefs.REASONS,
                           mode_labels=notify_prefs.MODES, time_zones=profile_service.time_zones(),
                           mail_on=bool(current_app.config.get("SMTP_URL"))), status


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


@bp.post("/profile/settings")
@access(STAFF)
def update_settings():
    """Display name, email, time zone and theme; a bad value re-renders the form with the text kept."""
    fields = ("display_name", "email", "time_zone", "theme")
    values = {name: request.form.get(name, "") for name in fields}
    try:
        profile_service.update_profile(_me(), values)
    except ValidationError as exc:
        rollback()
        return _page(exc.fields, 422, values=values)
    flash("Your settings are saved.", "success")
    return redirect(url_for("auth.profile"), 303)


@bp.post("/profile/notifications")
@access(STAFF)
def update_notifications():
    chosen = {reason.value: request.form[reason.value] for reason in notify_prefs.REASONS if reason.value in request.form}
    try:
        profile_service.set_notification_modes(_me(), chosen)
    except ValidationError as exc:
        rollback()
        return _page(exc.fields, 422, anchor="notifications")
    flash("Your notification settings are saved.", "success")
    return redirect(url_for("auth.profile", _anchor="notifications"), 303)
