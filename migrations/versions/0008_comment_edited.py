"""comment.edited_at: when the author last edited a comment (its earlier text is in the audit).

NULL for a comment never edited. An expand-only change (a nullable column): code of the release
before ignores it. Plain ALTER TABLE on both databases: a batch recreate of "comment" on SQLite
would drop the search triggers (0006) with the old table.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 19:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('comment', sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute('ALTER TABLE comment DROP COLUMN edited_at')
