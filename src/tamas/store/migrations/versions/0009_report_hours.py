"""Report aggregates per local hour of the queues (queue_hours, and center_hours: summed over
every queue), beside the day tables.

A 60-minute interval report reads one row per queue and hour (per hour without a queue
filter) instead of four 15-minute rows per queue.
The hour rows are in the zone of the day tables (``report_state.day_zone``): the upgrade
empties the day zone (NULL, as 0007 left it) so that the report maintainer, when it starts,
rolls both the day and the hour tables up from the 15-minute rows in the configured
``reports.timezone`` (``tamas.store.reports.rollup_days``); until then reports read the
15-minute rows (the same figures, slower). A database without report state is unchanged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
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
        "queue_hours",
        sa.Column("queue", sa.Text, nullable=False),
        sa.Column("hour", sa.BigInteger, nullable=False, autoincrement=False),
        *_queue_columns(),
        sa.PrimaryKeyConstraint("queue", "hour", name="pk_queue_hours"),
    )
    op.create_index("ix_queue_hours_hour", "queue_hours", ["hour"])
    op.create_table(
        "center_hours",
        sa.Column("hour", sa.BigInteger, nullable=False, autoincrement=False),
        *_queue_columns(),
        sa.PrimaryKeyConstraint("hour", name="pk_center_hours"),
    )
    # the hour tables are empty: the maintainer rolls it up with the days (module doc)
    op.execute(sa.text("UPDATE report_state SET day_zone = NULL"))


def downgrade() -> None:
    op.drop_table("center_hours")
    op.drop_index("ix_queue_hours_hour", table_name="queue_hours")
    op.drop_table("queue_hours")
