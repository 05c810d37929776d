"""Drive one scenario with wrk: write its Lua script, run it, parse the numbers it prints."""
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# `response` counts every status outside 2xx (wrk's own counter lets 3xx through); `done`
# adds up the per-thread counters, which live in separate Lua states.
LUA = """\
local method = {method}
local body = {body}
local headers = {{{headers}}}
local paths = {{{paths}}}
local i = 0
non2xx = 0  -- global: done() reads it from each thread with thread:get
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  i = i % #paths + 1
  return wrk.format(method, paths[i], headers, body)
end

function response(status, _, _)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("non2xx")
  end
  io.write(string.format("non2xx %d\\n", total))
end
"""
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Result:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int


def lua_string(text: str | None) -> str:
    """A Lua string literal (LuaJIT: no \\u escapes, so every other byte as \\ddd)."""
    if text is None:
        return "nil"
    out = []
    for byte in text.encode():
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def script(method: str, paths: list[str], headers: dict[str, str], body: str | None) -> str:
    return LUA.format(
        method=lua_string(method),
        body=lua_string(body),
        headers=", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items()),
        paths=", ".join(lua_string(p) for p in paths),
    )


def run(url: str, lua_path: Path, *, threads: int, connections: int, duration: str) -> Result:
    """Run wrk against `url` (always 127.0.0.1) and return its numbers."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"benchmarks only talk to 127.0.0.1, not {url}")
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency", "-s", str(lua_path), url]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse(completed.stdout)


def parse(output: str) -> Result:
    """Read wrk --latency output (plus our script's non2xx line)."""
    def number(pattern: str, default=None):
        match = re.search(pattern, output)
        if match is None:
            if default is None:
                raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
            return default
        return match.groups()

    errors = number(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", ("0",) * 4)
    return Result(
        requests=int(number(r"(\d+) requests in")[0]),
        rps=float(number(r"Requests/sec:\s+([\d.]+)")[0]),
        p50_ms=_ms(*number(r"\s50(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b")),
        p99_ms=_ms(*number(r"\s99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b")),
        non2xx=int(number(r"non2xx (\d+)")[0]),
        socket_errors=sum(int(n) for n in errors),
    )


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]
