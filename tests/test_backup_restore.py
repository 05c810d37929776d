"""A backup is the database and nothing else: pg_dump's archive restored into a new database gives
back every ticket, comment and audit event, with the rules the database enforces (append-only
audit, cache_version triggers) and sequences that go on from where they were (docs/operations.md,
"Backups"). SQLite's online backup does the same for the embedded mode."""
import shutil
import sqlite3
import subprocess

import pytest
import sqlalchemy as sa

from webapp.extensions import db
from webapp.models import AuditEvent, CacheVersion, Comment, Ticket
from webapp.services.comments import add_comment

from .conftest import committing_app, make_app, own_database
from .factories import Factories


def _fill(app) -> dict:
    with app.app_context():
        make = Factories()
        agent = make.user("backer")
        for n in range(3):
            add_comment(agent, make.ticket(actor=agent, title=f"Backed up {n}"), f"**note** {n}")
        return _counts()


def _counts() -> dict:
    return {model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Ticket, Comment, AuditEvent)}


def _still_enforced_and_writable(app, before: dict) -> None:
    with app.app_context():
        assert _counts() == before
        event_id = db.session.scalar(sa.select(AuditEvent.id).limit(1))
        with pytest.raises(sa.exc.DBAPIError):  # the audit trail is still append-only
            db.session.execute(sa.update(AuditEvent).where(AuditEvent.id == event_id).values(action="forged"))
            db.session.flush()
        db.session.rollback()
        version = db.session.scalar(sa.select(CacheVersion.version))
        make = Factories()
        ticket = make.ticket(actor=make.user("after-restore"))  # sequences go on: no id collides
        assert ticket.id > 0 and db.session.scalar(sa.select(CacheVersion.version)) > version
        db.engine.dispose()


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_bring_everything_back(database_url, tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore are not installed")
    archive = tmp_path / "ticketing.dump"
    with committing_app(database_url, "backup_source", tmp_path,
                        postgres_only="pg_dump is for PostgreSQL") as source:
        before = _fill(source)
        with source.app_context():
            url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={archive}", url], check=True)
    with own_database(database_url, "backup_restored", tmp_path) as restored_url:
        plain = sa.make_url(restored_url).set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={plain}", str(archive)], check=True)
        _still_enforced_and_writable(make_app(restored_url), before)


def test_sqlite_online_backup_brings_everything_back(database_url, tmp_path):
    if sa.make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("the embedded mode's backup")
    with committing_app(database_url, "backup_source", tmp_path) as source:
        before = _fill(source)
        with source.app_context():
            path = db.engine.url.database
        copy = tmp_path / "backup.db"
        with sqlite3.connect(path) as live, sqlite3.connect(copy) as target:
            live.backup(target)  # what `sqlite3 instance/ticketing.db ".backup backup.db"` does
    _still_enforced_and_writable(make_app(f"sqlite:///{copy}"), before)
