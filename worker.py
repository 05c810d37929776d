"""The RQ worker: `python worker.py [--burst]` runs queued jobs from REDIS_URL inside the app.

The app is built once here; each job runs in a forked work horse that inherits it and pushes its
own app context (webapp.jobs.app_job). Periodic jobs are enqueued by `rq cron` (webapp/jobs/schedule.py);
jobs scheduled for a time (a delivery run at the next webhook retry) by RQ's scheduler, which every
worker offers to run (one holds the queue's lock at a time).
"""
import argparse
import sys

from flask import Flask
from rq import Worker

from webapp import create_app
from webapp.jobs import bind_app, queue_name, redis_connection
from webapp.ops.logs import configure_from_env


def build_worker(app: Flask, queues: list[str] | None = None, worker_class=Worker) -> Worker:
    """An RQ worker for `app`'s queue (RQ_QUEUE) on `app`'s Redis, with `app` bound for its jobs."""
    bind_app(app)
    with app.app_context():
        connection = redis_connection()
        if connection is None:
            raise RuntimeError("REDIS_URL is not set: the embedded mode runs jobs in-process; no worker needed.")
        # worker_ttl: an idle worker heartbeats every ttl - 15 s, which /readyz and the healthcheck read
        return worker_class(queues or [queue_name()], connection=connection,
                            worker_ttl=app.config["WORKER_TTL_SECONDS"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="quit once the queue is empty")
    parser.add_argument("--queue", action="append", help="queue to listen on (default: RQ_QUEUE)")
    args = parser.parse_args(argv)
    # like the web: one JSON object per line (LOG_FORMAT=text for people); RQ's own loggers
    # then find this handler and add none of theirs
    configure_from_env()
    try:
        worker = build_worker(create_app(), args.queue)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    worker.work(burst=args.burst, with_scheduler=True)  # runs scheduled jobs (webhook retries) on time
    return 0


if __name__ == "__main__":
    sys.exit(main())
