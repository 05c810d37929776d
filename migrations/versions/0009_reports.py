"""Reports: ticket.first_response_at and the rollups report_day and report_item_day, backfilled.

first_response_at is a ticket's first move to IN_PROGRESS, read from the audit trail here and set
by change_status from now on. The rollups are counted from the tickets once, then kept in step by
the ticket services in each change's own transaction (services.report_rollups). Expand-only: the
release before ignores the new column and tables (its changes would leave them stale, so after a
rollback and upgrade again, run `flask rebuild-reports`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 19:30:00

"""
from alembic import op
import sqlalchemy as sa

from webapp.models.report import ACK_BUCKETS, HOUR_COLUMNS, RES_BUCKETS


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _count(name, big=False):
    return sa.Column(name, sa.BigInteger() if big else sa.Integer(), server_default=sa.text('0'), nullable=False)


def upgrade():
    op.add_column('ticket', sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('report_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    _count('created'), _count('open'), _count('res_count'), _count('res_seconds', True),
    _count('ack_count'), _count('ack_seconds', True),
    *(_count(name) for name in (*HOUR_COLUMNS, *RES_BUCKETS, *ACK_BUCKETS)),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_report_day_category_id_category')),
    sa.PrimaryKeyConstraint('day', 'category_id', 'severity', name=op.f('pk_report_day'))
    )
    op.create_index('ix_report_day_open', 'report_day', ['severity', 'category_id', 'day', 'open'], unique=False,
                    sqlite_where=sa.text('open > 0'), postgresql_where=sa.text('open > 0'))
    op.create_table('report_item_day',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    _count('created'),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_report_item_day_category_id_category')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_report_item_day_item_id_item')),
    sa.PrimaryKeyConstraint('day', 'item_id', 'severity', name=op.f('pk_report_item_day'))
    )
    op.create_index('ix_report_item_day_category', 'report_item_day', ['category_id', 'day'], unique=False)
    # The counting code is the services' own (one definition of what a cell holds); it reads the
    # columns created above.
    from webapp.services.report_rollups import rebuild
    rebuild(op.get_bind())


def downgrade():
    op.drop_index('ix_report_item_day_category', table_name='report_item_day')
    op.drop_table('report_item_day')
    op.drop_index('ix_report_day_open', table_name='report_day', sqlite_where=sa.text('open > 0'),
                  postgresql_where=sa.text('open > 0'))
    op.drop_table('report_day')
    # In place on both databases (SQLite 3.35+): a batch recreate would drop ticket's indexes' partial clauses.
    op.execute('ALTER TABLE ticket DROP COLUMN first_response_at')
