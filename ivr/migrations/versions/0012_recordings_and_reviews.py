"""recordings, their plays and quality reviews

Revision ID: 0011_recordings
Revises: 0011_audit_log
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_recordings'
down_revision = '0011_audit_log'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("center", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("conference_sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delete_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.sid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sid"),
    )
    op.create_index("ix_recordings_call", "recordings", ["call_sid"])
    op.create_index("ix_recordings_due", "recordings", ["center", "delete_after"])
    op.create_table(
        "recording_plays",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recording_plays_recording", "recording_plays", ["recording_sid", "id"])
    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["call_sid"], ["calls.sid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_sid", name="uq_qa_reviews_call"),
    )
    op.create_index("ix_qa_reviews_period", "qa_reviews", ["period", "agent"])


def downgrade() -> None:
    op.drop_index("ix_qa_reviews_period", table_name="qa_reviews")
    op.drop_table("qa_reviews")
    op.drop_index("ix_recording_plays_recording", table_name="recording_plays")
    op.drop_table("recording_plays")
    op.drop_index("ix_recordings_due", table_name="recordings")
    op.drop_index("ix_recordings_call", table_name="recordings")
    op.drop_table("recordings")
