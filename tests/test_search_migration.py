"""Migration 0006 indexes the tickets and comments already there, and Alembic leaves the index alone."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from webapp.db.search_schema import include_name
from webapp.extensions import db
from webapp.services.listing import ListFilter, list_page

from .conftest import make_app, own_database

NOW = "2026-11-30 10:00:00"


def _found(q: str) -> list[str]:
    return [row.display_id for row in list_page(ListFilter(statuses=(), q=q), None).items]


def _old_rows(conn) -> None:
    """Two tickets and three comments (one deleted) written before search existed, in plain SQL."""
    conn.execute(sa.text(f"""INSERT INTO "user" (id, username, display_name, role, active, created_at)
                             VALUES (1, 'old', 'Old', 'AGENT', true, '{NOW}')"""))
    conn.execute(sa.text(f"INSERT INTO category (id, name, active, created_at) VALUES (1, 'Infra', true, '{NOW}')"))
    conn.execute(sa.text(f"INSERT INTO cti_type (id, category_id, name, active, created_at) "
                         f"VALUES (1, 1, 'Servers', true, '{NOW}')"))
    conn.execute(sa.text(f"INSERT INTO item (id, type_id, name, active, created_at) "
                         f"VALUES (1, 1, 'web', true, '{NOW}')"))
    for ident, title, overview in ((1, "Disk full on web01", "Logs in /var/log/nginx"), (2, "Printer", "Jammed")):
        conn.execute(sa.text(
            "INSERT INTO ticket (id, display_id, title, overview, severity, status, category_id, type_id, item_id, "
            f"creator_id, created_at, updated_at, version) VALUES ({ident}, 'V00000000{ident}', '{title}', "
            f"'{overview}', 3, 'OPEN', 1, 1, 1, 1, '{NOW}', '{NOW}', 1)"))
    for ident, ticket, body, deleted in ((1, 2, "Restarted the spooler", "NULL"), (2, 2, "ERR_PAPER_OUT again", "NULL"),
                                         (3, 1, "secretword removed", f"'{NOW}'")):
        conn.execute(sa.text(f"INSERT INTO comment (id, ticket_id, author_id, body, created_at, deleted_at) "
                             f"VALUES ({ident}, {ticket}, 1, '{body}', '{NOW}', {deleted})"))


def test_upgrading_indexes_what_is_there_and_downgrading_removes_it(database_url, tmp_path):
    with own_database(database_url, "search_migration", tmp_path) as url:
        app = make_app(url)
        try:
            with app.app_context():
                upgrade(revision="0005")
                with db.engine.begin() as conn:
                    _old_rows(conn)
                upgrade()
                assert _found("web01") == ["V000000001"] and _found("/var/log") == ["V000000001"]
                assert _found("restarting") == ["V000000002"] and _found("ERR_PAPER_OUT") == ["V000000002"]
                assert _found("secretword") == []  # a deleted comment stays out
                db.session.remove()
                downgrade(revision="0005")
                tables = sa.inspect(db.engine).get_table_names()
                columns = {column["name"] for column in sa.inspect(db.engine).get_columns("ticket")}
                assert "ticket_search" not in tables and "search_vector" not in columns
                upgrade()
                assert _found("spooler") == ["V000000002"]
                db.session.remove()
        finally:
            with app.app_context():
                db.engine.dispose()


def test_autogenerate_ignores_the_search_index_and_nothing_else(app):
    """The drift check skips exactly the search index's own objects: a stray table is still seen."""
    assert not include_name("ticket_search", "table", {}) and not include_name("ticket_search_data", "table", {})
    assert not include_name("search_vector", "column", {"table_name": "ticket"})
    assert not include_name("ix_ticket_search", "index", {"table_name": "ticket"})
    assert include_name("ticket_search_probe", "table", {}) and include_name("search_vector", "column",
                                                                           {"table_name": "comment"})
    with db.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE ticket_search_probe (id integer PRIMARY KEY)"))
        try:
            context = MigrationContext.configure(conn, opts={"include_name": include_name})
            diff = compare_metadata(context, db.metadata)
        finally:
            conn.execute(sa.text("DROP TABLE ticket_search_probe"))
    assert [op[0] for op in diff] == ["remove_table"] and diff[0][1].name == "ticket_search_probe"
