"""service types, service requests and their history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:00:00

The catalogue rows themselves are not seeded here: `ivr.service_requests.sync_catalogue` upserts
them from the catalogue file on start, so a catalogue change needs no migration.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_types",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=True),
        sa.Column("expected_days", sa.Float(), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("external_code", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "service_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("status_notes", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("address_id", sa.String(length=64), nullable=True),
        sa.Column("zipcode", sa.String(length=16), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("callback_number", sa.String(length=32), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("agency", sa.String(length=200), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("media_url", sa.String(length=1024), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.sid"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["service_code"], ["service_types.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number", name="uq_service_requests_number"),
        sa.UniqueConstraint("token", name="uq_service_requests_token"),
    )
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.create_index("ix_service_requests_call", ["call_sid"], unique=False)
        batch_op.create_index("ix_service_requests_callback", ["callback_number"], unique=False)
        batch_op.create_index("ix_service_requests_requested_at", ["requested_at"], unique=False)
        batch_op.create_index("ix_service_requests_service", ["service_code", "requested_at"],
                              unique=False)
        batch_op.create_index("ix_service_requests_status", ["status", "requested_at"],
                              unique=False)

    op.create_table(
        "service_request_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_request_notes", schema=None) as batch_op:
        batch_op.create_index("ix_service_request_notes_request", ["request_id", "id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_request_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_notes_request")
    op.drop_table("service_request_notes")
    with op.batch_alter_table("service_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_service_requests_status")
        batch_op.drop_index("ix_service_requests_service")
        batch_op.drop_index("ix_service_requests_requested_at")
        batch_op.drop_index("ix_service_requests_callback")
        batch_op.drop_index("ix_service_requests_call")
    op.drop_table("service_requests")
    op.drop_table("service_types")
