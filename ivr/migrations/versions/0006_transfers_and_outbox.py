"""transfers, their steps and the hand-off outbox (issue 5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'transfers',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('call_sid', sa.String(length=64), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('origin', sa.String(length=16), nullable=False),
        sa.Column('center', sa.String(length=32), nullable=False),
        sa.Column('destination', sa.String(length=16), nullable=False),
        sa.Column('dialed', sa.String(length=200), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=True),
        sa.Column('reservation', sa.String(length=64), nullable=True),
        sa.Column('previous', sa.String(length=32), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=True),
        sa.Column('leg_sid', sa.String(length=64), nullable=True),
        sa.Column('incident', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('agent_left_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['call_sid'], ['calls.sid'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_transfers_call', 'transfers', ['call_sid'])
    op.create_index('ix_transfers_started', 'transfers', ['started_at'])
    op.create_table(
        'transfer_steps',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('transfer_id', sa.String(length=32), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_transfer_steps_transfer', 'transfer_steps', ['transfer_id', 'id'])
    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('destination', sa.String(length=500), nullable=True),
        sa.Column('secret_name', sa.String(length=100), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('idempotency_key', sa.String(length=200), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('idempotency_key'),
    )
    op.create_index('ix_outbox_due', 'outbox', ['delivered_at', 'next_attempt_at'])
    op.create_index('ix_outbox_subject', 'outbox', ['subject'])


def downgrade() -> None:
    op.drop_table('outbox')
    op.drop_table('transfer_steps')
    op.drop_table('transfers')
