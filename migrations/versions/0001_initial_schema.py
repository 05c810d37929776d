"""Initial schema: users, the CTI tree, tickets, comments, audit, outbox, webhooks, idempotency.

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 13:23:54.760393

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category')),
    sa.UniqueConstraint('name', name=op.f('uq_category_name'))
    )
    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('api_key_hash', sa.String(length=64), nullable=True),
    sa.Column('api_key_prefix', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role <> 'SERVICE' OR password_hash IS NULL", name=op.f('ck_user_service_no_password')),
    sa.CheckConstraint("role IN ('ADMIN', 'AGENT', 'SERVICE')", name=op.f('ck_user_role')),
    sa.CheckConstraint('username = lower(username)', name=op.f('ck_user_username_lower')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_user_api_key_hash')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    op.create_table('webhook',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook')),
    sa.UniqueConstraint('name', name=op.f('uq_webhook_name'))
    )
    op.create_table('cti_type',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_cti_type_category_id_category')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cti_type')),
    sa.UniqueConstraint('category_id', 'name', name=op.f('uq_cti_type_category_id_name')),
    sa.UniqueConstraint('id', 'category_id', name=op.f('uq_cti_type_id_category_id'))
    )
    with op.batch_alter_table('cti_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cti_type_category_id'), ['category_id'], unique=False)

    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('response_headers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_idempotency_record_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_record_user_id_key'))
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_record_created', ['created_at'], unique=False)

    op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['type_id'], ['cti_type.id'], name=op.f('fk_item_type_id_cti_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('id', 'type_id', name=op.f('uq_item_id_type_id')),
    sa.UniqueConstraint('type_id', 'name', name=op.f('uq_item_type_id_name'))
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_type_id'), ['type_id'], unique=False)

    op.create_table('ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_id', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('overview', sa.Text(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('type_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('OPEN', 'IN_PROGRESS', 'RESOLVED', 'CLOSED')", name=op.f('ck_ticket_status_known')),
    sa.CheckConstraint('severity BETWEEN 1 AND 5', name=op.f('ck_ticket_severity_range')),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_ticket_assignee_id_user')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_ticket_category_id_category')),
    sa.ForeignKeyConstraint(['creator_id'], ['user.id'], name=op.f('fk_ticket_creator_id_user')),
    sa.ForeignKeyConstraint(['item_id', 'type_id'], ['item.id', 'item.type_id'], name=op.f('fk_ticket_item_id_type_id_item')),
    sa.ForeignKeyConstraint(['type_id', 'category_id'], ['cti_type.id', 'cti_type.category_id'], name=op.f('fk_ticket_type_id_category_id_cti_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket')),
    sa.UniqueConstraint('display_id', name=op.f('uq_ticket_display_id'))
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_active_assignee', ['assignee_id', 'severity', 'created_at', 'id'], unique=False, sqlite_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"))
        batch_op.create_index('ix_ticket_active_category', ['category_id', 'severity', 'created_at', 'id'], unique=False, sqlite_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"))
        batch_op.create_index('ix_ticket_active_queue', ['severity', 'created_at', 'id'], unique=False, sqlite_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"))
        batch_op.create_index('ix_ticket_assignee_queue', ['assignee_id', 'status', 'severity', 'created_at'], unique=False)
        batch_op.create_index('ix_ticket_category_queue', ['category_id', 'status', 'severity', 'created_at'], unique=False)
        batch_op.create_index('ix_ticket_queue', ['severity', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_resolved_due', ['resolved_at'], unique=False, sqlite_where=sa.text("status = 'RESOLVED'"), postgresql_where=sa.text("status = 'RESOLVED'"))
        batch_op.create_index('ix_ticket_status_queue', ['status', 'severity', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_updated', ['updated_at', 'id'], unique=False)
        batch_op.create_index('uq_ticket_open_dedup_key', ['dedup_key'], unique=True, sqlite_where=sa.text("dedup_key IS NOT NULL AND status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("dedup_key IS NOT NULL AND status IN ('OPEN', 'IN_PROGRESS')"))

    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target_type', sa.String(length=16), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_audit_event_actor_id_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_audit_event_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_admin', ['id'], unique=False, sqlite_where=sa.text('ticket_id IS NULL'), postgresql_where=sa.text('ticket_id IS NULL'))
        batch_op.create_index('ix_audit_event_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_comment_author_id_user')),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['user.id'], name=op.f('fk_comment_deleted_by_id_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_comment_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment'))
    )
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_ticket', ['ticket_id', 'created_at', 'id'], unique=False)

    op.create_table('outbox_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audit_event_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['audit_event_id'], ['audit_event.id'], name=op.f('fk_outbox_event_audit_event_id_audit_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_event')),
    sa.UniqueConstraint('audit_event_id', name=op.f('uq_outbox_event_audit_event_id'))
    )
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_event_pending', ['id'], unique=False, sqlite_where=sa.text('dispatched_at IS NULL'), postgresql_where=sa.text('dispatched_at IS NULL'))

    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('audit_event_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['audit_event_id'], ['audit_event.id'], name=op.f('fk_webhook_delivery_audit_event_id_audit_event')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('webhook_id', 'audit_event_id', name=op.f('uq_webhook_delivery_webhook_id_audit_event_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_due', ['status', 'next_attempt_at'], unique=False)


    create_append_only_triggers()

def downgrade():
    drop_append_only_triggers()
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_due')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('outbox_event', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_event_pending', sqlite_where=sa.text('dispatched_at IS NULL'), postgresql_where=sa.text('dispatched_at IS NULL'))

    op.drop_table('outbox_event')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_ticket')

    op.drop_table('comment')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_ticket')
        batch_op.drop_index('ix_audit_event_admin', sqlite_where=sa.text('ticket_id IS NULL'), postgresql_where=sa.text('ticket_id IS NULL'))

    op.drop_table('audit_event')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('uq_ticket_open_dedup_key', sqlite_where=sa.text("dedup_key IS NOT NULL AND status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("dedup_key IS NOT NULL AND status IN ('OPEN', 'IN_PROGRESS')"))
        batch_op.drop_index('ix_ticket_updated')
        batch_op.drop_index('ix_ticket_status_queue')
        batch_op.drop_index('ix_ticket_resolved_due', sqlite_where=sa.text("status = 'RESOLVED'"), postgresql_where=sa.text("status = 'RESOLVED'"))
        batch_op.drop_index('ix_ticket_queue')
        batch_op.drop_index('ix_ticket_category_queue')
        batch_op.drop_index('ix_ticket_assignee_queue')
        batch_op.drop_index('ix_ticket_active_queue', sqlite_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"))
        batch_op.drop_index('ix_ticket_active_category', sqlite_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"))
        batch_op.drop_index('ix_ticket_active_assignee', sqlite_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"), postgresql_where=sa.text("status IN ('OPEN', 'IN_PROGRESS')"))

    op.drop_table('ticket')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_type_id'))

    op.drop_table('item')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_record_created')

    op.drop_table('idempotency_record')
    with op.batch_alter_table('cti_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cti_type_category_id'))

    op.drop_table('cti_type')
    op.drop_table('webhook')
    op.drop_table('user')
    op.drop_table('category')


def create_append_only_triggers():
    """The audit trail is append-only in the database too: UPDATE and DELETE are refused."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_event is append-only';
            END $$
        """)
        op.execute("""
            CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
            FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
        """)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event
                BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END
            """)


def drop_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
