"""One JSON object per log line, carrying the request id, for the app and gunicorn's access log."""
import json
import logging
import os
import sys
from datetime import UTC, datetime

import orjson
from gunicorn.glogging import Logger as GunicornLogger

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def current_request_id() -> str | None:
    from flask import has_request_context

    from .http import request_id

    return request_id() if has_request_context() else None


class JsonFormatter(logging.Formatter):
    """Time (UTC), level, logger, message, request id, any `extra=` fields, and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and k != "request_id"})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(fmt: str = "json", level: str = "INFO") -> None:
    """Route the root logger (the app's and the libraries' loggers) to stderr in `fmt`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def configure_from_env() -> None:
    """`configure` as LOG_FORMAT (default json) and LOG_LEVEL (default INFO) say: every process's logging."""
    configure(os.environ.get("LOG_FORMAT", "json"), os.environ.get("LOG_LEVEL", "INFO"))


class JsonGunicornLogger(GunicornLogger):
    """gunicorn's logger with JSON error lines and a JSON access line per request."""

    def setup(self, cfg):
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        """One JSON line per request, with JsonFormatter's fields, written straight to the access
        handlers' streams (no LogRecord per request; docs/performance.md)."""
        if not self.access_log_enabled:
            return
        status = int(str(resp.status).split()[0])
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        pairs = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": self.access_log.name,
            "message": f"{method} {path} {status}",
            "process": os.getpid(),
            "request_id": next((value for name, value in pairs if name.lower() == "x-request-id"), None),
            "method": method,
            "path": path,
            "query": environ.get("QUERY_STRING") or None,
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "referer": environ.get("HTTP_REFERER"),
        }
        try:
            line = orjson.dumps(entry, default=str, option=orjson.OPT_APPEND_NEWLINE).decode()
        except orjson.JSONEncodeError:  # text orjson refuses (a lone surrogate): the forgiving encoder
            line = json.dumps(entry, default=str) + "\n"
        for handler in self.access_log.handlers:
            if not isinstance(handler, logging.StreamHandler):  # e.g. syslog: the usual way
                handler.handle(logging.makeLogRecord({"name": entry["logger"], "msg": line.rstrip()}))
                continue
            handler.acquire()  # gthread workers log from several threads
            try:
                handler.stream.write(line)
                handler.flush()
            finally:
                handler.release()
