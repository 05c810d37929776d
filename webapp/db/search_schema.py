"""The full-text index is the database's own (migration 0006: triggers keep it), so the models
do not map it and Alembic's autogenerate must neither drop nor re-create it."""

POSTGRES_COLUMN = ("ticket", "search_vector")
POSTGRES_INDEX = "ix_ticket_search"
SQLITE_TABLE = "ticket_search"
SQLITE_SHADOW_TABLES = {f"{SQLITE_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize", "config")}


def include_name(name, type_, parent_names) -> bool:
    """Alembic's `include_name`: False for the search index's own tables, column and index."""
    if type_ == "table":
        return name != SQLITE_TABLE and name not in SQLITE_SHADOW_TABLES
    if type_ == "column":
        return (parent_names.get("table_name"), name) != POSTGRES_COLUMN
    if type_ == "index":
        return name != POSTGRES_INDEX
    return True
