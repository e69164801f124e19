"""The event log (one row per journal record, keyed by seq) and call detail records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_call_id", "events", ["call_id"])
    op.create_index("ix_events_queue_at", "events", ["queue", "at"])
    op.create_index("ix_events_agent_at", "events", ["agent", "at"])
    op.create_table(
        "cdrs",
        sa.Column("call_id", sa.Text, primary_key=True),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("answered_at", sa.Double, nullable=True),
        sa.Column("ended_at", sa.Double, nullable=True),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("callee", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("trunk", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("queues", sa.JSON, nullable=False),
        sa.Column("agents", sa.JSON, nullable=False),
        sa.Column("legs", sa.JSON, nullable=False),
        sa.Column("recordings", sa.JSON, nullable=False),
        sa.Column("wait_seconds", sa.Double, nullable=False),
        sa.Column("queue_seconds", sa.Double, nullable=False),
        sa.Column("talk_seconds", sa.Double, nullable=False),
        sa.Column("hold_seconds", sa.Double, nullable=False),
    )
    op.create_index("ix_cdrs_started_at", "cdrs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_cdrs_started_at", table_name="cdrs")
    op.drop_table("cdrs")
    op.drop_index("ix_events_agent_at", table_name="events")
    op.drop_index("ix_events_queue_at", table_name="events")
    op.drop_index("ix_events_call_id", table_name="events")
    op.drop_index("ix_events_at", table_name="events")
    op.drop_table("events")
