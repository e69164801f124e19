"""Contacts: a row per contact (name, unique code, e-mail, language, notes, source) and a
row per phone number (normalised, with its last 10 digits for look-ups).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("code", sa.Text, nullable=True),
        sa.Column("email", sa.Text, nullable=True),
        sa.Column("language", sa.Text, nullable=True),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.UniqueConstraint("code", name="uq_contacts_code"),
    )
    op.create_index("ix_contacts_name", "contacts", ["name"])
    op.create_table(
        "contact_numbers",
        sa.Column(
            "contact_id",
            sa.Text,
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("tail", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("contact_id", "position", name="pk_contact_numbers"),
    )
    op.create_index("ix_contact_numbers_number", "contact_numbers", ["number"])
    op.create_index("ix_contact_numbers_tail", "contact_numbers", ["tail"])


def downgrade() -> None:
    op.drop_index("ix_contact_numbers_tail", table_name="contact_numbers")
    op.drop_index("ix_contact_numbers_number", table_name="contact_numbers")
    op.drop_table("contact_numbers")
    op.drop_index("ix_contacts_name", table_name="contacts")
    op.drop_table("contacts")
