"""The `rq cron` configuration: `rq cron --url "$REDIS_URL" webapp.jobs.schedule` enqueues the periodic jobs.

The queue is RQ_QUEUE (default "ticketing"), the one worker.py listens on.
"""
import os

from rq import cron

from ..config import DEFAULT_QUEUE
from .tasks import PERIODIC

QUEUE = os.environ.get("RQ_QUEUE") or DEFAULT_QUEUE

for periodic in PERIODIC:
    if periodic.cron:
        cron.register(periodic.func, queue_name=QUEUE, cron=periodic.cron, name=periodic.path)
    else:
        cron.register(periodic.func, queue_name=QUEUE, interval=periodic.every, name=periodic.path)
