"""API quotas: eBay's rate limits and this project's own calls per account, family, API and day.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ebay_api_quota",
        sa.Column("quota_row_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("ebay_account_id", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("api_context", sa.Text(), nullable=True),
        sa.Column("api_name", sa.Text(), nullable=True),
        sa.Column("api_version", sa.Text(), nullable=True),
        sa.Column("resource", sa.Text(), nullable=True),
        sa.Column("quota", sa.Text(), nullable=True),
        sa.Column("call_limit", sa.BigInteger(), nullable=True),
        sa.Column("remaining", sa.BigInteger(), nullable=True),
        sa.Column("call_count", sa.BigInteger(), nullable=True),
        sa.Column("reset_at", TS, nullable=True),
        sa.Column("time_window_seconds", sa.Integer(), nullable=True),
        sa.Column("calls_at_fetch", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("fetched_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("quota_row_id", name=op.f("pk_ebay_api_quota")),
    )
    op.create_index(
        "ix_ebay_api_quota_quota_scope_account_fetched",
        "ebay_api_quota",
        ["quota", "scope", "ebay_account_id", "fetched_at"],
        unique=False,
    )
    op.create_table(
        "ebay_api_calls_daily",
        sa.Column("ebay_day", sa.Date(), nullable=False),
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("family", sa.Text(), nullable=False),
        sa.Column("call_name", sa.Text(), nullable=False),
        sa.Column("quota", sa.Text(), nullable=True),
        sa.Column("calls", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "ebay_day", "ebay_account_id", "family", "call_name", name=op.f("pk_ebay_api_calls_daily")
        ),
    )
    op.create_index("ix_ebay_api_calls_daily_quota_day", "ebay_api_calls_daily", ["quota", "ebay_day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ebay_api_calls_daily_quota_day", table_name="ebay_api_calls_daily")
    op.drop_table("ebay_api_calls_daily")
    op.drop_index("ix_ebay_api_quota_quota_scope_account_fetched", table_name="ebay_api_quota")
    op.drop_table("ebay_api_quota")
