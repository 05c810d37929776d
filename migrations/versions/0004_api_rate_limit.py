"""user.api_rate_limit: an account's own API budget ("600 per minute"), overriding API_RATE_LIMIT.

NULL keeps the default. An expand-only change (a nullable column): code of the release before
ignores it. The user table's cache_version triggers (0002) fire on its updates as on any other.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user', sa.Column('api_rate_limit', sa.String(length=40), nullable=True))


def downgrade():
    # Plain ALTER TABLE on both databases (SQLite 3.35+ drops a column in place): a batch
    # recreate of "user" on SQLite would drop its cache_version triggers with the old table.
    op.execute('ALTER TABLE "user" DROP COLUMN api_rate_limit')
