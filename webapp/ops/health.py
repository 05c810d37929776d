"""Container healthchecks for the worker and cron: `python -m webapp.ops.health worker|cron`.

Exit 0 when a process of that role on this host (the container) sent RQ a heartbeat within
HEARTBEAT_STALE_SECONDS, else 1, with one line saying which. It reads only REDIS_URL, RQ_QUEUE
and HEARTBEAT_STALE_SECONDS from the environment and never builds the app or opens the database,
so a probe every 30 s costs one Redis round trip. `flask health` gives the whole picture.
"""
import os
import socket
import sys

from ..config import DEFAULT_QUEUE, ops_settings
from ..db.utc import utcnow
from .background import cron_schedulers, workers


def probe(role: str, redis, queue: str, stale_after: int, hostname: str | None = None) -> tuple[bool, str]:
    """(healthy, why) for the `role` process on `hostname` (default: this host)."""
    hostname = hostname or socket.gethostname()
    now = utcnow()
    found = workers(redis, queue, now, hostname) if role == "worker" else cron_schedulers(redis, now, hostname)
    if found.newest_heartbeat_age is None:
        return False, f"no {role} on {hostname} is registered with Redis"
    healthy = found.newest_heartbeat_age <= stale_after
    return healthy, (f"{role} on {hostname}: newest heartbeat {found.newest_heartbeat_age:.0f}s ago "
                     f"({'within' if healthy else 'over'} {stale_after}s)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in ("worker", "cron"):
        print("usage: python -m webapp.ops.health worker|cron", file=sys.stderr)
        return 2
    url = os.environ.get("REDIS_URL")
    if not url:
        print("REDIS_URL is not set: the worker and cron processes need Redis", file=sys.stderr)
        return 1
    from redis import Redis

    redis = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        healthy, why = probe(argv[0], redis, os.environ.get("RQ_QUEUE") or DEFAULT_QUEUE,
                             ops_settings(os.environ)["HEARTBEAT_STALE_SECONDS"])
    except Exception as exc:  # Redis unreachable: the process cannot be working either
        healthy, why = False, f"cannot read heartbeats from Redis ({type(exc).__name__})"
    finally:
        redis.close()
    print(why, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
