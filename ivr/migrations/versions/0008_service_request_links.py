"""service requests by phone and console: addresses spoken on the phone, calls linked to requests

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 04:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service_requests") as batch:
        batch.add_column(sa.Column("address_audio_url", sa.String(length=1024), nullable=True))
    op.create_table(
        "call_request_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.sid"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["service_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid", "request_id", "kind", name="uq_call_request_links"),
    )
    op.create_index("ix_call_request_links_request", "call_request_links", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_call_request_links_request", table_name="call_request_links")
    op.drop_table("call_request_links")
    with op.batch_alter_table("service_requests") as batch:
        batch.drop_column("address_audio_url")
