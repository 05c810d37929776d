"""Background jobs: on RQ when REDIS_URL is set, otherwise run in-process (same code path)."""
import logging

from flask import current_app
from werkzeug.utils import import_string

log = logging.getLogger(__name__)
QUEUE_NAME = "default"


def redis_connection():
    """The Redis connection for RQ, or None in the embedded mode."""
    from redis import Redis

    url = current_app.config.get("REDIS_URL")
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5) if url else None


def enqueue(func_path: str, *args) -> None:
    """Hand a job to RQ, or run it now when there is no Redis; never fail the caller's request."""
    conn = redis_connection()
    if conn is None:
        try:
            import_string(func_path)(*args)
        except Exception:  # the job's own retry story (outbox) covers failures
            log.exception("in-process job %s failed", func_path)
        return
    from rq import Queue

    try:
        Queue(QUEUE_NAME, connection=conn).enqueue(func_path, *args)
    except Exception:  # Redis down: work waits in the outbox and is re-enqueued later
        log.warning("could not enqueue %s; it will be picked up later", func_path, exc_info=True)
