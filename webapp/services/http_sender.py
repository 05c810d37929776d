"""Webhook POSTs, over kept-alive connections that only ever reach addresses checked for their batch.

`check_targets` resolves each target (scheme, host, port) of a batch once and checks every address
(egress.py); each delivery of that batch is then sent only to one of those addresses, with the
URL's host name in the Host header, TLS SNI and the certificate check. An idle connection is kept
per (scheme, host, port, the address it reached) and reused only while that address is among the
ones checked for the delivery's own batch, so a name that changes its answer (DNS rebinding)
reaches nothing new and an allowance removed since is honoured by the next batch; a kept
connection never reconnects by itself (it would go to addresses checked for an earlier batch).
A redirect is an answer to fix at the receiver: it counts as a failure and is not followed.
"""
import http.client
import select
import threading
import time
from dataclasses import dataclass

from . import egress
from .errors import ValidationError
from .webhook_payload import Outgoing, sign

ERROR_MAX = 300  # the whole last_error of a delivery
EXCERPT_MAX = 200  # of it, the start of a failed answer's body
REASON_MAX = 60  # and its reason phrase
DRAIN_MAX = 64 * 1024  # a longer answer body closes its connection instead of being read to the end
USER_AGENT = "Ticketing-Webhooks/1.0"
# What a kept connection the receiver closed while it was idle fails with, before any answer.
_CLOSED_WHILE_IDLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass(frozen=True)
class Answer:
    """How one attempt went: the HTTP status (if any), the error to store (None: delivered), and
    the error as a log line may show it (no part of the receiver's body)."""

    status_code: int | None
    error: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class Checked:
    """A webhook URL's target with the addresses its batch checked, or why nothing may be sent to it."""

    target: egress.Target | None
    addresses: tuple[str, ...] = ()
    refusal: str | None = None


def check_targets(urls) -> dict[str, Checked]:
    """Each URL's target, resolved and checked once per (scheme, host, port) among `urls`."""
    checked: dict[str, Checked] = {}
    per_target: dict[tuple, Checked] = {}
    for url in dict.fromkeys(urls):
        try:
            target = egress.parse(url)
        except ValidationError as exc:  # a URL stored before today's rules
            checked[url] = Checked(None, refusal=clip(f"Refused, nothing sent: {exc.fields['url']}"))
            continue
        key = (target.scheme, target.host, target.port)
        if key not in per_target:
            per_target[key] = _resolve_and_check(target)
        found = per_target[key]
        checked[url] = Checked(target, found.addresses, found.refusal)
    return checked


def _resolve_and_check(target: egress.Target) -> Checked:
    try:
        return Checked(target, tuple(egress.checked_addresses(target)))
    except egress.Refused as exc:
        return Checked(target, refusal=clip(str(exc)))
    except (OSError, UnicodeError) as exc:  # UnicodeError: a name the resolver cannot encode
        return Checked(target, refusal=clip(f"Could not resolve {target.host}: {exc}"))


def post(outgoing: Outgoing, timeout: float, on_answer=None) -> tuple[int | None, str | None]:
    """One attempt on a connection of its own: resolve and check, connect, POST, close.
    Returns (HTTP status or None, error text or None on success); `on_answer` (a test event) also
    gets the start of a successful answer's body."""
    checked = check_targets([outgoing.url])[outgoing.url]
    connections = Connections(timeout, keep_alive=False)
    answer = connections.send(outgoing, checked, on_answer)
    return answer.status_code, answer.error


class Connections:
    """Idle keep-alive connections per (scheme, host, port, address reached), shared by a run's sending threads."""

    def __init__(self, timeout: float, keep_alive: bool = True):
        self.timeout, self.keep_alive = timeout, keep_alive
        self._idle: dict[tuple, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(self, outgoing: Outgoing, checked: Checked, on_answer=None) -> Answer:
        """POST `outgoing` to its checked target: on a kept connection to a checked address if there
        is one (once more on a new connection if the receiver had closed it unanswered), else a new one."""
        if checked.refusal is not None:
            return Answer(None, checked.refusal, checked.refusal)
        kept = self._take(checked)
        if kept is not None:
            try:
                return self._exchange(kept, checked, outgoing, on_answer)
            except _CLOSED_WHILE_IDLE:
                pass  # closed while idle: nothing was answered, so it goes again on a new connection
            except (OSError, http.client.HTTPException) as exc:
                return broken(exc)
        conn = egress.connection(checked.target, list(checked.addresses), self.timeout)
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            return broken(exc, "Could not connect: ")
        conn.auto_open = 0  # never reconnect by itself, to addresses checked for this batch only
        try:
            return self._exchange(conn, checked, outgoing, on_answer)
        except (OSError, http.client.HTTPException) as exc:
            return broken(exc)

    def _exchange(self, conn: http.client.HTTPConnection, checked: Checked, outgoing: Outgoing,
                  on_answer=None) -> Answer:
        try:
            answer, reusable = exchange(conn, checked.target.path, outgoing, self.keep_alive, on_answer)
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._give_back(checked.target, conn)
        else:
            conn.close()
        return answer

    def _take(self, checked: Checked) -> http.client.HTTPConnection | None:
        """An idle connection to one of `checked.addresses`; idle ones to any other address of the
        target are closed (the batch's check no longer vouches for them)."""
        target = checked.target
        with self._lock:
            for key in [k for k in self._idle if k[:3] == (target.scheme, target.host, target.port)]:
                if key[3] not in checked.addresses:
                    _close_all(self._idle.pop(key))
            for address in checked.addresses:
                idle = self._idle.get((target.scheme, target.host, target.port, address), [])
                while idle:
                    conn = idle.pop()
                    if _still_open(conn):
                        return conn
                    conn.close()
        return None

    def _give_back(self, target: egress.Target, conn: http.client.HTTPConnection) -> None:
        try:
            address = conn.sock.getpeername()[0]
        except OSError:  # gone already: nothing to keep
            conn.close()
            return
        with self._lock:
            self._idle.setdefault((target.scheme, target.host, target.port, address), []).append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            _close_all(conns)


def _close_all(conns) -> None:
    for conn in conns:
        conn.close()


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """An idle connection with nothing to read: anything readable is the receiver closing it (or noise)."""
    if conn.sock is None:
        return False
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def exchange(conn: http.client.HTTPConnection, path: str, outgoing: Outgoing,
             keep_alive: bool = True, on_answer=None) -> tuple[Answer, bool]:
    """Send one signed POST and read its answer; also says whether the connection can carry another.
    `on_answer` gets the start of a successful answer's body (the connection is then not reused)."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Ticketing-Event-Id": str(outgoing.event_id),
        "X-Ticketing-Event": outgoing.action,
        "X-Ticketing-Delivery-Id": str(outgoing.delivery_id),
        "X-Ticketing-Attempt": str(outgoing.attempt),
        "X-Ticketing-Timestamp": str(timestamp),
        "X-Ticketing-Signature": sign(outgoing.secret, timestamp, outgoing.body),
    }
    if not keep_alive:
        headers["Connection"] = "close"
    conn.request("POST", path, body=outgoing.body, headers=headers)
    response = conn.getresponse()
    if 200 <= response.status < 300:
        if on_answer is not None:
            on_answer(excerpt(response.read(EXCERPT_MAX * 4)))
            return Answer(response.status), False
        return Answer(response.status), keep_alive and _read_to_end(response)
    detail = excerpt(response.read(EXCERPT_MAX * 4))  # enough bytes for EXCERPT_MAX characters of UTF-8
    summary = clip(f"HTTP {response.status} {clip(response.reason, REASON_MAX)}")
    error = clip(summary + (f": {detail}" if detail else ""))
    return Answer(response.status, error, summary), keep_alive and _read_to_end(response)


def _read_to_end(response: http.client.HTTPResponse) -> bool:
    """Read what is left of a short answer, so its connection can carry the next request."""
    if response.will_close:
        return False
    try:
        response.read(DRAIN_MAX)
    except (OSError, http.client.HTTPException):  # the answer is in; only the connection is lost
        return False
    return response.isclosed()


def broken(exc: Exception, prefix: str | None = None) -> Answer:
    """A failed attempt without an answer (a refused connection, a timeout …)."""
    text = clip((prefix or f"{type(exc).__name__}: ") + str(exc))
    return Answer(None, text, text)


def excerpt(raw: bytes) -> str:
    """The start of a failed answer's body, all we keep of it: one line, at most EXCERPT_MAX characters."""
    return clip(raw.decode("utf-8", "replace"), EXCERPT_MAX)


def clip(text: str, limit: int = ERROR_MAX) -> str:
    """Text from outside, printable and on one line (PostgreSQL refuses NUL), cut to `limit`."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
