"""Initial schema: accounts, tokens, the worker compatibility tables and the eBay data tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 17:41:45.472503+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ebay_accounts",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("ebay_user_id", sa.Text(), nullable=True),
        sa.Column("marketplace_id", sa.Text(), server_default=sa.text("'EBAY_US'"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", name=op.f("pk_ebay_accounts")),
    )
    op.create_table(
        "ebay_active_inventory",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("listing_type", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("quantity_available", sa.Integer(), nullable=True),
        sa.Column("quantity_sold", sa.Integer(), nullable=True),
        sa.Column("current_price_value", sa.Numeric(), nullable=True),
        sa.Column("current_price_currency", sa.Text(), nullable=True),
        sa.Column("buy_it_now_price_value", sa.Numeric(), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("time_left", sa.Text(), nullable=True),
        sa.Column("watch_count", sa.Integer(), nullable=True),
        sa.Column("view_item_url", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "item_id", name=op.f("pk_ebay_active_inventory")),
    )
    op.create_index(
        "ix_ebay_active_inventory_account_sku", "ebay_active_inventory", ["ebay_account_id", "sku"], unique=False
    )
    op.create_table(
        "ebay_buyer",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("order_line_item_id", sa.Text(), nullable=False),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("seller_user_id", sa.Text(), nullable=True),
        sa.Column("quantity_purchased", sa.Integer(), nullable=True),
        sa.Column("transaction_price_value", sa.Numeric(), nullable=True),
        sa.Column("transaction_price_currency", sa.Text(), nullable=True),
        sa.Column("created_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_status", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "order_line_item_id", name=op.f("pk_ebay_buyer")),
    )
    op.create_index("ix_ebay_buyer_account_created", "ebay_buyer", ["ebay_account_id", "created_date"], unique=False)
    op.create_table(
        "ebay_cases",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("case_type", sa.Text(), nullable=True),
        sa.Column("case_status", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=True),
        sa.Column("buyer", sa.Text(), nullable=True),
        sa.Column("seller", sa.Text(), nullable=True),
        sa.Column("claim_amount_value", sa.Numeric(), nullable=True),
        sa.Column("claim_amount_currency", sa.Text(), nullable=True),
        sa.Column("creation_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_modified_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "case_id", name=op.f("pk_ebay_cases")),
    )
    op.create_index("ix_ebay_cases_account_created", "ebay_cases", ["ebay_account_id", "creation_date"], unique=False)
    op.create_index(
        "ix_ebay_cases_account_item", "ebay_cases", ["ebay_account_id", "item_id", "transaction_id"], unique=False
    )
    op.create_index("ix_ebay_cases_account_order", "ebay_cases", ["ebay_account_id", "order_id"], unique=False)
    op.create_table(
        "ebay_disputes",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("payment_dispute_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("payment_dispute_status", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("amount_value", sa.Numeric(), nullable=True),
        sa.Column("amount_currency", sa.Text(), nullable=True),
        sa.Column("open_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seller_response", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "payment_dispute_id", name=op.f("pk_ebay_disputes")),
    )
    op.create_index("ix_ebay_disputes_account_open", "ebay_disputes", ["ebay_account_id", "open_date"], unique=False)
    op.create_index("ix_ebay_disputes_account_order", "ebay_disputes", ["ebay_account_id", "order_id"], unique=False)
    op.create_table(
        "ebay_finances_fees",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.Text(), nullable=False),
        sa.Column("transaction_type", sa.Text(), nullable=False),
        sa.Column("line_item_id", sa.Text(), nullable=False),
        sa.Column("fee_seq", sa.Integer(), nullable=False),
        sa.Column("fee_type", sa.Text(), nullable=True),
        sa.Column("amount_value", sa.Numeric(), nullable=True),
        sa.Column("amount_currency", sa.Text(), nullable=True),
        sa.Column("fee_basis_amount_value", sa.Numeric(), nullable=True),
        sa.Column("fee_memo", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("transaction_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "ebay_account_id",
            "transaction_id",
            "transaction_type",
            "line_item_id",
            "fee_seq",
            name=op.f("pk_ebay_finances_fees"),
        ),
    )
    op.create_index(
        "ix_ebay_finances_fees_account_date",
        "ebay_finances_fees",
        ["ebay_account_id", "transaction_date"],
        unique=False,
    )
    op.create_index(
        "ix_ebay_finances_fees_account_order", "ebay_finances_fees", ["ebay_account_id", "order_id"], unique=False
    )
    op.create_table(
        "ebay_finances_transactions",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.Text(), nullable=False),
        sa.Column("transaction_type", sa.Text(), nullable=False),
        sa.Column("transaction_status", sa.Text(), nullable=True),
        sa.Column("transaction_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booking_entry", sa.Text(), nullable=True),
        sa.Column("amount_value", sa.Numeric(), nullable=True),
        sa.Column("amount_currency", sa.Text(), nullable=True),
        sa.Column("total_fee_amount_value", sa.Numeric(), nullable=True),
        sa.Column("total_fee_amount_currency", sa.Text(), nullable=True),
        sa.Column("total_fee_basis_amount_value", sa.Numeric(), nullable=True),
        sa.Column("total_fee_basis_amount_currency", sa.Text(), nullable=True),
        sa.Column("ebay_collected_tax_amount_value", sa.Numeric(), nullable=True),
        sa.Column("ebay_collected_tax_amount_currency", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("payout_id", sa.Text(), nullable=True),
        sa.Column("sales_record_reference", sa.Text(), nullable=True),
        sa.Column("fee_type", sa.Text(), nullable=True),
        sa.Column("transaction_memo", sa.Text(), nullable=True),
        sa.Column("payments_entity", sa.Text(), nullable=True),
        sa.Column("fee_count", sa.Integer(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "ebay_account_id", "transaction_id", "transaction_type", name=op.f("pk_ebay_finances_transactions")
        ),
    )
    op.create_index(
        "ix_ebay_finances_transactions_account_date",
        "ebay_finances_transactions",
        ["ebay_account_id", "transaction_date"],
        unique=False,
    )
    op.create_index(
        "ix_ebay_finances_transactions_account_order",
        "ebay_finances_transactions",
        ["ebay_account_id", "order_id"],
        unique=False,
    )
    op.create_index(
        "ix_ebay_finances_transactions_account_type",
        "ebay_finances_transactions",
        ["ebay_account_id", "transaction_type"],
        unique=False,
    )
    op.create_table(
        "ebay_inquiries",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("inquiry_id", sa.Text(), nullable=False),
        sa.Column("inquiry_status", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=True),
        sa.Column("buyer", sa.Text(), nullable=True),
        sa.Column("seller", sa.Text(), nullable=True),
        sa.Column("claim_amount_value", sa.Numeric(), nullable=True),
        sa.Column("claim_amount_currency", sa.Text(), nullable=True),
        sa.Column("creation_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_modified_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "inquiry_id", name=op.f("pk_ebay_inquiries")),
    )
    op.create_index(
        "ix_ebay_inquiries_account_created", "ebay_inquiries", ["ebay_account_id", "creation_date"], unique=False
    )
    op.create_index(
        "ix_ebay_inquiries_account_item",
        "ebay_inquiries",
        ["ebay_account_id", "item_id", "transaction_id"],
        unique=False,
    )
    op.create_index("ix_ebay_inquiries_account_order", "ebay_inquiries", ["ebay_account_id", "order_id"], unique=False)
    op.create_table(
        "ebay_inventory",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("condition_description", sa.Text(), nullable=True),
        sa.Column("available_quantity", sa.Integer(), nullable=True),
        sa.Column("brand", sa.Text(), nullable=True),
        sa.Column("mpn", sa.Text(), nullable=True),
        sa.Column("epid", sa.Text(), nullable=True),
        sa.Column("image_count", sa.Integer(), nullable=True),
        sa.Column("group_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "sku", name=op.f("pk_ebay_inventory")),
    )
    op.create_table(
        "ebay_messages",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("external_message_id", sa.Text(), nullable=True),
        sa.Column("folder_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("recipient_user_id", sa.Text(), nullable=True),
        sa.Column("send_to_name", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("message_type", sa.Text(), nullable=True),
        sa.Column("question_type", sa.Text(), nullable=True),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("item_title", sa.Text(), nullable=True),
        sa.Column("is_read", sa.Boolean(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=True),
        sa.Column("replied", sa.Boolean(), nullable=True),
        sa.Column("high_priority", sa.Boolean(), nullable=True),
        sa.Column("receive_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expiration_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "message_id", name=op.f("pk_ebay_messages")),
    )
    op.create_index("ix_ebay_messages_account_item", "ebay_messages", ["ebay_account_id", "item_id"], unique=False)
    op.create_index(
        "ix_ebay_messages_account_receive", "ebay_messages", ["ebay_account_id", "receive_date"], unique=False
    )
    op.create_table(
        "ebay_offers",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("offer_id", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("marketplace_id", sa.Text(), nullable=True),
        sa.Column("format", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("available_quantity", sa.Integer(), nullable=True),
        sa.Column("price_value", sa.Numeric(), nullable=True),
        sa.Column("price_currency", sa.Text(), nullable=True),
        sa.Column("listing_id", sa.Text(), nullable=True),
        sa.Column("listing_status", sa.Text(), nullable=True),
        sa.Column("sold_quantity", sa.Integer(), nullable=True),
        sa.Column("category_id", sa.Text(), nullable=True),
        sa.Column("merchant_location_key", sa.Text(), nullable=True),
        sa.Column("listing_duration", sa.Text(), nullable=True),
        sa.Column("listing_start_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "offer_id", name=op.f("pk_ebay_offers")),
    )
    op.create_index("ix_ebay_offers_account_listing", "ebay_offers", ["ebay_account_id", "listing_id"], unique=False)
    op.create_index("ix_ebay_offers_account_sku", "ebay_offers", ["ebay_account_id", "sku"], unique=False)
    op.create_table(
        "ebay_orders",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("creation_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_modified_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_fulfillment_status", sa.Text(), nullable=True),
        sa.Column("order_payment_status", sa.Text(), nullable=True),
        sa.Column("cancel_state", sa.Text(), nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("seller_id", sa.Text(), nullable=True),
        sa.Column("sales_record_reference", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("price_subtotal_value", sa.Numeric(), nullable=True),
        sa.Column("delivery_cost_value", sa.Numeric(), nullable=True),
        sa.Column("price_discount_value", sa.Numeric(), nullable=True),
        sa.Column("tax_value", sa.Numeric(), nullable=True),
        sa.Column("total_value", sa.Numeric(), nullable=True),
        sa.Column("total_fee_basis_amount_value", sa.Numeric(), nullable=True),
        sa.Column("total_marketplace_fee_value", sa.Numeric(), nullable=True),
        sa.Column("total_due_seller_value", sa.Numeric(), nullable=True),
        sa.Column("refunded_amount_value", sa.Numeric(), nullable=True),
        sa.Column("line_item_count", sa.Integer(), nullable=True),
        sa.Column("ship_to_country", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "order_id", name=op.f("pk_ebay_orders")),
    )
    op.create_index(
        "ix_ebay_orders_account_creation", "ebay_orders", ["ebay_account_id", "creation_date"], unique=False
    )
    op.create_index(
        "ix_ebay_orders_account_last_modified", "ebay_orders", ["ebay_account_id", "last_modified_date"], unique=False
    )
    op.create_index("ix_ebay_orders_order_id", "ebay_orders", ["order_id"], unique=False)
    op.create_table(
        "ebay_refunds",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("refund_source", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("line_item_id", sa.Text(), nullable=True),
        sa.Column("return_id", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=True),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("refund_amount_value", sa.Numeric(), nullable=True),
        sa.Column("refund_amount_currency", sa.Text(), nullable=True),
        sa.Column("refund_status", sa.Text(), nullable=True),
        sa.Column("refund_reason", sa.Text(), nullable=True),
        sa.Column("refund_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "refund_id", name=op.f("pk_ebay_refunds")),
    )
    op.create_index("ix_ebay_refunds_account_date", "ebay_refunds", ["ebay_account_id", "refund_date"], unique=False)
    op.create_index("ix_ebay_refunds_account_order", "ebay_refunds", ["ebay_account_id", "order_id"], unique=False)
    op.create_table(
        "ebay_sync_state",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("api_family", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("cursor_type", sa.Text(), nullable=True),
        sa.Column("cursor_value", sa.Text(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "meta", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebay_sync_state")),
    )
    op.create_index(
        "uq_ebay_sync_state_account_family", "ebay_sync_state", ["ebay_account_id", "api_family"], unique=True
    )
    op.create_table(
        "ebay_transactions",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("transaction_id", sa.Text(), nullable=False),
        sa.Column("transaction_type", sa.Text(), nullable=False),
        sa.Column("transaction_status", sa.Text(), nullable=True),
        sa.Column("transaction_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booking_entry", sa.Text(), nullable=True),
        sa.Column("amount_value", sa.Numeric(), nullable=True),
        sa.Column("amount_currency", sa.Text(), nullable=True),
        sa.Column("total_fee_amount_value", sa.Numeric(), nullable=True),
        sa.Column("total_fee_amount_currency", sa.Text(), nullable=True),
        sa.Column("total_fee_basis_amount_value", sa.Numeric(), nullable=True),
        sa.Column("total_fee_basis_amount_currency", sa.Text(), nullable=True),
        sa.Column("ebay_collected_tax_amount_value", sa.Numeric(), nullable=True),
        sa.Column("ebay_collected_tax_amount_currency", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("payout_id", sa.Text(), nullable=True),
        sa.Column("sales_record_reference", sa.Text(), nullable=True),
        sa.Column("fee_type", sa.Text(), nullable=True),
        sa.Column("transaction_memo", sa.Text(), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint(
            "ebay_account_id", "transaction_id", "transaction_type", name=op.f("pk_ebay_transactions")
        ),
    )
    op.create_index(
        "ix_ebay_transactions_account_date", "ebay_transactions", ["ebay_account_id", "transaction_date"], unique=False
    )
    op.create_index(
        "ix_ebay_transactions_account_order", "ebay_transactions", ["ebay_account_id", "order_id"], unique=False
    )
    op.create_table(
        "ebay_worker_global_config",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("workers_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "defaults_json",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebay_worker_global_config")),
    )
    op.create_table(
        "ebay_worker_run",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("api_family", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "summary_json",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("dagster_run_id", sa.Text(), nullable=True),
        sa.Column("partition_key", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebay_worker_run")),
    )
    op.create_index(
        "ix_ebay_worker_run_account_family_started",
        "ebay_worker_run",
        ["ebay_account_id", "api_family", "started_at"],
        unique=False,
    )
    op.create_index("ix_ebay_worker_run_dagster_run_id", "ebay_worker_run", ["dagster_run_id"], unique=False)
    op.create_index(
        "uq_ebay_worker_run_one_running",
        "ebay_worker_run",
        ["ebay_account_id", "api_family"],
        unique=True,
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_table(
        "order_line_items",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("line_item_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("legacy_item_id", sa.Text(), nullable=True),
        sa.Column("legacy_variation_id", sa.Text(), nullable=True),
        sa.Column("legacy_transaction_id", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("line_item_cost_value", sa.Numeric(), nullable=True),
        sa.Column("discounted_line_item_cost_value", sa.Numeric(), nullable=True),
        sa.Column("delivery_cost_value", sa.Numeric(), nullable=True),
        sa.Column("tax_value", sa.Numeric(), nullable=True),
        sa.Column("total_value", sa.Numeric(), nullable=True),
        sa.Column("refunded_amount_value", sa.Numeric(), nullable=True),
        sa.Column("line_item_fulfillment_status", sa.Text(), nullable=True),
        sa.Column("sold_format", sa.Text(), nullable=True),
        sa.Column("listing_marketplace_id", sa.Text(), nullable=True),
        sa.Column("purchase_marketplace_id", sa.Text(), nullable=True),
        sa.Column("order_creation_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "line_item_id", name=op.f("pk_order_line_items")),
    )
    op.create_index(
        "ix_order_line_items_account_legacy_item",
        "order_line_items",
        ["ebay_account_id", "legacy_item_id", "legacy_transaction_id"],
        unique=False,
    )
    op.create_index(
        "ix_order_line_items_account_order", "order_line_items", ["ebay_account_id", "order_id"], unique=False
    )
    op.create_index("ix_order_line_items_account_sku", "order_line_items", ["ebay_account_id", "sku"], unique=False)
    op.create_table(
        "ebay_api_worker_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("api_family", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column(
            "details_json",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ebay_worker_run.id"],
            name=op.f("fk_ebay_api_worker_log_run_id_ebay_worker_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebay_api_worker_log")),
    )
    op.create_index(
        "ix_ebay_api_worker_log_account_family_created",
        "ebay_api_worker_log",
        ["ebay_account_id", "api_family", "created_at"],
        unique=False,
    )
    op.create_index("ix_ebay_api_worker_log_run_id", "ebay_api_worker_log", ["run_id"], unique=False)
    op.create_table(
        "ebay_tokens",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("access_token_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("signing_key_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("last_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_refresh_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["ebay_account_id"],
            ["ebay_accounts.ebay_account_id"],
            name=op.f("fk_ebay_tokens_ebay_account_id_ebay_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ebay_account_id", name=op.f("pk_ebay_tokens")),
    )
    # The global kill switch is a single row; workers start enabled.
    op.execute("INSERT INTO ebay_worker_global_config (id, workers_enabled) VALUES (1, true)")


def downgrade() -> None:
    op.drop_table("ebay_tokens")
    op.drop_index("ix_ebay_api_worker_log_run_id", table_name="ebay_api_worker_log")
    op.drop_index("ix_ebay_api_worker_log_account_family_created", table_name="ebay_api_worker_log")
    op.drop_table("ebay_api_worker_log")
    op.drop_index("ix_order_line_items_account_sku", table_name="order_line_items")
    op.drop_index("ix_order_line_items_account_order", table_name="order_line_items")
    op.drop_index("ix_order_line_items_account_legacy_item", table_name="order_line_items")
    op.drop_table("order_line_items")
    op.drop_index(
        "uq_ebay_worker_run_one_running", table_name="ebay_worker_run", postgresql_where=sa.text("status = 'running'")
    )
    op.drop_index("ix_ebay_worker_run_dagster_run_id", table_name="ebay_worker_run")
    op.drop_index("ix_ebay_worker_run_account_family_started", table_name="ebay_worker_run")
    op.drop_table("ebay_worker_run")
    op.drop_table("ebay_worker_global_config")
    op.drop_index("ix_ebay_transactions_account_order", table_name="ebay_transactions")
    op.drop_index("ix_ebay_transactions_account_date", table_name="ebay_transactions")
    op.drop_table("ebay_transactions")
    op.drop_index("uq_ebay_sync_state_account_family", table_name="ebay_sync_state")
    op.drop_table("ebay_sync_state")
    op.drop_index("ix_ebay_refunds_account_order", table_name="ebay_refunds")
    op.drop_index("ix_ebay_refunds_account_date", table_name="ebay_refunds")
    op.drop_table("ebay_refunds")
    op.drop_index("ix_ebay_orders_order_id", table_name="ebay_orders")
    op.drop_index("ix_ebay_orders_account_last_modified", table_name="ebay_orders")
    op.drop_index("ix_ebay_orders_account_creation", table_name="ebay_orders")
    op.drop_table("ebay_orders")
    op.drop_index("ix_ebay_offers_account_sku", table_name="ebay_offers")
    op.drop_index("ix_ebay_offers_account_listing", table_name="ebay_offers")
    op.drop_table("ebay_offers")
    op.drop_index("ix_ebay_messages_account_receive", table_name="ebay_messages")
    op.drop_index("ix_ebay_messages_account_item", table_name="ebay_messages")
    op.drop_table("ebay_messages")
    op.drop_table("ebay_inventory")
    op.drop_index("ix_ebay_inquiries_account_order", table_name="ebay_inquiries")
    op.drop_index("ix_ebay_inquiries_account_item", table_name="ebay_inquiries")
    op.drop_index("ix_ebay_inquiries_account_created", table_name="ebay_inquiries")
    op.drop_table("ebay_inquiries")
    op.drop_index("ix_ebay_finances_transactions_account_type", table_name="ebay_finances_transactions")
    op.drop_index("ix_ebay_finances_transactions_account_order", table_name="ebay_finances_transactions")
    op.drop_index("ix_ebay_finances_transactions_account_date", table_name="ebay_finances_transactions")
    op.drop_table("ebay_finances_transactions")
    op.drop_index("ix_ebay_finances_fees_account_order", table_name="ebay_finances_fees")
    op.drop_index("ix_ebay_finances_fees_account_date", table_name="ebay_finances_fees")
    op.drop_table("ebay_finances_fees")
    op.drop_index("ix_ebay_disputes_account_order", table_name="ebay_disputes")
    op.drop_index("ix_ebay_disputes_account_open", table_name="ebay_disputes")
    op.drop_table("ebay_disputes")
    op.drop_index("ix_ebay_cases_account_order", table_name="ebay_cases")
    op.drop_index("ix_ebay_cases_account_item", table_name="ebay_cases")
    op.drop_index("ix_ebay_cases_account_created", table_name="ebay_cases")
    op.drop_table("ebay_cases")
    op.drop_index("ix_ebay_buyer_account_created", table_name="ebay_buyer")
    op.drop_table("ebay_buyer")
    op.drop_index("ix_ebay_active_inventory_account_sku", table_name="ebay_active_inventory")
    op.drop_table("ebay_active_inventory")
    op.drop_table("ebay_accounts")
