"""The cron process: `python -m webapp.jobs.cron [SCHEDULE_MODULE]` runs RQ's cron scheduler.

The same scheduler as `rq cron --url "$REDIS_URL" webapp.jobs.schedule`, with the web's logging
(one JSON object per line unless LOG_FORMAT=text) and REDIS_URL read from the environment. Its loop
heartbeats to RQ's scheduler registry at least every minute: /readyz, /metrics, `flask health`
and the compose healthcheck (webapp.ops.health cron) read that.
"""
import os
import sys

from ..ops.logs import configure_from_env

DEFAULT_SCHEDULE = "webapp.jobs.schedule"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    configure_from_env()
    url = os.environ.get("REDIS_URL")
    if not url:
        print("REDIS_URL is not set: the cron process needs Redis", file=sys.stderr)
        return 2
    from redis import Redis
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=Redis.from_url(url), logging_level=os.environ.get("LOG_LEVEL", "INFO"))
    scheduler.load_config_from_file(argv[0] if argv else os.environ.get("RQ_CRON_CONFIG") or DEFAULT_SCHEDULE)
    scheduler.start()  # until SIGTERM / SIGINT, which it handles by unregistering itself
    return 0


if __name__ == "__main__":
    sys.exit(main())
