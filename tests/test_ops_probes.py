"""/healthz and /readyz: what load balancers and compose healthchecks ask."""
import os

import pytest
from sqlalchemy import text

from webapp.extensions import db
from webapp.ops.checks import migration_heads

from .conftest import make_app

CLOSED_PORT = 9  # discard: nothing listens there on 127.0.0.1, so connects are refused at once


def test_healthz_says_the_process_is_alive_without_signing_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_green_when_the_database_is_up_and_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ready" and body["failing"] == []
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"] == {"ok": True, "current": list(migration_heads()),
                                            "head": list(migration_heads())}
    assert "redis" not in body["checks"]  # embedded mode: no Redis to check


def test_migration_head_is_read_from_the_migrations_folder():
    versions = os.listdir(os.path.join(os.path.dirname(__file__), "..", "migrations", "versions"))
    assert migration_heads() and all(any(v.startswith(h) for v in versions) for h in migration_heads())


def test_readyz_fails_with_503_naming_the_database_when_it_is_unreachable(tmp_path):
    app = make_app(f"postgresql://ticketing:s3cret-pw@127.0.0.1:{CLOSED_PORT}/nowhere")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body["status"] == "unavailable" and "database" in body["failing"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"] == "unreachable (OperationalError)"
    assert body["checks"]["migrations"]["error"] == "not checked: the database is unreachable"
    assert "s3cret-pw" not in response.get_data(as_text=True)
    assert str(CLOSED_PORT) not in response.get_data(as_text=True)


def test_readyz_fails_when_the_schema_is_not_migrated(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.json
    assert body["failing"] == ["migrations"] and body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["current"] == []
    assert body["checks"]["migrations"]["error"] == "the database has no schema yet"


def test_readyz_fails_when_the_schema_is_behind_the_code(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('0000_older')"))
    body = app.test_client().get("/readyz").json
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"]["current"] == ["0000_older"]
    assert "flask db upgrade" in body["checks"]["migrations"]["error"]


def test_readyz_checks_redis_when_it_is_configured(database_url, _app):
    app = make_app(database_url, REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["failing"] == ["redis"]
    assert response.json["checks"]["redis"] == {"ok": False, "error": "unreachable (ConnectionError)"}


@pytest.mark.redis
def test_readyz_is_green_with_a_reachable_redis(database_url, _app):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) to check against a real Redis")
    response = make_app(database_url, REDIS_URL=url).test_client().get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["redis"]["ok"] is True
