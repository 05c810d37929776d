"""Configuration from the environment, and both run modes."""
import hashlib
import re
from pathlib import Path

import pytest

from webapp.config import from_env, normalise_database_url

ROOT = Path(__file__).resolve().parent.parent


def test_embedded_mode_defaults_to_sqlite_and_generates_a_secret_once(tmp_path):
    first = from_env({}, instance=tmp_path)
    second = from_env({}, instance=tmp_path)
    assert first["EMBEDDED"] is True
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'ticketing.db'}"
    assert len(first["SECRET_KEY"]) >= 64 and first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["REDIS_URL"] is None and first["AUTO_CLOSE_DAYS"] == 14
    assert first["SESSION_COOKIE_SECURE"] is False


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        from_env({"DATABASE_URL": "postgresql://db/x"}, instance=tmp_path)


def test_production_settings(tmp_path):
    config = from_env({
        "DATABASE_URL": "postgres://u:p@db/tickets", "SECRET_KEY": "s3cret", "REDIS_URL": "redis://r:6379/0",
        "AUTO_CLOSE_DAYS": "7",
    }, instance=tmp_path)
    assert config["EMBEDDED"] is False
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/tickets"
    assert config["SESSION_COOKIE_SECURE"] is True and config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["REDIS_URL"] == "redis://r:6379/0" and config["AUTO_CLOSE_DAYS"] == 7
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize("url, expected", [
    ("postgres://h/d", "postgresql+psycopg://h/d"),
    ("postgresql://h/d", "postgresql+psycopg://h/d"),
    ("postgresql+psycopg://h/d", "postgresql+psycopg://h/d"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_use_psycopg3(url, expected):
    assert normalise_database_url(url) == expected


def test_no_hard_coded_secret_key_in_the_code():
    source = "\n".join(p.read_text() for p in (ROOT / "webapp").rglob("*.py"))
    assert not re.search(r"SECRET_KEY['\"]?\s*[:=]\s*['\"][^'\"]+['\"]", source)


def test_vendored_htmx_matches_its_recorded_sha256():
    readme = (ROOT / "static/vendor/README.md").read_text()
    for name, digest in re.findall(r"`(htmx-[\d.]+\.min\.js)`.*?`([0-9a-f]{64})`", readme):
        assert hashlib.sha256((ROOT / "static/vendor" / name).read_bytes()).hexdigest() == digest
    base = (ROOT / "templates/base.html").read_text()
    assert re.search(r"vendor/htmx-4\.0\.\d+\.min\.js", base)


def test_times_are_timezone_aware(make):
    ticket = make.ticket()
    for value in (ticket.created_at, ticket.updated_at, ticket.creator.created_at):
        assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0
