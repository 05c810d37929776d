"""Webhook deliveries benchmark: a burst of events drained through the real paths, deliveries/s.

    .venv/bin/python bench/deliveries.py                       # 5,000 events: worker.py ×2 on Redis, then embedded
    .venv/bin/python bench/deliveries.py --events 2501 --mode rq --workers 2
    .venv/bin/python bench/deliveries.py --mode embedded --keep-alive 0
    .venv/bin/python bench/deliveries.py --tls                 # an HTTPS receiver (a test certificate)
    PYTHONPATH=/tmp/old .venv/bin/python bench/deliveries.py --repo /tmp/old   # another checkout's code

It (re)creates a bench database (`ticketing_bench_deliveries`: migrations, an admin, one ticket and
one webhook) and starts a receiver on 127.0.0.1 in a process of its own (HTTP/1.1 keep-alive,
answers 204 at once, counts requests and TCP connections; with `--tls`, HTTPS with a certificate
made for the run and trusted through SSL_CERT_FILE). Each round writes `--events` audit
events with their outbox rows in one statement, as a sweep does, asks for a dispatch run and times
until every delivery is DELIVERED: through `worker.py` processes on Redis (`--mode rq`, the queue a
name of its own, removed afterwards), and through the embedded mode's job threads in this process
(`--mode embedded`, no Redis). Nothing leaves 127.0.0.1.
"""
import argparse
import multiprocessing
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import cpu  # noqa: E402  (bench/cpu.py, beside this script)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ticketing_bench_deliveries"
SECRET = "bench-webhook-secret-0123456789"


def receive(port_out, requests, connections, certificate: Path | None) -> None:
    """The receiver process: answer every POST with 204 on kept-alive connections, counting."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            with connections.get_lock():
                connections.value += 1

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()
            with requests.get_lock():
                requests.value += 1

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if certificate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, certificate.with_suffix(".key"))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    port_out.send(server.server_port)
    server.serve_forever()


def prepare_database(url: str) -> tuple[int, int]:
    """A fresh bench database with an admin and one ticket; returns (admin id, ticket id)."""
    import flask_migrate

    from load import make_app, recreate_database

    from webapp.extensions import db
    from webapp.models import Category, CtiType, Item, Role
    from webapp.services.tickets import create_ticket
    from webapp.services.users import create_user

    recreate_database(url)
    app = make_app(url)
    with app.app_context():
        flask_migrate.upgrade()
        admin, _ = create_user(None, username="admin", display_name="Bench Admin", role=Role.ADMIN,
                               password="bench-password")
        item = Item(type=CtiType(category=Category(name="Bench"), name="Hooks"), name="Receiver")
        db.session.add(item)
        db.session.commit()
        ticket = create_ticket(admin, title="Webhook benchmark", overview="", severity=3,
                               category_id=item.type.category_id, type_id=item.type_id, item_id=item.id)
        return admin.id, ticket.id


def app_for(url: str, redis_url: str | None, queue: str | None, **overrides):
    from webapp import create_app

    return create_app({"ENV_VARS": {"DATABASE_URL": url, "SECRET_KEY": "bench-deliveries"},
                       "REDIS_URL": redis_url, "RQ_QUEUE": queue or "ticketing",
                       "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "EMBEDDED_SCHEDULER": False, **overrides})


def make_certificate() -> Path:
    """A self-signed certificate for 127.0.0.1, trusted by this process and the workers it starts."""
    certificate = BENCH / "out" / "receiver.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                    str(certificate.with_suffix(".key")), "-out", str(certificate)], check=True, capture_output=True)
    os.environ["SSL_CERT_FILE"] = str(certificate)
    return certificate


def create_webhook(app, admin_id: int, url: str) -> int:
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services.webhooks import create_webhook as create

    with app.app_context():
        hook = create(db.session.get(User, admin_id), name="bench", url=url, secret=SECRET, events=["comment_add"])
        return hook.id


def write_events(url: str, ticket_id: int, admin_id: int, count: int) -> int:
    """`count` comment events and their outbox rows in one statement; returns the first event id."""
    with psycopg.connect(url) as conn:
        first = conn.execute("""
            WITH written AS (
                INSERT INTO audit_event (ticket_id, actor_id, action, after, created_at)
                SELECT %s, %s, 'comment_add', json_build_object('commentId', g, 'body', 'bench comment ' || g), now()
                FROM generate_series(1, %s) AS g RETURNING id, created_at
            ), queued AS (
                INSERT INTO outbox_event (audit_event_id, created_at) SELECT id, created_at FROM written
            )
            SELECT min(id) FROM written""", (ticket_id, admin_id, count)).fetchone()[0]
    return first


def delivered_since(url: str, first_event: int) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'DELIVERED'), count(*) FROM webhook_delivery "
            "WHERE audit_event_id >= %s", (first_event,)).fetchone()


def wait_drained(url: str, first_event: int, count: int, started: float, timeout: float) -> float | None:
    """Seconds from `started` until every delivery of the round is DELIVERED (None: timed out)."""
    while time.perf_counter() - started < timeout:
        done, _ = delivered_since(url, first_event)
        if done >= count:
            return time.perf_counter() - started
        time.sleep(0.05)
    return None


def round_rq(args, state, requests, connections) -> dict:
    """worker.py processes on Redis, a queue of this round's own."""
    from redis import Redis

    from webapp import jobs
    from webapp.services.outbox import DISPATCH_JOB

    queue = f"bench-deliveries-{secrets.token_hex(4)}"
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": "bench-deliveries",
           "REDIS_URL": args.redis_url, "RQ_QUEUE": queue, "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
           "WEBHOOK_KEEP_ALIVE": str(args.keep_alive), "PYTHONPATH": str(args.repo)}
    logs = [open(BENCH / "out" / f"worker-{n}.log", "w") for n in range(args.workers)]
    workers = [subprocess.Popen([sys.executable, str(args.repo / "worker.py")], cwd=args.repo, env=env,
                                stdout=log, stderr=subprocess.STDOUT) for log in logs]
    try:
        _wait_for_workers(args, queue)
        app = app_for(args.database_url, args.redis_url, queue)
        result = timed_round(args, state, requests, connections,
                             lambda: _enqueue(app, jobs.enqueue, DISPATCH_JOB),
                             lambda: sum(cpu.tree_ms(process.pid) for process in workers),
                             settle=lambda: _wait_for_workers(args, queue, idle=True))
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            process.wait(30)
        connection = Redis.from_url(args.redis_url)
        for key in connection.scan_iter(match=f"*{queue}*"):
            connection.delete(key)
    return {**result, "mode": f"rq, {args.workers} worker.py"}


def _wait_for_workers(args, queue: str, idle: bool = False) -> None:
    """Until every worker has built its app and listens on the queue (their start is not timed), or,
    `idle`, until none runs a job (a finished work horse's CPU is counted once its worker reaped it)."""
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(args.redis_url)
    deadline = time.monotonic() + 120

    def ready() -> bool:
        workers = Worker.all(queue=Queue(queue, connection=connection))
        return len(workers) >= args.workers and (not idle or all(w.get_state() == "idle" for w in workers))

    while not ready() and time.monotonic() < deadline:
        time.sleep(0.2)
    connection.close()


def _enqueue(app, enqueue, job: str) -> None:
    with app.app_context():
        enqueue(job)


def round_embedded(args, state, requests, connections) -> dict:
    """The embedded mode: this process's job threads, no Redis."""
    from webapp import jobs
    from webapp.services.outbox import DISPATCH_JOB

    app = app_for(args.database_url, None, None, WEBHOOK_KEEP_ALIVE=bool(args.keep_alive))
    result = timed_round(args, state, requests, connections, lambda: _enqueue(app, jobs.enqueue, DISPATCH_JOB),
                         lambda: time.process_time() * 1000)
    executor = app.extensions.get("jobs_executor")
    if executor:
        executor.shutdown(wait=True)
    return {**result, "mode": "embedded (no Redis)"}


def timed_round(args, state, requests, connections, ask_for_dispatch, app_ms, settle=lambda: None) -> dict:
    """One burst: events written, a dispatch asked for, the time until all are delivered, and the
    CPU milliseconds per delivery of the app's processes and of the receiver (steadier than the rate
    on a shared machine)."""
    before_requests, before_connections = requests.value, connections.value
    first = write_events(args.database_url, state["ticket"], state["admin"], args.events)
    cpu_before = app_ms(), cpu.tree_ms(state["receiver"]), cpu.backends_ms(args.database_url)
    started = time.perf_counter()
    ask_for_dispatch()
    seconds = wait_drained(args.database_url, first, args.events, started, args.timeout)
    settle()
    app_cpu, receiver_cpu = app_ms() - cpu_before[0], cpu.tree_ms(state["receiver"]) - cpu_before[1]
    db_cpu = cpu.backends_ms(args.database_url) - cpu_before[2]  # live backends only: a work horse's dies with it
    done, made = delivered_since(args.database_url, first)
    return {"events": args.events, "seconds": seconds, "delivered": done, "deliveries": made,
            "per_second": round(args.events / seconds, 1) if seconds else None,
            "requests": requests.value - before_requests, "connections": connections.value - before_connections,
            "app_ms": round(app_cpu / max(done, 1), 3), "receiver_ms": round(receiver_cpu / max(done, 1), 3),
            "db_ms": round(db_cpu / max(done, 1), 3)}


def machine() -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--events", type=int, default=5000, help="events per round (default 5000)")
    parser.add_argument("--mode", choices=["rq", "embedded", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2, help="worker.py processes in the rq round (default 2)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds per mode (default 1)")
    parser.add_argument("--keep-alive", type=int, choices=[0, 1], default=1, help="WEBHOOK_KEEP_ALIVE")
    parser.add_argument("--tls", action="store_true", help="an HTTPS receiver")
    parser.add_argument("--timeout", type=float, default=900, help="give up on a round after this (s)")
    parser.add_argument("--repo", type=Path, default=BENCH.parent, help="the checkout whose worker.py runs")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.repo = args.repo.resolve()
    (BENCH / "out").mkdir(exist_ok=True)
    port_in, port_out = multiprocessing.Pipe(duplex=False)
    requests, connections = multiprocessing.Value("l", 0), multiprocessing.Value("l", 0)
    certificate = make_certificate() if args.tls else None
    receiver = multiprocessing.Process(target=receive, args=(port_out, requests, connections, certificate),
                                       daemon=True)
    receiver.start()
    url = f"{'https' if args.tls else 'http'}://127.0.0.1:{port_in.recv()}/hook"
    admin_id, ticket_id = prepare_database(args.database_url)
    state = {"admin": admin_id, "ticket": ticket_id, "receiver": receiver.pid}
    create_webhook(app_for(args.database_url, None, None), admin_id, url)
    print(f"code: {args.repo}; machine: {machine()}; receiver {url}, keep-alive {args.keep_alive}")
    modes = {"rq": [round_rq], "embedded": [round_embedded], "both": [round_rq, round_embedded]}[args.mode]
    for run in modes:
        for _ in range(args.rounds):
            result = run(args, state, requests, connections)
            print(f"{result['mode']}: {result['events']:,} events, {result['delivered']:,}/{result['deliveries']:,} "
                  f"delivered in {result['seconds'] or float('nan'):.2f}s = {result['per_second']} deliveries/s; "
                  f"receiver: {result['requests']:,} requests over {result['connections']:,} connections; "
                  f"CPU per delivery: app {result['app_ms']} ms, receiver {result['receiver_ms']} ms, "
                  f"PostgreSQL {result['db_ms']} ms{' (embedded: all of it)' if 'embedded' in result['mode'] else ''}; "
                  f"{machine()}")
    receiver.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
