"""recovery: the repairs the reconciler and the journal make after a fault

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 07:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("differed", sa.Text(), nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_repairs_at", "repairs", ["at"])
    op.create_index("ix_repairs_call", "repairs", ["call_sid"])


def downgrade() -> None:
    op.drop_index("ix_repairs_call", table_name="repairs")
    op.drop_index("ix_repairs_at", table_name="repairs")
    op.drop_table("repairs")
