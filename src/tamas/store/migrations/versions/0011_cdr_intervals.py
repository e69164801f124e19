"""The first response time's sums per 15 minutes (cdr_intervals): per 15-minute interval of
the calls' start, the answered inbound calls and their summed ``wait_seconds``.

The KPI listing's first response time (FRT) averaged every CDR of its range; a year of a
large center is millions of CDRs. ``tamas.store.events.put_cdrs`` keeps these rows in the
transaction that writes the CDRs and ``first_response`` reads them for the whole 15-minute
intervals of a range (the CDRs only at its edges). The intervals are UTC-aligned (the same
in every zone), so the upgrade fills the table here from ``cdrs``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-17
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cdr_intervals",
        sa.Column("start", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("answered_inbound", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("wait_seconds", sa.Double, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("start", name="pk_cdr_intervals"),
    )
    # the 15-minute start at or before started_at (CAST truncates on SQLite: the times are
    # positive; PostgreSQL's CAST rounds, hence floor)
    if op.get_bind().dialect.name == "postgresql":
        start = "CAST(floor(started_at / 900) AS BIGINT) * 900"
    else:
        start = "CAST(started_at / 900 AS INTEGER) * 900"
    op.execute(
        sa.text(
            f"INSERT INTO cdr_intervals (start, answered_inbound, wait_seconds) "
            f"SELECT {start} AS s, count(*), sum(wait_seconds) FROM cdrs "
            f"WHERE direction = 'inbound' AND answered_at IS NOT NULL GROUP BY s"
        )
    )


def downgrade() -> None:
    op.drop_table("cdr_intervals")
