"""cache_version: one number the database raises whenever a person or a CTI entry changes.

Each process keeps the rows behind a session, an API key and a new ticket's CTI chain only while
the number it reads at the start of a request is the one it read them under (services.recent).
Triggers raise it, so no write can forget to: on PostgreSQL as constraint triggers deferred to
the commit (taken last, the row lock cannot deadlock two writers), on SQLite as row triggers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLES = ('user', 'category', 'cti_type', 'item')
BUMP = 'UPDATE cache_version SET version = version + 1 WHERE id = 1'


def upgrade():
    table = op.create_table('cache_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cache_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'version': 1}])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE FUNCTION bump_cache_version() RETURNS trigger LANGUAGE plpgsql AS '
                   f'$$ BEGIN {BUMP}; RETURN NULL; END $$')
        for name in TABLES:
            op.execute(f'CREATE CONSTRAINT TRIGGER {name}_cache_version AFTER INSERT OR UPDATE OR DELETE '
                       f'ON "{name}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_version()')
            op.execute(f'CREATE TRIGGER {name}_cache_version_truncate AFTER TRUNCATE ON "{name}" '
                       'FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version()')
        return
    for name in TABLES:
        for action in ('INSERT', 'UPDATE', 'DELETE'):
            op.execute(f'CREATE TRIGGER {name}_cache_version_{action.lower()} AFTER {action} ON "{name}" '
                       f'BEGIN {BUMP}; END')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name in TABLES:
            op.execute(f'DROP TRIGGER {name}_cache_version ON "{name}"')
            op.execute(f'DROP TRIGGER {name}_cache_version_truncate ON "{name}"')
        op.execute('DROP FUNCTION bump_cache_version()')
    else:
        for name in TABLES:
            for action in ('insert', 'update', 'delete'):
                op.execute(f'DROP TRIGGER {name}_cache_version_{action}')
    op.drop_table('cache_version')
