"""gunicorn settings from the environment: `gunicorn -c python:webapp.serve.gunicorn_conf wsgi:app`."""
import os
import shutil
from pathlib import Path

from webapp.ops.logs import JsonGunicornLogger, configure_from_env


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or 3080}"
workers = _env_int("GUNICORN_WORKERS", 2)
threads = _env_int("GUNICORN_THREADS", 4)
# gthread whose workers take turns accepting (webapp/serve/gunicorn_worker.py); one thread: the sync worker.
worker_class = "webapp.serve.gunicorn_worker.BalancedThreadWorker" if threads > 1 else "sync"
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak never becomes an outage; jitter avoids a stampede.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 10
proc_name = "ticketing-web"
control_socket_disable = True  # no $HOME/.gunicorn socket on a read-only container
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"  # heartbeat files off the (possibly read-only) container disk

loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = "-"
errorlog = "-"
# JSON: one object per request with request_id; text: the same fields in gunicorn's own format.
logger_class = JsonGunicornLogger if os.environ.get("LOG_FORMAT", "json") == "json" else "gunicorn.glogging.Logger"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'


def on_starting(server):
    """Master start-up: fresh multi-process metric files, and app logs in the same format."""
    configure_from_env()
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    """A dead worker's live gauges must stop counting; its histograms stay in the totals."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
