"""Error pages for people and JSON errors for the API; a 500 rolls back and hides details, and a
database outage is a 503 saying so, with Retry-After."""
import logging

from flask import jsonify, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ..extensions import db, login_manager
from ..services import Conflict, DomainError
from . import bodies, plain_http
from .sessions import is_api_path

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """API routes always answer JSON; HTML pages never do."""
    return is_api_path(request.path)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def register(app) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if wants_json():
            return jsonify(error_body(exc.code, exc.message, exc.fields)), exc.status
        return _page(exc.status, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        """Nothing was changed; say why in words a person can act on."""
        if plain_http.cookies_lost_over_http():
            plain_http.warn_once()
            return _page(400, f"{exc.description} {plain_http.advice()}")
        return _page(400, f"{exc.description} {CSRF_ADVICE}")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.response is not None:  # the raiser built the whole answer (the sign-in form at 429)
            return exc.response
        if exc.code == 413:
            exc.description = bodies.too_large_message(exc.description)
        if wants_json():
            code = (exc.name or "error").lower().replace(" ", "_")
            response = jsonify(error_body(code, exc.description or exc.name))
            response.status_code = exc.code or 500
            for header in ("Retry-After", "Allow", "WWW-Authenticate"):
                if exc.get_response().headers.get(header):
                    response.headers[header] = exc.get_response().headers[header]
            return response
        return _page(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(StaleDataError)
    def stale(exc: StaleDataError):
        """A versioned row changed under a flush that services.base.commit() did not wrap: still a 409."""
        return domain_error(Conflict("Someone else changed this at the same time; reload and retry."))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(exc: Exception):
        """Unreachable, restarting or saturated: say so and when to retry. The pool (pre-ping) heals
        itself once the database is back, so the next request after that succeeds without a restart."""
        _discard_session()
        log.error("database unavailable on %s %s: %s", request.method, request.path,
                  str(getattr(exc, "orig", None) or exc).splitlines()[0])
        headers = {"Retry-After": DATABASE_RETRY_SECONDS}
        if wants_json():
            return jsonify(error_body("database_unavailable", DATABASE_DOWN)), 503, headers
        # Render as anonymous: the page's header would otherwise load the signed-in user from the database.
        login_manager._update_request_context_with_user()
        response = _page(503, DATABASE_DOWN)
        response.headers.update(headers)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side. It has been logged; please try again."
        if wants_json():
            return jsonify(error_body("internal_error", message)), 500
        return _page(500, message)


CSRF_ADVICE = ("Nothing was changed: the form had expired or did not come from this site."
               " Reload the page and try again.")
DATABASE_DOWN = ("The database cannot be reached right now, so nothing can be shown or saved. "
                 "Please try again in a moment.")
DATABASE_RETRY_SECONDS = "5"


def _discard_session() -> None:
    """Drop the failed transaction; on a dead connection the pool has already invalidated it."""
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()


TITLES = {
    400: "Bad request", 401: "Sign in required", 403: "Not allowed", 404: "Not found",
    405: "Method not allowed", 409: "Changed meanwhile", 413: "Too large", 422: "Check your input",
    429: "Slow down", 500: "Server error", 503: "Unavailable",
}


def _page(status: int, message: str):
    """The error page; a partial htmx request gets just its card, shown where the action was."""
    from ..ui.rendering import render

    title = TITLES.get(status, "Error")
    return render("error.html", "error_card", status=status, code=status, title=title, message=message)
