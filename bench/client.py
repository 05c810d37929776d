"""A tiny HTTP client for 127.0.0.1: probes, readiness, and signing in to get a session for wrk."""
import http.client
import re
import socket
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """Keeps cookies by hand: production cookies are Secure, and this talks plain HTTP to localhost."""

    def __init__(self, base: str):
        parts = urlsplit(base)
        if parts.hostname != "127.0.0.1":
            raise ValueError(f"benchmarks only talk to 127.0.0.1, not {base}")
        self.port = parts.port
        self.cookies: dict[str, str] = {}
        self.csrf_token = ""

    def request(self, method: str, path: str, *, headers: dict | None = None, body: str | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body.encode() if body is not None else None, headers=headers or {})
            response = conn.getresponse()
            result = Response(response.status, response.headers, response.read().decode(errors="replace"))
        finally:
            conn.close()
        return result

    def _remember(self, response: Response) -> Response:
        """Only the sign-in exchange updates the jar; probes must not replace the session."""
        for raw in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                self.cookies[name] = morsel.value
        return response

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def wait_ready(self, timeout: float, alive=lambda: True) -> None:
        deadline = time.monotonic() + timeout
        while alive():
            try:
                if self.request("GET", "/login").status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not answer GET /login in time; see bench/out/server.log")
            time.sleep(0.2)
        raise RuntimeError("the app exited while starting; see bench/out/server.log")

    def login(self, username: str, password: str) -> None:
        """Sign in through the real form, then read the CSRF token htmx would send."""
        page = self._remember(self.request("GET", "/login"))
        token = CSRF_INPUT.search(page.body)
        if token is None:
            raise RuntimeError("no csrf_token field on /login")
        form = urlencode({"username": username, "password": password, "csrf_token": token.group(1)})
        answer = self._remember(self.request("POST", "/login", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie_header()}))
        if answer.status != 303:
            raise RuntimeError(f"login as {username} answered {answer.status}, expected 303")
        home = self._remember(self.request("GET", "/", headers={"Cookie": self.cookie_header()}))
        meta = CSRF_META.search(home.body)
        if home.status != 200 or meta is None:
            raise RuntimeError(f"signed-in GET / answered {home.status} without a csrf-token meta tag")
        self.csrf_token = meta.group(1)
