"""Where webhooks may send: a plain http(s) URL whose host resolves to no forbidden address.

Checked when a webhook is saved and again at every delivery, which resolves the name once, checks
every address and connects only to those (never resolving again), so a name that changes its
answer (DNS rebinding) cannot lead a delivery to loopback, link-local (cloud metadata),
unspecified or multicast addresses. WEBHOOK_ALLOWED_NETWORKS opens chosen ranges; private
networks (10/8, 172.16/12, 192.168/16, fc00::/7) are allowed as they are.
"""
import http.client
import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial
from urllib.parse import urlsplit

from flask import current_app

from .errors import ValidationError

URL_MAX = 500
Resolver = Callable[[str, int], Iterable[str]]

_FORBIDDEN = tuple(
    (ipaddress.ip_network(cidr), kind)
    for kind, cidrs in (
        ("loopback", ("127.0.0.0/8", "::1/128")),
        ("link-local", ("169.254.0.0/16", "fe80::/10")),  # 169.254.169.254: cloud metadata
        ("unspecified", ("0.0.0.0/8", "::/128")),
        ("multicast", ("224.0.0.0/4", "ff00::/8")),
    )
    for cidr in cidrs
)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_BRACKETED = re.compile(r"\[[0-9a-f:.]+\](?::[0-9]*)?")
_EXAMPLE = "e.g. https://n8n.example.com/webhook/…"


class Refused(Exception):
    """A delivery whose URL or resolved address webhooks may not use; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL, split into what a connection and its request line need."""

    scheme: str
    host: str  # a name or an IP address, without brackets
    port: int
    path: str  # path and query, as sent in the request line


def _invalid(message: str) -> ValidationError:
    return ValidationError({"url": message})


def parse(value) -> Target:
    """Split a webhook URL, refusing (422, on `url`) anything but a plain http(s) URL."""
    url = value if isinstance(value, str) else ""
    if not url:
        raise _invalid(f"Give a full http:// or https:// URL, {_EXAMPLE}")
    if len(url) > URL_MAX:
        raise _invalid(f"Use a URL of at most {URL_MAX} characters.")
    if not all("!" <= ch <= "~" for ch in url):
        raise _invalid("Remove spaces and control characters from the URL; percent-encode anything "
                       "else outside ASCII, and write an international host name in its xn-- form.")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. http://[::1/
        raise _invalid(f"This URL is malformed ({exc}); {_EXAMPLE}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(f"Give a full http:// or https:// URL, {_EXAMPLE}")
    if "@" in parts.netloc:
        raise _invalid("Leave the user and password out of the URL: the signature authenticates "
                       "each delivery (see the webhook docs).")
    port = _port(parts)
    if not _valid_host(parts):
        raise _invalid(f"“{parts.hostname}” is not a valid host name or IP address.")
    default_port = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or default_port, path)


def _valid_host(parts) -> bool:
    """A host name (underscores allowed, as in compose service names), an IPv4 address, or an IPv6 one in brackets."""
    if not parts.netloc.startswith("["):
        return bool(_HOST_NAME.fullmatch(parts.hostname))
    try:
        ipaddress.IPv6Address(parts.hostname)
    except ValueError:
        return False
    return bool(_BRACKETED.fullmatch(parts.netloc.lower()))  # nothing between "]" and the port; no %zone


def _port(parts) -> int | None:
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        port = 0
    if port is not None and not 1 <= port <= 65535:
        raise _invalid("Use a port from 1 to 65535, or none for the scheme's own.")
    return port


def check_url(value) -> str:
    """The URL to store (surrounding spaces dropped): well formed, and its host resolves to no
    forbidden address. A name that does not resolve now is accepted: each delivery checks again."""
    url = value.strip() if isinstance(value, str) else ""
    target = parse(url)
    try:
        addresses = _resolve(target)
    except (OSError, UnicodeError):  # UnicodeError: a name the resolver cannot encode
        return url
    problem = _first_refusal(target, addresses)
    if problem:
        raise _invalid(problem)
    return url


def checked_addresses(target: Target) -> list[str]:
    """Resolve the host once and check every address; OSError if it does not resolve, Refused if one is forbidden."""
    addresses = _resolve(target)
    if not addresses:
        raise socket.gaierror(f"no address for {target.host}")
    problem = _first_refusal(target, addresses)
    if problem:
        raise Refused(f"Refused, nothing sent: {problem}")
    return addresses


def connection(target: Target, addresses: list[str], timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection that connects only to `addresses` (already checked), while the Host
    header, TLS SNI and the certificate check still use the URL's host name."""
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    conn = kind(target.host, target.port, timeout=timeout)
    # http.client's connect() opens its socket through this attribute, with the host name.
    conn._create_connection = partial(_connect_to_first, addresses)
    return conn


def _connect_to_first(addresses: list[str], host_port, timeout, source_address) -> socket.socket:
    """socket.create_connection over the checked addresses in turn, never the name again."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, host_port[1]), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (the default WEBHOOK_RESOLVER)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [info[4][0] for info in infos]


def _resolve(target: Target) -> list[str]:
    resolver: Resolver = current_app.config.get("WEBHOOK_RESOLVER") or system_resolver
    return list(dict.fromkeys(resolver(target.host, target.port)))


def _first_refusal(target: Target, addresses: list[str]) -> str | None:
    """Why the first forbidden address among `addresses` may not be reached, or None."""
    for address in addresses:
        kind = forbidden_kind(address)
        if kind:
            where = f"{target.host} is" if _is_address(target.host) else f"{target.host} resolves to {address},"
            return (f"{where} a {kind} address, which webhooks may not reach; an operator can allow "
                    "it with WEBHOOK_ALLOWED_NETWORKS.")
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def forbidden_kind(address: str) -> str | None:
    """"loopback", "link-local", "unspecified" or "multicast" unless allowed; None for any other address."""
    ip = ipaddress.ip_address(address)
    ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(ip in network for network in allowed_networks()):
        return None
    return next((kind for network, kind in _FORBIDDEN if ip in network), None)


def allowed_networks() -> tuple:
    return parse_networks(current_app.config.get("WEBHOOK_ALLOWED_NETWORKS") or "")


@lru_cache(maxsize=16)
def parse_networks(value: str) -> tuple:
    """WEBHOOK_ALLOWED_NETWORKS, e.g. "127.0.0.0/8,::1/128"; a typo stops the app at start-up."""
    try:
        return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())
    except ValueError as exc:
        raise RuntimeError(f"WEBHOOK_ALLOWED_NETWORKS: {exc}") from None
