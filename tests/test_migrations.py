"""Every migration can be undone: stepping down from head one revision at a time leaves exactly the
schema that upgrading a new database to that revision makes (tables, columns, indexes, triggers),
and the way back up works again (docs/operations.md, "Schema changes")."""
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from webapp.extensions import db

from .conftest import make_app, own_database

BASE = "base"


def _revisions() -> list[str]:
    """Every revision id, oldest first."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return [script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


def _schema() -> dict:
    """What the database holds, in terms that do not depend on how it got there."""
    engine = db.engine
    inspector = sa.inspect(engine)
    tables = {
        name: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)),
               sorted(index["name"] for index in inspector.get_indexes(name)))
        for name in inspector.get_table_names() if name != "alembic_version"
    }
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            triggers = conn.execute(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
            functions = conn.execute(sa.text(
                "SELECT proname FROM pg_proc JOIN pg_namespace n ON n.oid = pronamespace "
                "WHERE nspname = 'public'")).scalars()
            extra = sorted(triggers) + sorted(functions)
        else:
            extra = sorted(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    return {"tables": tables, "triggers_and_functions": extra}


def _built_up(database_url, tmp_path) -> dict:
    """The schema at each revision, upgrading a new database one revision at a time."""
    with own_database(database_url, "migrations_up", tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            schemas = {BASE: _schema()}
            for revision in _revisions():
                upgrade(revision=revision)
                schemas[revision] = _schema()
            db.engine.dispose()
    return schemas


def test_each_downgrade_restores_the_schema_before_its_upgrade(database_url, tmp_path):
    built_up = _built_up(database_url, tmp_path)
    assert built_up[BASE]["tables"] == {}
    with own_database(database_url, "migrations_down", tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            revisions = _revisions()
            upgrade()
            assert _schema() == built_up[revisions[-1]]
            for before in reversed([BASE, *revisions[:-1]]):
                downgrade(revision="-1")
                assert _schema() == built_up[before], f"downgrading to {before} left a different schema"
            upgrade()
            assert _schema() == built_up[revisions[-1]]
            db.engine.dispose()
