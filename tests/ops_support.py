"""Helpers for the operations tests: required services, free ports, metric parsing."""
import os
import re
import socket

import pytest


def require(value, reason: str):
    """Skip with `reason` when a service is not configured; under CI=true that is a failure."""
    if value:
        return value
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metric_value(exposition: str, name: str, **labels) -> float | None:
    """The value of one sample in Prometheus text format, matching every given label."""
    for line in exposition.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(key) == str(value) for key, value in labels.items()):
            return float(match.group(3))
    return None
