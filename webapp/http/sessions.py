"""Cookie sessions for pages only: a JSON API call is authenticated by its key and never reads or
writes the session, so no session cookie is verified (or signed again) for it."""
from flask.sessions import SecureCookieSessionInterface

API_PAGES = ("/api/docs",)  # HTML under /api, whose header shows who is signed in


def is_api_path(path: str) -> bool:
    """The JSON API's paths: their callers present a key, and they answer JSON, errors too."""
    return path == "/api" or path.startswith("/api/")


class PageSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, and a read-only empty one for JSON API calls."""

    def open_session(self, app, request):
        if is_api_path(request.path) and request.path not in API_PAGES:
            return self.make_null_session(app)
        return super().open_session(app, request)
