"""The queues' 15-minute rows summed over every queue (center_intervals): one row per
15-minute start.

The 15- and 30-minute interval reports without a queue filter, the KPI listing's peak
interval and the edges of the other whole-center queries read one row per 15 minutes
instead of one per queue. A 15-minute start is the same instant in every zone (every zone's
offset is a multiple of 15 minutes), so unlike the day and hour tables (0007, 0009) this
table has no zone: the upgrade fills it here from ``queue_intervals`` and leaves
``report_state.day_zone`` as it is (nothing to roll up when the maintainer starts). From
then on ``tamas.store.reports.apply`` adds to it in the transaction that adds to the
15-minute rows, whether the day tables are built or not, so it is always whole.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-17
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
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


def _names() -> list[tuple[str, bool]]:
    return [
        *((n, True) for n in _QUEUE_INTS),
        *_QUEUE_AFTER,
        *((f"answered_within_{e}", True) for e in _BANDS),
        *((f"abandoned_within_{e}", True) for e in _BANDS),
    ]


def _counter(name: str, is_int: bool) -> sa.Column[object]:
    kind: object = sa.BigInteger if is_int else sa.Double
    return sa.Column(name, kind, nullable=False, server_default="0")  # type: ignore[arg-type]


def _total(name: str, is_int: bool) -> str:
    if name == "max_wait":
        return "max(max_wait)"
    return f"CAST(sum({name}) AS BIGINT)" if is_int else f"sum({name})"


def upgrade() -> None:
    names = _names()
    op.create_table(
        "center_intervals",
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        *(_counter(n, i) for n, i in names),
        sa.PrimaryKeyConstraint("start", name="pk_center_intervals"),
    )
    columns = ", ".join(n for n, _ in names)
    sums = ", ".join(_total(n, i) for n, i in names)
    op.execute(
        sa.text(
            f"INSERT INTO center_intervals (start, {columns}) "
            f"SELECT start, {sums} FROM queue_intervals GROUP BY start"
        )
    )


def downgrade() -> None:
    op.drop_table("center_intervals")
