"""bulk_job and bulk_job_item: bulk changes that run as jobs, and each ticket's outcome in one.

A job commits each chunk of tickets with its counts and one bulk_job_item row per ticket, so a
restarted runner skips what the job already did (found by (job_id, ref)), and the unique
(job_id, ticket_id) pair keeps any ticket from being changed twice by one job.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:13:21.695719

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulk_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('targets', sa.JSON(), nullable=True),
    sa.Column('filter_args', sa.JSON(), nullable=True),
    sa.Column('filter_source', sa.String(length=8), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('lease', sa.String(length=32), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_bulk_job_actor_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_job'))
    )
    with op.batch_alter_table('bulk_job', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_job_unfinished', ['status', 'heartbeat_at'], unique=False)

    op.create_table('bulk_job_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['bulk_job.id'], name=op.f('fk_bulk_job_item_job_id_bulk_job')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_bulk_job_item_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_job_item')),
    sa.UniqueConstraint('job_id', 'ticket_id', name=op.f('uq_bulk_job_item_job_id_ticket_id'))
    )
    with op.batch_alter_table('bulk_job_item', schema=None) as batch_op:
        batch_op.create_index('ix_bulk_job_item_ref', ['job_id', 'ref'], unique=False)



def downgrade():
    with op.batch_alter_table('bulk_job_item', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_job_item_ref')

    op.drop_table('bulk_job_item')
    with op.batch_alter_table('bulk_job', schema=None) as batch_op:
        batch_op.drop_index('ix_bulk_job_unfinished')

    op.drop_table('bulk_job')
