"""attachment, attachment_chunk and ticket_link.

New tables only (expand): the release before never reads them; the downgrade drops them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

KEPT = sa.text("removed_at IS NOT NULL AND purged_at IS NULL")
ON_COMMENT = sa.text("comment_id IS NOT NULL")
PARENT = sa.text("kind = 'parent_of'")


def _fk(table: str, column: str, target: str):
    return sa.ForeignKeyConstraint([column], [f'{target}.id'], name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade():
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=True),
        sa.Column('uploader_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage', sa.String(length=8), nullable=False),
        sa.Column('storage_key', sa.String(length=255), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('size > 0', name=op.f('ck_attachment_size_positive')),
        sa.CheckConstraint("storage IN ('db', 's3')", name=op.f('ck_attachment_storage_known')),
        _fk('attachment', 'ticket_id', 'ticket'), _fk('attachment', 'comment_id', 'comment'),
        _fk('attachment', 'uploader_id', 'user'), _fk('attachment', 'removed_by_id', 'user'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    )
    op.create_index('ix_attachment_ticket', 'attachment', ['ticket_id', 'id'])
    op.create_index('ix_attachment_comment', 'attachment', ['comment_id'],
                    sqlite_where=ON_COMMENT, postgresql_where=ON_COMMENT)
    op.create_index('ix_attachment_removed', 'attachment', ['removed_at'], sqlite_where=KEPT, postgresql_where=KEPT)
    op.create_table(
        'attachment_chunk',
        sa.Column('attachment_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        _fk('attachment_chunk', 'attachment_id', 'attachment'),
        sa.PrimaryKeyConstraint('attachment_id', 'seq', name=op.f('pk_attachment_chunk')),
    )
    op.create_table(
        'ticket_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('creator_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('source_id <> target_id', name=op.f('ck_ticket_link_not_self')),
        sa.CheckConstraint("kind IN ('relates_to', 'duplicate_of', 'parent_of')", name=op.f('ck_ticket_link_kind_known')),
        _fk('ticket_link', 'source_id', 'ticket'), _fk('ticket_link', 'target_id', 'ticket'),
        _fk('ticket_link', 'creator_id', 'user'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_link')),
    )
    op.create_index('uq_ticket_link_pair', 'ticket_link', ['source_id', 'target_id'], unique=True)
    op.create_index('ix_ticket_link_target', 'ticket_link', ['target_id', 'source_id'])
    op.create_index('uq_ticket_link_one_parent', 'ticket_link', ['target_id'], unique=True,
                    sqlite_where=PARENT, postgresql_where=PARENT)


def downgrade():
    op.drop_table('ticket_link')
    op.drop_table('attachment_chunk')
    op.drop_table('attachment')
