"""flow versions, drafts, live pointers and their audit (issue 6)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled in by the branch, or removed before landing


def downgrade() -> None:
    pass
