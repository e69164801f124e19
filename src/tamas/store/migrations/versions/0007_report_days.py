"""Report aggregates per local day (queue_days, agent_days, agent_pause_days), the zone they
are in (report_state.day_zone) and the recent callers of the FCR count (report_callers).

The day tables start empty and ``day_zone`` NULL: the zone is configuration, which a
migration does not read. On a database with 15-minute rows already, the report maintainer
fills them from those rows when it starts (``tamas.store.reports.rollup_days``, in the
configured ``reports.timezone``); until then reports read the 15-minute rows (the same
figures, slower). The recent callers still in an old snapshot move to report_callers with
the first batch the maintainer applies.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

_BANDS = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
_QUEUE_INTS = (
    "offered", "answered", "abandoned", "short_abandoned", "timeouts", "exit_key",
    "exit_empty", "rejected", "disconnected", "callbacks_requested", "callbacks_completed",
    "callbacks_failed", "callbacks_listed",
)  # fmt: skip
_QUEUE_AFTER = (
    ("wait_answered", False), ("wait_abandoned", False), ("ring", False), ("talk", False),
    ("hold", False), ("acw", False), ("handled", True), ("rang_unanswered", True),
    ("missed", True), ("transferred", True), ("csat_sum", False), ("csat_count", True),
    ("csat_satisfied", True), ("repeat_contacts", True), ("max_wait", False),
)  # fmt: skip
_AGENT = (
    ("answered", True), ("handled", True), ("ring_missed", True), ("transfers", True),
    ("talk", False), ("hold", False), ("acw", False), ("login", False), ("available", False),
    ("paused", False), ("csat_sum", False), ("csat_count", True), ("csat_satisfied", True),
)  # fmt: skip


def _counter(name: str, is_int: bool) -> sa.Column[object]:
    kind: object = sa.BigInteger if is_int else sa.Double
    return sa.Column(name, kind, nullable=False, server_default="0")  # type: ignore[arg-type]


def _queue_columns() -> list[sa.Column[object]]:
    return [
        *(_counter(n, True) for n in _QUEUE_INTS),
        *(_counter(n, i) for n, i in _QUEUE_AFTER),
        *(_counter(f"answered_within_{e}", True) for e in _BANDS),
        *(_counter(f"abandoned_within_{e}", True) for e in _BANDS),
    ]


def upgrade() -> None:
    op.create_table(
        "queue_days",
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("day", sa.BigInteger, nullable=False, autoincrement=False),
        *_queue_columns(),
        sa.PrimaryKeyConstraint("queue", "day", name="pk_queue_days"),
    )
    op.create_index("ix_queue_days_day", "queue_days", ["day"])
    op.create_table(
        "agent_days",
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("day", sa.BigInteger, nullable=False, autoincrement=False),
        *(_counter(n, i) for n, i in _AGENT),
        sa.PrimaryKeyConstraint("agent", "day", name="pk_agent_days"),
    )
    op.create_index("ix_agent_days_day", "agent_days", ["day"])
    op.create_table(
        "agent_pause_days",
        sa.Column("agent", sa.Text, nullable=False),
        sa.Column("day", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("seconds", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("agent", "day", "reason", name="pk_agent_pause_days"),
    )
    op.create_index("ix_agent_pause_days_day", "agent_pause_days", ["day"])
    op.create_table(
        "report_callers",
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("start", sa.BigInteger, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("marked", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_report_callers"),
    )
    with op.batch_alter_table("report_state") as batch:
        batch.add_column(sa.Column("day_zone", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report_state") as batch:
        batch.drop_column("day_zone")
    op.drop_table("report_callers")
    op.drop_index("ix_agent_pause_days_day", table_name="agent_pause_days")
    op.drop_table("agent_pause_days")
    op.drop_index("ix_agent_days_day", table_name="agent_days")
    op.drop_table("agent_days")
    op.drop_index("ix_queue_days_day", table_name="queue_days")
    op.drop_table("queue_days")
