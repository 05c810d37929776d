"""One JSON object per log line, carrying the request id, for the app and gunicorn's access log."""
import json
import logging
import sys
from datetime import UTC, datetime

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


class JsonGunicornLogger(GunicornLogger):
    """gunicorn's logger with JSON error lines and a JSON access line per request."""

    def setup(self, cfg):
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        pairs = resp.headers.items() if hasattr(resp.headers, "items") else resp.headers
        headers = {name.lower(): value for name, value in pairs}
        self.access_log.info(
            "%s %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"), str(resp.status).split()[0],
            extra={
                "request_id": headers.get("x-request-id"),
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "query": environ.get("QUERY_STRING") or None,
                "status": int(str(resp.status).split()[0]),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT"),
                "referer": environ.get("HTTP_REFERER"),
            },
        )
