"""Post-Order: returns' state and estimated refund beside the actual one.

A return is a refund only once the seller refunded it: ``refund_amount_*`` and ``refund_date``
stay NULL until then, and ``estimated_refund_*`` and ``return_state`` say what is expected and
where the return stands. New columns start NULL: the next sync of each window fills them (``raw``
holds everything they are read from).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONEY = sa.Numeric()

REFUNDS_TABLE = (
    "One row per REFUND finance transaction (refund_source 'finances') and per Post-Order return "
    "(refund_source 'return', open or closed). A return is a refund only once refund_amount_value is set."
)
REFUND_AMOUNT = (
    "The money refunded: a finance REFUND's amount, or a return's actual refund (sellerTotalRefund."
    "actualRefundAmount); NULL for a return not refunded (yet)."
)
ESTIMATED_REFUND = "Returns only: sellerTotalRefund.estimatedRefundAmount, what eBay expects the refund to be."
RETURN_STATE = "Returns only: eBay's ReturnStateEnum state (e.g. ITEM_READY_TO_SHIP, CLOSED)."
REFUND_DATE = (
    "When the refund was issued: a finance REFUND's transactionDate, or a return's actualRefundDetail."
    "refundIssuedDate; NULL for a return not refunded."
)


def upgrade() -> None:
    op.add_column("ebay_refunds", sa.Column("estimated_refund_value", MONEY, comment=ESTIMATED_REFUND))
    op.add_column("ebay_refunds", sa.Column("estimated_refund_currency", sa.Text()))
    op.add_column("ebay_refunds", sa.Column("return_state", sa.Text(), comment=RETURN_STATE))
    op.alter_column("ebay_refunds", "refund_amount_value", existing_type=MONEY, comment=REFUND_AMOUNT)
    op.alter_column("ebay_refunds", "refund_date", existing_type=sa.DateTime(timezone=True), comment=REFUND_DATE)
    op.create_table_comment("ebay_refunds", REFUNDS_TABLE)


def downgrade() -> None:
    op.drop_table_comment("ebay_refunds", existing_comment=REFUNDS_TABLE)
    op.alter_column(
        "ebay_refunds",
        "refund_date",
        existing_type=sa.DateTime(timezone=True),
        comment=None,
        existing_comment=REFUND_DATE,
    )
    op.alter_column(
        "ebay_refunds", "refund_amount_value", existing_type=MONEY, comment=None, existing_comment=REFUND_AMOUNT
    )
    op.drop_column("ebay_refunds", "return_state")
    op.drop_column("ebay_refunds", "estimated_refund_currency")
    op.drop_column("ebay_refunds", "estimated_refund_value")
