"""Initial schema: registrations, calls, bans.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("aor", sa.Text, nullable=False),
        sa.Column("contact_uri", sa.Text, nullable=False),
        sa.Column("flow_transport", sa.Text, nullable=False),
        sa.Column("flow_host", sa.Text, nullable=False),
        sa.Column("flow_port", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Double, nullable=False),
        sa.Column("call_id", sa.Text, nullable=False),
        sa.Column("cseq", sa.Integer, nullable=False),
        sa.Column("user_agent", sa.Text, nullable=False),
        sa.Column("instance_id", sa.Text, nullable=True),
        sa.Column("q", sa.Double, nullable=True),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.UniqueConstraint("aor", "contact_uri", name="uq_registrations_aor_contact_uri"),
    )
    op.create_index("ix_registrations_expires_at", "registrations", ["expires_at"])
    op.create_table(
        "calls",
        sa.Column("call_id", sa.Text, primary_key=True),
        sa.Column("caller", sa.Text, nullable=False),
        sa.Column("callee", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("trunk", sa.Text, nullable=True),
        sa.Column("started_at", sa.Double, nullable=False),
        sa.Column("answered_at", sa.Double, nullable=True),
        sa.Column("ended_at", sa.Double, nullable=True),
        sa.Column("cause", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.Integer, nullable=True),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_table(
        "bans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("banned_at", sa.Double, nullable=False),
        sa.Column("until", sa.Double, nullable=False),
    )
    op.create_index("ix_bans_source", "bans", ["source"])
    op.create_index("ix_bans_until", "bans", ["until"])


def downgrade() -> None:
    op.drop_table("bans")
    op.drop_table("calls")
    op.drop_table("registrations")
