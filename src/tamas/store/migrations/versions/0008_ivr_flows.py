"""IVR flows edited through the API: a row per flow (its definition as JSON, the same
structure as one flow under ``ivr:`` in the configuration; when and by whom it was changed).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-14
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "ivr_flows",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("updated_by", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_ivr_flows"),
    )


def downgrade() -> None:
    op.drop_table("ivr_flows")
