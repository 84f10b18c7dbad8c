"""Money columns: booking direction of fees, a currency per amount, eBay-collected taxes by type.

Fees keep eBay's positive amount beside their ``booking_entry`` and a signed ``net_fee_value``;
transactions gain ``signed_amount_value``; every order and line-item amount gets its own currency
column (a cross-border order holds the buyer's and the seller's currency at once); orders and line
items store eBay collect-and-remit taxes in total and by type. New columns start NULL: the next
sync of each window fills them (``raw`` holds everything they are read from).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

JSONB = postgresql.JSONB(astext_type=sa.Text())
MONEY = sa.Numeric()

BUYER_CURRENCY = "The buyer's currency (pricingSummary.total's); kept for older readers."
LINE_CURRENCY = "The buyer's currency (lineItemCost's); kept for older readers."
ORDER_TOTAL = (
    "pricingSummary.total, in the buyer's currency. It holds eBay collect-and-remit tax only when "
    "total_includes_ebay_collected_tax (eBay adds it with fieldGroups=TAX_BREAKDOWN)."
)
LINE_TAX = "Sum of taxes[]: tax the seller collects (eBay-collected tax is apart)."
FEES_TABLE = (
    "One row per fee of a finance transaction. amount_value is positive as eBay sends it and "
    "booking_entry gives its direction (DEBIT charged, CREDIT given back); net_fee_value is the signed amount, "
    "so SUM(net_fee_value) is the net fees the seller paid."
)
FEE_AMOUNT = "The fee as eBay sends it: always positive, booking_entry says its way."
TRANSACTION_BOOKING = "CREDIT adds amount_value to the seller's funds, DEBIT takes it."

ORDER_CURRENCIES = (
    "price_subtotal",
    "delivery_cost",
    "price_discount",
    "tax",
    "total",
    "total_fee_basis_amount",
    "total_marketplace_fee",
    "total_due_seller",
    "refunded_amount",
)
LINE_CURRENCIES = ("line_item_cost", "discounted_line_item_cost", "delivery_cost", "tax", "total", "refunded_amount")


def _ebay_collected_taxes() -> list[sa.Column]:
    return [
        sa.Column(
            "ebay_collected_tax_value",
            MONEY,
            comment="Sum of lineItems[].ebayCollectAndRemitTaxes[].amount: tax eBay collects and remits, "
            "in the buyer's currency (NULL: none).",
        ),
        sa.Column("ebay_collected_tax_currency", sa.Text()),
        sa.Column(
            "ebay_collected_taxes",
            JSONB,
            comment='eBay-collected tax by taxType, amounts as decimal strings: {"VAT": "24.41"}.',
        ),
    ]


def _order_columns() -> list[sa.Column]:
    return [
        *(sa.Column(f"{name}_currency", sa.Text()) for name in ORDER_CURRENCIES),
        sa.Column(
            "total_includes_ebay_collected_tax",
            sa.Boolean(),
            comment="Whether total_value holds ebay_collected_tax_value: eBay says so by sending a line item's "
            "ebayCollectAndRemitTaxes and taxes of the same type together.",
        ),
        sa.Column("total_due_seller_converted_from_value", MONEY),
        sa.Column("total_due_seller_converted_from_currency", sa.Text()),
        sa.Column(
            "paid_amount_value",
            MONEY,
            comment="Sum of paymentSummary.payments[].amount (FAILED ones aside), in the seller's payout currency.",
        ),
        sa.Column("paid_amount_currency", sa.Text()),
        *_ebay_collected_taxes(),
    ]


def _signed_amount() -> sa.Column:
    return sa.Column(
        "signed_amount_value",
        MONEY,
        comment="amount_value signed by booking_entry (CREDIT +, DEBIT -): SUM gives the net change of funds.",
    )


def upgrade() -> None:
    for column in _order_columns():
        op.add_column("ebay_orders", column)
    op.alter_column("ebay_orders", "currency", existing_type=sa.Text(), comment=BUYER_CURRENCY)
    op.alter_column("ebay_orders", "total_value", existing_type=MONEY, comment=ORDER_TOTAL)
    op.alter_column(
        "ebay_orders",
        "total_due_seller_value",
        existing_type=MONEY,
        comment="paymentSummary.totalDueSeller, in the seller's payout currency (a cross-border order converts it).",
    )

    for name in LINE_CURRENCIES:
        op.add_column("order_line_items", sa.Column(f"{name}_currency", sa.Text()))
    for column in _ebay_collected_taxes():
        op.add_column("order_line_items", column)
    op.alter_column("order_line_items", "currency", existing_type=sa.Text(), comment=LINE_CURRENCY)
    op.alter_column("order_line_items", "tax_value", existing_type=MONEY, comment=LINE_TAX)

    for table in ("ebay_transactions", "ebay_finances_transactions"):
        op.add_column(table, _signed_amount())
        op.alter_column(table, "booking_entry", existing_type=sa.Text(), comment=TRANSACTION_BOOKING)

    op.add_column(
        "ebay_finances_fees",
        sa.Column(
            "booking_entry",
            sa.Text(),
            comment="DEBIT: a fee charged to the seller; CREDIT: a fee given back (a refund's fee credit, a "
            "credited NON_SALE_CHARGE).",
        ),
    )
    op.add_column(
        "ebay_finances_fees",
        sa.Column(
            "net_fee_value",
            MONEY,
            comment="amount_value charged (+) or credited (-): SUM gives the net fees the seller paid.",
        ),
    )
    op.add_column("ebay_finances_fees", sa.Column("fee_basis_amount_currency", sa.Text()))
    op.alter_column("ebay_finances_fees", "amount_value", existing_type=MONEY, comment=FEE_AMOUNT)
    op.create_table_comment("ebay_finances_fees", FEES_TABLE)

    op.add_column("ebay_active_inventory", sa.Column("buy_it_now_price_currency", sa.Text()))


def downgrade() -> None:
    op.drop_column("ebay_active_inventory", "buy_it_now_price_currency")

    op.drop_table_comment("ebay_finances_fees", existing_comment=FEES_TABLE)
    op.alter_column(
        "ebay_finances_fees", "amount_value", existing_type=MONEY, comment=None, existing_comment=FEE_AMOUNT
    )
    for name in ("fee_basis_amount_currency", "net_fee_value", "booking_entry"):
        op.drop_column("ebay_finances_fees", name)

    for table in ("ebay_transactions", "ebay_finances_transactions"):
        op.alter_column(
            table, "booking_entry", existing_type=sa.Text(), comment=None, existing_comment=TRANSACTION_BOOKING
        )
        op.drop_column(table, "signed_amount_value")

    op.alter_column("order_line_items", "tax_value", existing_type=MONEY, comment=None, existing_comment=LINE_TAX)
    op.alter_column(
        "order_line_items", "currency", existing_type=sa.Text(), comment=None, existing_comment=LINE_CURRENCY
    )
    for column in _ebay_collected_taxes():
        op.drop_column("order_line_items", column.name)
    for name in LINE_CURRENCIES:
        op.drop_column("order_line_items", f"{name}_currency")

    op.alter_column("ebay_orders", "total_due_seller_value", existing_type=MONEY, comment=None)
    op.alter_column("ebay_orders", "total_value", existing_type=MONEY, comment=None, existing_comment=ORDER_TOTAL)
    op.alter_column("ebay_orders", "currency", existing_type=sa.Text(), comment=None, existing_comment=BUYER_CURRENCY)
    for column in _order_columns():
        op.drop_column("ebay_orders", column.name)
