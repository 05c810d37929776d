"""Drive one scenario with wrk: write its Lua script, run it, parse the numbers it prints."""
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# `response` counts every status outside 2xx by code (wrk's own counter lets 3xx through);
# `done` adds up the per-thread counters, which live in separate Lua states.
LUA = """\
local method = {method}
local body = {body}
local headers = {{{headers}}}
local paths = {{{paths}}}
-- globals, so setup() and done() can reach them in each thread's own Lua state
i = 0
non2xx = {{}}
local threads = {{}}

function setup(thread)
  table.insert(threads, thread)
  thread:set("i", (#threads - 1) * 97)  -- threads start apart, not on the same ticket
end

function request()
  i = i % #paths + 1
  return wrk.format(method, paths[i], headers, body)
end

function response(status, _, _)
  if status < 200 or status > 299 then
    non2xx[status] = (non2xx[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total = {{}}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("non2xx")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("status %d %d\\n", status, count))
  end
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
    statuses: dict[int, int]  # the non-2xx answers by status code
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

    statuses = {int(code): int(count) for code, count in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    errors = number(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", ("0",) * 4)
    return Result(
        requests=int(number(r"(\d+) requests in")[0]),
        rps=float(number(r"Requests/sec:\s+([\d.]+)")[0]),
        p50_ms=_ms(*number(r"\s50(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b")),
        p99_ms=_ms(*number(r"\s99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b")),
        non2xx=sum(statuses.values()),
        statuses=statuses,
        socket_errors=sum(int(n) for n in errors),
    )


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]
