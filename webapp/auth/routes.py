"""Login and logout pages."""
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired

from ..extensions import login_manager
from ..models import Role, User
from ..services.users import authenticate, session_user, sign_out
from . import bp
from .access import PUBLIC, STAFF, access
from .throttle import forgive_account


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter your username.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in")


login_manager.id_attribute = "session_identity"  # cookies carry the sign-in, not just the user id


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """Sessions belong to active people's live sign-ins only: signing out, a password change or
    reset, deactivation or a role change logs a session out on its next request."""
    user = session_user(identity)
    if user is None or not user.active or user.role == Role.SERVICE:
        return None
    return user


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if not target:
        return url_for("web.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.dashboard")
    return target


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            forgive_account()
            login_user(user, remember=form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(safe_next(request.args.get("next")), 303)
        error = "That username and password do not match an active account."
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@access(STAFF)
def logout():
    sign_out(current_user._get_current_object())
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)
