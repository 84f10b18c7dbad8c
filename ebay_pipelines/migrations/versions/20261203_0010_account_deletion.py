"""Marketplace Account Deletion: received notifications and the purge audit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ebay_account_deletion_notifications",
        sa.Column("notification_id", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("ebay_user_id", sa.Text(), comment="eBay's userId: cleared (NULL) once the purge ran."),
        sa.Column("username", sa.Text(), comment="eBay's username: cleared (NULL) once the purge ran."),
        sa.Column("eias_token", sa.Text(), comment="eBay's eiasToken: cleared (NULL) once the purge ran."),
        sa.Column(
            "ebay_user_id_sha256",
            sa.Text(),
            nullable=False,
            comment="SHA-256 (hex) of the userId (else the username).",
        ),
        sa.Column("event_date", TS),
        sa.Column("publish_date", TS),
        sa.Column("received_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", TS),
        sa.Column("status", sa.Text(), server_default=sa.text("'received'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_ebay_account_deletion_notifications")),
    )
    op.create_index(
        "ix_ebay_account_deletion_notifications_status",
        "ebay_account_deletion_notifications",
        ["status", "received_at"],
    )
    op.create_table(
        "ebay_account_deletion_audit",
        sa.Column("notification_id", sa.Text(), nullable=False),
        sa.Column("ebay_user_id_sha256", sa.Text(), nullable=False),
        sa.Column(
            "rows_changed",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment='Rows changed per table, e.g. {"ebay_orders": 3}.',
        ),
        sa.Column("purged_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_ebay_account_deletion_audit")),
    )


def downgrade() -> None:
    op.drop_table("ebay_account_deletion_audit")
    op.drop_index("ix_ebay_account_deletion_notifications_status", table_name="ebay_account_deletion_notifications")
    op.drop_table("ebay_account_deletion_notifications")
