"""saved_view: named queue filters, personal or shared, and the two built-in shared views.

"Open queue" (no filters: the dashboard) and "My tickets" (assignee=me, so it shows each viewer
their own) are owned by nobody; services.saved_views keeps the same two for `flask seed`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:14:20

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BUILTIN_VIEWS = (('Open queue', {}), ('My tickets', {'assignee': 'me'}))


def upgrade():
    table = op.create_table('saved_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('name_key', sa.String(length=255), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('shared OR owner_id IS NOT NULL', name=op.f('ck_saved_view_owned_unless_shared')),
    sa.ForeignKeyConstraint(['owner_id'], ['user.id'], name=op.f('fk_saved_view_owner_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_view'))
    )
    with op.batch_alter_table('saved_view', schema=None) as batch_op:
        batch_op.create_index('uq_saved_view_personal_name', ['owner_id', 'name_key'], unique=True, sqlite_where=sa.text('NOT shared'), postgresql_where=sa.text('NOT shared'))
        batch_op.create_index('uq_saved_view_shared_name', ['name_key'], unique=True, sqlite_where=sa.text('shared'), postgresql_where=sa.text('shared'))
    now = datetime.now(timezone.utc)
    op.bulk_insert(table, [
        {'owner_id': None, 'name': name, 'name_key': name.casefold(), 'shared': True, 'filters': filters,
         'created_at': now, 'updated_at': now}
        for name, filters in BUILTIN_VIEWS
    ])


def downgrade():
    with op.batch_alter_table('saved_view', schema=None) as batch_op:
        batch_op.drop_index('uq_saved_view_shared_name', sqlite_where=sa.text('shared'), postgresql_where=sa.text('shared'))
        batch_op.drop_index('uq_saved_view_personal_name', sqlite_where=sa.text('NOT shared'), postgresql_where=sa.text('NOT shared'))

    op.drop_table('saved_view')
