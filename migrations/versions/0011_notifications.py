"""watch and notification; the profile's email address, time zone, theme and notification preferences on user.

New tables and nullable (or defaulted) columns only (expand): the release before never reads them;
the downgrade drops them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")
MAIL_DUE = sa.text("mail IN ('pending', 'digest')")


def upgrade():
    # Plain ADD COLUMN on both databases: a batch recreate of "user" on SQLite would drop its
    # cache_version triggers with the old table (as in 0004). The service checks the theme's values.
    op.add_column('user', sa.Column('email', sa.String(length=254), nullable=True))
    op.add_column('user', sa.Column('time_zone', sa.String(length=64), nullable=True))
    op.add_column('user', sa.Column('theme', sa.String(length=8), server_default='auto', nullable=False))
    op.add_column('user', sa.Column('notify_prefs', sa.JSON(), nullable=True))
    op.create_table(
        'watch',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_watch_ticket_id_ticket')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_watch_user_id_user')),
        sa.PrimaryKeyConstraint('ticket_id', 'user_id', name=op.f('pk_watch')),
    )
    op.create_index('ix_watch_user', 'watch', ['user_id', 'ticket_id'])
    op.create_table(
        'notification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('audit_event_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mail', sa.String(length=8), nullable=True),
        sa.Column('mail_attempts', sa.SmallInteger(), nullable=False),
        sa.Column('mail_next_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mail_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('mail_error', sa.String(length=300), nullable=True),
        sa.CheckConstraint("mail IS NULL OR mail IN ('pending', 'digest', 'sent', 'failed')",
                           name=op.f('ck_notification_mail_known')),
        sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_notification_recipient_id_user')),
        sa.ForeignKeyConstraint(['audit_event_id'], ['audit_event.id'],
                                name=op.f('fk_notification_audit_event_id_audit_event')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_notification_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    )
    op.create_index('uq_notification_recipient_event', 'notification', ['recipient_id', 'audit_event_id'],
                    unique=True)
    op.create_index('ix_notification_inbox', 'notification', ['recipient_id', 'id'])
    op.create_index('ix_notification_unread', 'notification', ['recipient_id', 'ticket_id'],
                    sqlite_where=UNREAD, postgresql_where=UNREAD)
    op.create_index('ix_notification_mail_due', 'notification', ['mail', 'mail_next_at'],
                    sqlite_where=MAIL_DUE, postgresql_where=MAIL_DUE)


def downgrade():
    op.drop_table('notification')
    op.drop_table('watch')
    for column in ('notify_prefs', 'theme', 'time_zone', 'email'):
        op.execute(f'ALTER TABLE "user" DROP COLUMN {column}')
