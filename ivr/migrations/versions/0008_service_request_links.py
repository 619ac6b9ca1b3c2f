"""service requests by phone and console (issue 8)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 04:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # PLACEHOLDER: filled in by the branch, or removed before landing


def downgrade() -> None:
    pass
