"""The application factory."""
from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined

from . import config as config_module
from .db import sqlite  # noqa: F401  (its engine listeners configure SQLite connections)
from .db import redact  # noqa: F401  (its engine listener keeps row values out of error text)
from .db.search_schema import include_name
from .db.utc import render_migration_type
from .extensions import csrf, login_manager, migrate
from .extensions import db as sqlalchemy_db  # `db` here is the webapp.db package
from .http.json import OrjsonProvider
from .http.sessions import PageSessions

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app from the environment, then apply `overrides` (tests use this)."""
    overrides = dict(overrides or {})
    settings = config_module.from_env(env=overrides.pop("ENV_VARS", None))
    settings.update(overrides)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=settings["INSTANCE_PATH"],
    )
    app.config.update(settings)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    app.json = OrjsonProvider(app)  # keys in the order built
    app.session_interface = PageSessions()
    if app.config.get("TESTING"):
        app.jinja_env.undefined = StrictUndefined

    sqlalchemy_db.init_app(app)
    migrate.init_app(
        app, sqlalchemy_db, directory=str(ROOT / "migrations"), render_as_batch=True,
        compare_type=True, render_item=render_migration_type, include_name=include_name,
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    csrf.init_app(app)

    _register_blueprints(app)
    from . import cli, jobs, ops, ratelimit
    from .auth.access import check_declarations
    from .db import pool, reuse
    from .http import errors, plain_http
    from .services import attachment_store, egress
    from .ui import templating

    egress.parse_networks(app.config["WEBHOOK_ALLOWED_NETWORKS"])  # a typo stops the app here
    attachment_store.check_setting(app.config["ATTACHMENT_STORAGE"])  # and here
    ops.init_app(app)
    ratelimit.init_app(app)
    scheduler = jobs.init_app(app)
    pool.init_app(app)
    reuse.init_app(app)
    _register_request_hooks(app, scheduler=scheduler)
    errors.register(app)
    plain_http.check_at_start(app)
    templating.register(app)
    cli.register(app)
    check_declarations(app)
    return app


def _register_request_hooks(app: Flask, *, scheduler) -> None:
    """Every before/after/teardown request hook of the app, here and nowhere else, in the order they run.

    Before a request: 1. the latency timer (it measures everything after it); 2. the request id (log
    lines and refusals carry it); 3. the body limit (MAX_CONTENT_LENGTH, or the upload limit on routes taking files), a streamed (chunked) body read and held to it,
    before anything parses it; then Flask-WTF's CSRF check (registered by the extension); 4. the
    embedded scheduler's start, once; 5. the API key's rate budget (before the access check, so
    refused calls spend budget too); 6. the route's declared access policy.
    After it (Flask calls these in the reverse of the order they are registered; listed as they run):
    1. the X-RateLimit-* headers; 2. the latency observation; 3. the request id and security headers;
    then Flask-Login's remember-cookie update (registered by the extension).
    """
    from .api.ratelimit import budget_headers, spend_budget
    from .auth.access import enforce_access
    from .http.bodies import cap_request_body
    from .ops.http import finish_response, start_request
    from .ops.metrics import observe, start_timer

    # Ahead of the hooks extensions registered at init (Flask-WTF's CSRF check), so refusals are timed too.
    app.before_request_funcs.setdefault(None, [])[:0] = [start_timer, start_request, cap_request_body]
    for hook in (*([scheduler.ensure_started] if scheduler else []), spend_budget, enforce_access):
        app.before_request(hook)
    for hook in reversed((budget_headers, observe, finish_response)):
        app.after_request(hook)


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .web import bp as web_bp
    from .webhooks import bp as webhooks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(webhooks_bp, url_prefix="/admin/webhooks")
    csrf.exempt(api_bp)  # key-authenticated only: no cookie, so no cross-site forgery
    app.register_blueprint(api_bp, url_prefix="/api")
