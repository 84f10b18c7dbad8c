"""Payouts: the ebay_payouts table (Finances getPayouts).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MONEY = sa.Numeric()


def upgrade() -> None:
    op.create_table(
        "ebay_payouts",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("payout_id", sa.Text(), nullable=False),
        sa.Column("payout_status", sa.Text()),
        sa.Column("payout_status_description", sa.Text()),
        sa.Column("payout_date", TS),
        sa.Column("last_attempted_payout_date", TS),
        sa.Column(
            "amount_value",
            MONEY,
            comment="The payout (eBay's Payout.amount): the signed sum of the finance transactions carrying its "
            "payout_id (CREDIT +, DEBIT -).",
        ),
        sa.Column("amount_currency", sa.Text()),
        sa.Column(
            "total_amount_value", MONEY, comment="Payout.totalAmount: amount plus the express payout fee, if any."
        ),
        sa.Column("total_amount_currency", sa.Text()),
        sa.Column(
            "total_fee_value", MONEY, comment="Payout.totalFee: the EXPRESS_PAYOUT_FEE of a payout to a debit card."
        ),
        sa.Column("total_fee_currency", sa.Text()),
        sa.Column("transaction_count", sa.Integer()),
        sa.Column("instrument_type", sa.Text()),
        sa.Column("instrument_nickname", sa.Text()),
        sa.Column("account_last_four_digits", sa.Text()),
        sa.Column("payout_memo", sa.Text()),
        sa.Column("bank_reference", sa.Text()),
        sa.Column("payout_reference", sa.Text()),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", TS),
        sa.Column("synced_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "payout_id", name=op.f("pk_ebay_payouts")),
        comment="Seller payouts from Finances getPayouts, one row per payoutId.",
    )
    op.create_index("ix_ebay_payouts_account_date", "ebay_payouts", ["ebay_account_id", "payout_date"])


def downgrade() -> None:
    op.drop_index("ix_ebay_payouts_account_date", table_name="ebay_payouts")
    op.drop_table("ebay_payouts")
