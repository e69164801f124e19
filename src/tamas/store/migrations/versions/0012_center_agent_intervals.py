"""The agents' 15-minute rows summed over every agent (center_agent_intervals, one row per
15-minute start) and their pauses by reason (center_agent_pause_intervals, one row per
start and reason).

The agent report per 15-, 30- or 60-minute interval without an agent filter read every
agent's 15-minute rows of its range (a year of 200 agents: millions of rows); it reads one
row per 15 minutes from these (and the pauses per reason). Like ``center_intervals``
(0010) they have no zone: the upgrade fills them here from ``agent_intervals`` and
``agent_pause_intervals``, and ``tamas.store.reports.apply`` adds to them in the
transaction that adds to the agents' rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-17
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

_AGENT = (
    ("answered", True), ("handled", True), ("ring_missed", True), ("transfers", True),
    ("talk", False), ("hold", False), ("acw", False), ("login", False), ("available", False),
    ("paused", False), ("csat_sum", False), ("csat_count", True), ("csat_satisfied", True),
)  # fmt: skip


def _counter(name: str, is_int: bool) -> sa.Column[object]:
    kind: object = sa.BigInteger if is_int else sa.Double
    return sa.Column(name, kind, nullable=False, server_default="0")  # type: ignore[arg-type]


def _total(name: str, is_int: bool) -> str:
    return f"CAST(sum({name}) AS BIGINT)" if is_int else f"sum({name})"


def upgrade() -> None:
    op.create_table(
        "center_agent_intervals",
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        *(_counter(n, i) for n, i in _AGENT),
        sa.PrimaryKeyConstraint("start", name="pk_center_agent_intervals"),
    )
    op.create_table(
        "center_agent_pause_intervals",
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("seconds", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("start", "reason", name="pk_center_agent_pause_intervals"),
    )
    columns = ", ".join(n for n, _ in _AGENT)
    sums = ", ".join(_total(n, i) for n, i in _AGENT)
    op.execute(
        sa.text(
            f"INSERT INTO center_agent_intervals (start, {columns}) "
            f"SELECT start, {sums} FROM agent_intervals GROUP BY start"
        )
    )
    op.execute(
        sa.text(
            "INSERT INTO center_agent_pause_intervals (start, reason, seconds) "
            "SELECT start, reason, sum(seconds) FROM agent_pause_intervals GROUP BY start, reason"
        )
    )


def downgrade() -> None:
    op.drop_table("center_agent_pause_intervals")
    op.drop_table("center_agent_intervals")
