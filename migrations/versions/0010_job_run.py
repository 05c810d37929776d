"""job_run: each background job's last run, the heartbeat /readyz, /metrics and `flask health` read.

One row per job name, upserted when a job finishes (ok or failed). A new table only (expand):
code of the release before never reads it; the downgrade drops it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('name', sa.String(length=100), primary_key=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('result', sa.BigInteger(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    )


def downgrade():
    op.drop_table('job_run')
