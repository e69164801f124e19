"""Voicemail messages: one row per message kept (box, caller, file, status, assignee).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "voicemail_messages",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("box", sa.Text, nullable=False),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("duration", sa.Double, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("assigned_to", sa.Text, nullable=True),
    )
    op.create_index("ix_voicemail_messages_box_status", "voicemail_messages", ["box", "status"])
    op.create_index("ix_voicemail_messages_at", "voicemail_messages", ["at"])


def downgrade() -> None:
    op.drop_index("ix_voicemail_messages_at", table_name="voicemail_messages")
    op.drop_index("ix_voicemail_messages_box_status", table_name="voicemail_messages")
    op.drop_table("voicemail_messages")
