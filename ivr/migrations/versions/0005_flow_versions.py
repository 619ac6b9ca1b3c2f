"""flow versions, drafts, live pointers and their audit (issue 6)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'flows',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('center', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('draft', sa.Text(), nullable=False),
        sa.Column('draft_revision', sa.Integer(), nullable=False),
        sa.Column('draft_saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('draft_saved_by', sa.String(length=64), nullable=False),
        sa.Column('live_version', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('center', 'name', name='uq_flows_center_name'),
    )
    op.create_table(
        'flow_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('center', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sa.String(length=64), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('center', 'name', 'version',
                            name='uq_flow_versions_center_name_version'),
    )
    op.create_table(
        'flow_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('center', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=80), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_flow_audit_subject', 'flow_audit', ['center', 'subject', 'id'])
    op.create_table(
        'line_announcements',
        sa.Column('center', sa.String(length=64), nullable=False),
        sa.Column('line', sa.String(length=32), nullable=False),
        sa.Column('text', sa.JSON(), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('set_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('center', 'line'),
    )


def downgrade() -> None:
    op.drop_table('line_announcements')
    op.drop_index('ix_flow_audit_subject', table_name='flow_audit')
    op.drop_table('flow_audit')
    op.drop_table('flow_versions')
    op.drop_table('flows')
