"""Call recordings: one row per finished recording (file, layout, duration, paused spans).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("layout", sa.Text, nullable=False),
        sa.Column("channels", sa.Integer, nullable=False),
        sa.Column("rate", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("duration", sa.Double, nullable=False),
        sa.Column("paused_spans", sa.JSON, nullable=False),
        sa.Column("caller_packets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("caller_late", sa.Integer, nullable=False, server_default="0"),
        sa.Column("agent_packets", sa.Integer, nullable=False, server_default="0"),
        sa.Column("agent_late", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])
    op.create_index("ix_recordings_started_at", "recordings", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_recordings_started_at", table_name="recordings")
    op.drop_index("ix_recordings_call_id", table_name="recordings")
    op.drop_table("recordings")
