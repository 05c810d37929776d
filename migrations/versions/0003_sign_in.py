"""sign_in: one row per live sign-in (browser), whose token its session and remember cookies carry.

Ending a sign-in (sign-out on that device, sign-out everywhere, a password change or reset,
deactivation, a role change) deletes its row, and the cookies that carried it are refused. The
rows behind sessions are kept per process like the user rows (services.recent), so the table
raises cache_version as the user table does (migration 0002's triggers; the user table itself is
not touched, so its triggers stay). Sessions from before this revision carry no token: everyone
signs in again once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BUMP = 'UPDATE cache_version SET version = version + 1 WHERE id = 1'
ACTIONS = ('insert', 'update', 'delete')


def upgrade():
    op.create_table('sign_in',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sign_in_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_token_hash'))
    )
    op.create_index(op.f('ix_sign_in_user_id'), 'sign_in', ['user_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE CONSTRAINT TRIGGER sign_in_cache_version AFTER INSERT OR UPDATE OR DELETE '
                   'ON sign_in DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_cache_version()')
        op.execute('CREATE TRIGGER sign_in_cache_version_truncate AFTER TRUNCATE ON sign_in '
                   'FOR EACH STATEMENT EXECUTE FUNCTION bump_cache_version()')
        return
    for action in ACTIONS:
        op.execute(f'CREATE TRIGGER sign_in_cache_version_{action} AFTER {action.upper()} ON sign_in '
                   f'BEGIN {BUMP}; END')


def downgrade():
    # Dropping the table drops its triggers on both databases.
    op.drop_index(op.f('ix_sign_in_user_id'), table_name='sign_in')
    op.drop_table('sign_in')
