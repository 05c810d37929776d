"""Helpers for the operations tests: required services, free ports, metric parsing."""
import os
import re
import socket
from pathlib import Path

import pytest

# What an operator command prints for a secret when stdout is not a terminal (webapp/ops/one_time_secrets.py).
SECRET_WRITTEN = re.compile(r"^(?P<label>.+): written to (?P<path>\S+) \(readable by you only", re.M)


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


def one_time_secret(output: str, label: str) -> str:
    """The secret a command run off a terminal put in its mode-600 file, found by the output's label."""
    found = {m["label"]: Path(m["path"]) for m in SECRET_WRITTEN.finditer(output)}
    lines = found[label].read_text().splitlines()
    return next(line.removeprefix(f"{label}: ") for line in lines if line.startswith(f"{label}: "))
