"""call-taker state history and offers for reports and the audit (issue 7)

Offers need no table of their own: every offer and its fate is already an event of its call
(``offered``, ``accepted``, ``rejected``, ``expired``, ``offer-cancelled``, with the reservation).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agent_states',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('center', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('agent', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event', sa.String(length=32), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('call_sid', sa.String(length=64), nullable=True),
        sa.Column('reservation', sa.String(length=64), nullable=True),
        sa.Column('skills', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('center', 'seq', 'at', name='uq_agent_states_seq_at'),
    )
    op.create_index('ix_agent_states_agent', 'agent_states', ['agent', 'seq'])
    op.create_index('ix_agent_states_at', 'agent_states', ['center', 'at'])


def downgrade() -> None:
    op.drop_index('ix_agent_states_at', table_name='agent_states')
    op.drop_index('ix_agent_states_agent', table_name='agent_states')
    op.drop_table('agent_states')
