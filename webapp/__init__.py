"""The application factory."""
from pathlib import Path

from flask import Flask
from jinja2 import StrictUndefined
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_module
from .extensions import csrf, db, login_manager, migrate
from .json_answers import OrjsonProvider
from .sessions import PageSessions
from .timeutil import render_migration_type

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
    app.json = OrjsonProvider(app)  # keys in the order built; a page of tickets in a tenth of the time
    app.session_interface = PageSessions()
    if app.config.get("TESTING"):
        app.jinja_env.undefined = StrictUndefined

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
        compare_type=True, render_item=render_migration_type,
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    csrf.init_app(app)

    _register_blueprints(app)
    from . import cli, db_reuse, errors, jobs, ops, ratelimit, templating
    from .auth.access import check_declarations, enforce_access

    ops.init_app(app)  # request ids, headers and probes wrap everything, so they come first
    ratelimit.init_app(app)  # before the access check, so refused API calls spend budget too
    app.before_request(enforce_access)
    jobs.init_app(app)
    db_reuse.init_app(app)
    errors.register(app)
    templating.register(app)
    cli.register(app)
    check_declarations(app)
    return app


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


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait instead of failing on locks."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None  # let SQLAlchemy issue BEGIN (savepoints work)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: take the write lock up front. A deferred BEGIN that reads, then writes after another
    thread's commit (a request beside an in-process job) fails at once with "database is locked";
    an IMMEDIATE one waits its turn under busy_timeout instead. A connection may ask for a plain
    deferred BEGIN with the execution option sqlite_begin="DEFERRED" (the test harness does)."""
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")
