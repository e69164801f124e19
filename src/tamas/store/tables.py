"""The database schema as SQLAlchemy Core tables.

Alembic migrations (``migrations/versions``) create these tables; this module is what the
repositories query. Times are float epoch seconds (``Double`` on PostgreSQL, ``REAL`` on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

registrations = sa.Table(
    "registrations",
    metadata,
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
    sa.UniqueConstraint("aor", "contact_uri"),
    sa.Index(None, "expires_at"),
)

calls = sa.Table(
    "calls",
    metadata,
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
    sa.Index(None, "started_at"),
)

bans = sa.Table(
    "bans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("banned_at", sa.Double, nullable=False),
    sa.Column("until", sa.Double, nullable=False),
    sa.Index(None, "source"),
    sa.Index(None, "until"),
)

recordings = sa.Table(
    "recordings",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("call_id", sa.Text, nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("layout", sa.Text, nullable=False),
    sa.Column("channels", sa.Integer, nullable=False),
    sa.Column("rate", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Double, nullable=False),
    sa.Column("duration", sa.Double, nullable=False),
    sa.Column("paused_spans", sa.JSON, nullable=False),  # [[start, end], ...] seconds from start
    sa.Column("caller_packets", sa.Integer, nullable=False, server_default="0"),
    sa.Column("caller_late", sa.Integer, nullable=False, server_default="0"),
    sa.Column("agent_packets", sa.Integer, nullable=False, server_default="0"),
    sa.Column("agent_late", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=False, server_default=""),
    sa.Index(None, "call_id"),
    sa.Index(None, "started_at"),
)
