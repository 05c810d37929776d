"""Full-text search over tickets (title, overview, comments), kept current by the database.

PostgreSQL: `ticket.search_vector`, a tsvector set by triggers on ticket and comment and read
through the GIN index `ix_ticket_search`. SQLite (embedded mode): the FTS5 table `ticket_search`
(rowid = ticket id), kept by triggers too. Both index the same text the same way, so a query
finds the same tickets on either (webapp/services/search.py):

- every ASCII punctuation mark cuts words, as FTS5's unicode61 tokenizer does: PostgreSQL's
  parser would otherwise read `/var/log/x`, `10.0.3.7` or `db-01.example.com:5432` as single
  tokens no part of which could be found. `ticket_search_text` turns the seven marks that
  parser joins words with into control characters (which it reads as spaces), and
  `ticket_search_shown` turns them back for snippets;
- English words are stemmed (Snowball on PostgreSQL, Porter on SQLite) and stop words kept, so
  phrases match as written;
- the comments part holds the first 200 comments that are not deleted, oldest first, up to
  100,000 characters (a tsvector holds at most 1 MB).

SQLite drops a table's triggers with it: a later migration that recreates `ticket` or
`comment` (batch mode) must create the triggers below again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COMMENTS_MAX, COMMENT_CHARS_MAX = 200, 100_000
BACKFILL_BATCH = 20_000
JOINERS = "&+-./<~"  # the punctuation PostgreSQL's parser joins words with
CONTROLS = " || ".join(f"chr({n})" for n in range(1, len(JOINERS) + 1))  # chr(1) || chr(2) ...

POSTGRES_FUNCTIONS = [
    f"""CREATE FUNCTION ticket_search_text(body text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT translate(body, '{JOINERS}', {CONTROLS}) $$""",
    f"""CREATE FUNCTION ticket_search_shown(body text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT translate(body, {CONTROLS}, '{JOINERS}') $$""",
    # VOLATILE, so each call reads the comments committed by then: a trigger that waited for the
    # ticket's row behind another comment's must see that comment (a STABLE one would not).
    f"""CREATE FUNCTION ticket_search_comments(ticket integer) RETURNS text LANGUAGE sql VOLATILE PARALLEL SAFE
        AS $$ SELECT left(string_agg(body, E'\\n' ORDER BY created_at, id), {COMMENT_CHARS_MAX}) FROM (
                  SELECT body, created_at, id FROM comment WHERE ticket_id = ticket AND deleted_at IS NULL
                  ORDER BY created_at, id LIMIT {COMMENTS_MAX}) AS visible $$""",
    """CREATE FUNCTION ticket_search_document(title text, overview text, comments text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT
            setweight(to_tsvector('ticket_search', ticket_search_text(coalesce(title, ''))), 'A')
            || setweight(to_tsvector('ticket_search', ticket_search_text(coalesce(overview, ''))), 'B')
            || setweight(to_tsvector('ticket_search', ticket_search_text(coalesce(comments, ''))), 'C') $$""",
    """CREATE FUNCTION ticket_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            NEW.search_vector := ticket_search_document(NEW.title, NEW.overview,
                CASE WHEN TG_OP = 'UPDATE' THEN ticket_search_comments(NEW.id) END);
            RETURN NEW;
        END $$""",
    """CREATE FUNCTION comment_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            IF TG_OP <> 'INSERT' THEN
                UPDATE ticket SET search_vector = ticket_search_document(title, overview, ticket_search_comments(id))
                WHERE id = OLD.ticket_id;
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id) THEN
                UPDATE ticket SET search_vector = ticket_search_document(title, overview, ticket_search_comments(id))
                WHERE id = NEW.ticket_id;
            END IF;
            RETURN NULL;
        END $$""",
]
POSTGRES_TRIGGERS = [
    """CREATE TRIGGER ticket_search BEFORE INSERT OR UPDATE OF title, overview ON ticket
        FOR EACH ROW EXECUTE FUNCTION ticket_search_refresh()""",
    """CREATE TRIGGER comment_search AFTER INSERT OR DELETE OR UPDATE OF body, deleted_at, ticket_id ON comment
        FOR EACH ROW EXECUTE FUNCTION comment_search_refresh()""",
]


def _sqlite_comments(ticket: str) -> str:
    return (f"coalesce((SELECT substr(group_concat(body, char(10)), 1, {COMMENT_CHARS_MAX}) FROM ("
            f"SELECT body FROM comment WHERE ticket_id = {ticket} AND deleted_at IS NULL "
            f"ORDER BY created_at, id LIMIT {COMMENTS_MAX})), '')")


def _sqlite_refresh(ticket: str) -> str:
    return f"UPDATE ticket_search SET comments = {_sqlite_comments(ticket)} WHERE rowid = {ticket};"


SQLITE_TRIGGERS = {
    "ticket_search_insert": "AFTER INSERT ON ticket BEGIN INSERT INTO ticket_search (rowid, title, overview, "
                            "comments) VALUES (NEW.id, NEW.title, NEW.overview, ''); END",
    "ticket_search_update": "AFTER UPDATE OF title, overview ON ticket BEGIN UPDATE ticket_search SET "
                            "title = NEW.title, overview = NEW.overview WHERE rowid = NEW.id; END",
    "ticket_search_delete": "AFTER DELETE ON ticket BEGIN DELETE FROM ticket_search WHERE rowid = OLD.id; END",
    "comment_search_insert": f"AFTER INSERT ON comment BEGIN {_sqlite_refresh('NEW.ticket_id')} END",
    "comment_search_update": f"AFTER UPDATE OF body, deleted_at, ticket_id ON comment BEGIN "
                             f"{_sqlite_refresh('OLD.ticket_id')} {_sqlite_refresh('NEW.ticket_id')} END",
    "comment_search_delete": f"AFTER DELETE ON comment BEGIN {_sqlite_refresh('OLD.ticket_id')} END",
}


def upgrade():
    op.create_index('ix_ticket_created', 'ticket', ['created_at', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def _upgrade_postgres():
    op.execute("CREATE TEXT SEARCH DICTIONARY ticket_stem (TEMPLATE = snowball, Language = english)")
    op.execute("CREATE TEXT SEARCH CONFIGURATION ticket_search (COPY = english)")
    op.execute("ALTER TEXT SEARCH CONFIGURATION ticket_search ALTER MAPPING FOR asciiword, asciihword, "
               "hword_asciipart, word, hword, hword_part WITH ticket_stem")
    op.add_column('ticket', sa.Column('search_vector', sa.dialects.postgresql.TSVECTOR(), nullable=True))
    for statement in (*POSTGRES_FUNCTIONS, *POSTGRES_TRIGGERS):
        op.execute(statement)
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM ticket")).scalar()
    backfill = sa.text("UPDATE ticket SET search_vector = ticket_search_document(title, overview, "
                       "ticket_search_comments(id)) WHERE id > :low AND id <= :high")
    for low in range(0, last, BACKFILL_BATCH):  # bounded statements: each batch's rows, then the next
        bind.execute(backfill, {"low": low, "high": low + BACKFILL_BATCH})
    op.execute("CREATE INDEX ix_ticket_search ON ticket USING gin (search_vector)")
    op.execute("ANALYZE ticket")


def _upgrade_sqlite():
    op.execute("CREATE VIRTUAL TABLE ticket_search USING fts5(title, overview, comments, "
               "tokenize = 'porter unicode61 remove_diacritics 0')")
    for name, body in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute("INSERT INTO ticket_search (rowid, title, overview, comments) "
               f"SELECT id, title, overview, {_sqlite_comments('ticket.id')} FROM ticket")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER comment_search ON comment")
        op.execute("DROP TRIGGER ticket_search ON ticket")
        op.execute("DROP INDEX ix_ticket_search")
        op.drop_column('ticket', 'search_vector')
        for name in ("comment_search_refresh()", "ticket_search_refresh()", "ticket_search_document(text, text, text)",
                     "ticket_search_comments(integer)", "ticket_search_shown(text)", "ticket_search_text(text)"):
            op.execute(f"DROP FUNCTION {name}")
        op.execute("DROP TEXT SEARCH CONFIGURATION ticket_search")
        op.execute("DROP TEXT SEARCH DICTIONARY ticket_stem")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE ticket_search")
    op.drop_index('ix_ticket_created', table_name='ticket')
