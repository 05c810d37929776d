"""Configuration read from the environment, with the embedded (SQLite) mode as default."""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = ROOT / "instance"
DEFAULT_QUEUE = "ticketing"  # the RQ queue the web enqueues to, worker.py reads and rq cron fills


def _embedded_secret(instance: Path) -> str:
    """Generate the embedded mode's secret key once and keep it under instance/."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_env(env: dict | None = None, instance: Path | None = None) -> dict:
    """Build the Flask config mapping; production (DATABASE_URL set) demands SECRET_KEY."""
    env = os.environ if env is None else env
    instance = Path(env.get("INSTANCE_PATH") or instance or DEFAULT_INSTANCE)
    database_url = env.get("DATABASE_URL") or ""
    embedded = not database_url
    if embedded:
        instance.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance / 'ticketing.db'}"
    secret = env.get("SECRET_KEY") or ""
    if not secret:
        if not embedded:
            raise RuntimeError("SECRET_KEY must be set when DATABASE_URL is set (production mode)")
        secret = _embedded_secret(instance)
    return {
        "EMBEDDED": embedded,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RQ_QUEUE": env.get("RQ_QUEUE") or DEFAULT_QUEUE,
        "AUTO_CLOSE_DAYS": int(env.get("AUTO_CLOSE_DAYS") or 14),
        # Embedded mode only: run the sweep and the outbox safety net on a timer in the web process.
        "EMBEDDED_SCHEDULER": _bool(env.get("EMBEDDED_SCHEDULER"), True),
        "WEBHOOK_MAX_ATTEMPTS": int(env.get("WEBHOOK_MAX_ATTEMPTS") or 10),
        "WEBHOOK_BACKOFF_SECONDS": int(env.get("WEBHOOK_BACKOFF_SECONDS") or 30),
        "DELIVERY_RETENTION_DAYS": int(env.get("DELIVERY_RETENTION_DAYS") or 30),
        "WEBHOOK_TIMEOUT_SECONDS": float(env.get("WEBHOOK_TIMEOUT_SECONDS") or 10),
        # Each retry's wait is spread by ± this fraction of itself (0: exactly the schedule).
        "WEBHOOK_BACKOFF_JITTER": float(env.get("WEBHOOK_BACKOFF_JITTER") or 0.1),
        "WEBHOOK_KEEP_ALIVE": _bool(env.get("WEBHOOK_KEEP_ALIVE"), True),
        # Sends in flight per delivery run, and to one webhook (unset: half of them, rounded up).
        "DELIVERY_CONCURRENCY": int(env.get("DELIVERY_CONCURRENCY") or 8),
        "DELIVERY_CONCURRENCY_PER_WEBHOOK": int(env.get("DELIVERY_CONCURRENCY_PER_WEBHOOK") or 0) or None,
        # CIDRs webhooks may reach although loopback, link-local, unspecified or multicast.
        "WEBHOOK_ALLOWED_NETWORKS": env.get("WEBHOOK_ALLOWED_NETWORKS") or "",
        "OUTBOX_LINGER_SECONDS": float(env.get("OUTBOX_LINGER_SECONDS") or 1),
        "OUTBOX_MARK_DELAY_SECONDS": float(env.get("OUTBOX_MARK_DELAY_SECONDS") or 0.05),
        # Connections a bulk job changes its chunks on side by side (PostgreSQL; SQLite uses one).
        "BULK_WORKERS": int(env.get("BULK_WORKERS") or 3),
        **mail_settings(env, embedded),
        **attachment_settings(env),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), not embedded),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), not embedded),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH") or 1024 * 1024),
        **rate_limits(env),
        "WTF_CSRF_TIME_LIMIT": None,
        "PREFERRED_URL_SCHEME": env.get("PREFERRED_URL_SCHEME") or ("http" if embedded else "https"),
        "INSTANCE_PATH": str(instance),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url, env),
        **ops_settings(env),
    }


def mail_settings(env, embedded: bool) -> dict:
    """Notification mail: the SMTP server (unset: no mail, the inbox only), the sender, and the
    address links in mail point at (the worker has no request to take it from)."""
    return {
        # smtp://[user:password@]host[:port] (STARTTLS when the server offers it; ?starttls=require
        # refuses to send without it), or smtps:// for TLS from the start
        "SMTP_URL": env.get("SMTP_URL") or None,
        "MAIL_FROM": env.get("MAIL_FROM") or "Ticketing <ticketing@localhost>",
        "PUBLIC_URL": (env.get("PUBLIC_URL") or ("http://127.0.0.1:5000" if embedded else "")).rstrip("/"),
        "MAIL_MAX_ATTEMPTS": int(env.get("MAIL_MAX_ATTEMPTS") or 6),
        "MAIL_TIMEOUT_SECONDS": float(env.get("MAIL_TIMEOUT_SECONDS") or 10),
        "DIGEST_HOUR": int(env.get("DIGEST_HOUR") or 8),  # the daily digest goes out at this hour, each person's time
    }


MIB = 1024 * 1024


def attachment_settings(env) -> dict:
    """Where attachment bytes live (`db`, or `s3://bucket[/prefix]` with an optional endpoint for
    MinIO and the like; credentials from the usual AWS_* variables) and how much a file, a ticket
    and one upload may hold."""
    return {
        "ATTACHMENT_STORAGE": env.get("ATTACHMENT_STORAGE") or "db",
        "ATTACHMENT_S3_ENDPOINT": env.get("ATTACHMENT_S3_ENDPOINT") or None,
        "ATTACHMENT_S3_REGION": env.get("ATTACHMENT_S3_REGION") or "us-east-1",
        "ATTACHMENT_MAX_BYTES": int(env.get("ATTACHMENT_MAX_BYTES") or 25 * MIB),
        "ATTACHMENT_TICKET_MAX_BYTES": int(env.get("ATTACHMENT_TICKET_MAX_BYTES") or 250 * MIB),
        "ATTACHMENT_MAX_FILES": int(env.get("ATTACHMENT_MAX_FILES") or 20),
    }


def engine_options(url: str, env) -> dict:
    """Connects give up instead of hanging; a pooled connection is pinged before each use, so a dead one is replaced.

    Errors never carry the statement's bound values (a password hash, a webhook secret): they end
    up in logs (SECURITY.md, "Secrets in logs").
    """
    if url.startswith("sqlite"):
        return {"hide_parameters": True}
    return {
        "hide_parameters": True,
        "pool_size": int(env.get("DB_POOL_SIZE") or 5),
        "max_overflow": int(env.get("DB_MAX_OVERFLOW") or 5),
        "connect_args": {
            "connect_timeout": int(env.get("DB_CONNECT_TIMEOUT") or 5),
        },
    }


def ops_settings(env) -> dict:
    """Reverse proxy, security header and metrics settings (see .env.example)."""
    return {
        **{f"PROXY_FIX_{hop}": int(env.get(f"PROXY_FIX_{hop}") or 0)
           for hop in ("X_FOR", "X_PROTO", "X_HOST", "X_PORT", "X_PREFIX")},
        "HSTS_SECONDS": int(env.get("HSTS_SECONDS") or 31536000),
        "HSTS_INCLUDE_SUBDOMAINS": _bool(env.get("HSTS_INCLUDE_SUBDOMAINS"), False),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        "METRICS_ALLOW_CIDRS": env.get("METRICS_ALLOW_CIDRS") or "127.0.0.1/32,::1/128",
        "METRICS_CACHE_SECONDS": float(env.get("METRICS_CACHE_SECONDS") or 10),
        # a worker heartbeats every WORKER_TTL_SECONDS - 15 when idle, cron at least every minute
        "WORKER_TTL_SECONDS": int(env.get("WORKER_TTL_SECONDS") or 60),
        "HEARTBEAT_STALE_SECONDS": int(env.get("HEARTBEAT_STALE_SECONDS") or 120),
        "QUEUE_AGE_WARNING_SECONDS": int(env.get("QUEUE_AGE_WARNING_SECONDS") or 300),
    }


RATE_LIMITS = {
    "API_RATE_LIMIT": "300 per minute",              # requests per API key
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per 15 minutes",  # failed sign-ins per username
    "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",  # failed sign-ins per client address
    "API_BAD_KEY_LIMIT_PER_ADDRESS": "100 per 5 minutes",  # unknown API keys per client address
}


def rate_limits(env) -> dict:
    """Limits like "5 per 15 minutes" (webapp/ratelimit/__init__.py parses and checks them at start-up)."""
    return {name: env.get(name) or default for name, default in RATE_LIMITS.items()}


def normalise_database_url(url: str) -> str:
    """Let operators write postgres:// or postgresql:// and still get the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
