"""Report aggregates: 15-minute queue and agent rows, pauses by reason, the aggregator state.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "queue_intervals",
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("offered", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("short_abandoned", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("timeouts", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("exit_key", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("exit_empty", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rejected", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("disconnected", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("callbacks_requested", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("callbacks_completed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("callbacks_failed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("callbacks_listed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("wait_answered", sa.Double, nullable=False, server_default="0"),
        sa.Column("wait_abandoned", sa.Double, nullable=False, server_default="0"),
        sa.Column("ring", sa.Double, nullable=False, server_default="0"),
        sa.Column("talk", sa.Double, nullable=False, server_default="0"),
        sa.Column("hold", sa.Double, nullable=False, server_default="0"),
        sa.Column("acw", sa.Double, nullable=False, server_default="0"),
        sa.Column("handled", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("rang_unanswered", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("missed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("transferred", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("csat_sum", sa.Double, nullable=False, server_default="0"),
        sa.Column("csat_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("csat_satisfied", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("repeat_contacts", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("max_wait", sa.Double, nullable=False, server_default="0"),
        sa.Column("answered_within_5", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_10", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_15", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_20", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_30", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_45", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_60", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_90", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_120", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_180", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_300", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("answered_within_600", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_5", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_10", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_15", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_20", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_30", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_45", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_60", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_90", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_120", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_180", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_300", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("abandoned_within_600", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("queue", "start", name="pk_queue_intervals"),
    )
    op.create_index("ix_queue_intervals_start", "queue_intervals", ["start"])
    op.create_table(
        "agent_intervals",
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("answered", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("handled", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("ring_missed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("transfers", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("talk", sa.Double, nullable=False, server_default="0"),
        sa.Column("hold", sa.Double, nullable=False, server_default="0"),
        sa.Column("acw", sa.Double, nullable=False, server_default="0"),
        sa.Column("login", sa.Double, nullable=False, server_default="0"),
        sa.Column("available", sa.Double, nullable=False, server_default="0"),
        sa.Column("paused", sa.Double, nullable=False, server_default="0"),
        sa.Column("csat_sum", sa.Double, nullable=False, server_default="0"),
        sa.Column("csat_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("csat_satisfied", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("agent", "start", name="pk_agent_intervals"),
    )
    op.create_index("ix_agent_intervals_start", "agent_intervals", ["start"])
    op.create_table(
        "agent_pause_intervals",
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("seconds", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("agent", "start", "reason", name="pk_agent_pause_intervals"),
    )
    op.create_index("ix_agent_pause_intervals_start", "agent_pause_intervals", ["start"])
    op.create_table(
        "report_state",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_state"),
    )


def downgrade() -> None:
    op.drop_table("report_state")
    op.drop_index("ix_agent_pause_intervals_start", table_name="agent_pause_intervals")
    op.drop_table("agent_pause_intervals")
    op.drop_index("ix_agent_intervals_start", table_name="agent_intervals")
    op.drop_table("agent_intervals")
    op.drop_index("ix_queue_intervals_start", table_name="queue_intervals")
    op.drop_table("queue_intervals")
