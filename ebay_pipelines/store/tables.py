"""SQLAlchemy Core definitions of every table this project owns.

This module is the single source of truth for the schema: Alembic migrations are checked
against it by a test, and the upsert code derives column lists and keys from it.

Conventions for eBay data tables:
- the primary key is ``ebay_account_id`` plus eBay's natural key, so two accounts never collide;
- amounts are ``<name>_value`` (exact ``numeric``) with a ``<name>_currency`` beside them
  (or one ``currency`` column where eBay reports a single currency for the row);
- ``raw`` keeps the untouched payload, ``source_updated_at`` is eBay's last-change time of the
  record (the monotonic upsert guard), ``synced_at`` is when this project last wrote the row.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

TS = DateTime(timezone=True)
MONEY = Numeric()


def _account_fk() -> Column:
    return Column("ebay_account_id", Text, nullable=False, primary_key=True)


def _money(name: str, with_currency: bool = True) -> list[Column]:
    cols: list[Column] = [Column(f"{name}_value", MONEY)]
    if with_currency:
        cols.append(Column(f"{name}_currency", Text))
    return cols


def _ebay_collected_taxes() -> list[Column]:
    """eBay collect-and-remit taxes (US sales tax, UK/EU VAT, GST...): their sum and each type's amount."""
    return [
        Column(
            "ebay_collected_tax_value",
            MONEY,
            comment="Sum of lineItems[].ebayCollectAndRemitTaxes[].amount: tax eBay collects and remits, "
            "in the buyer's currency (NULL: none).",
        ),
        Column("ebay_collected_tax_currency", Text),
        Column(
            "ebay_collected_taxes",
            JSONB,
            comment='eBay-collected tax by taxType, amounts as decimal strings: {"VAT": "24.41"}.',
        ),
    ]


def _bookkeeping() -> list[Column]:
    return [
        Column("raw", JSONB, nullable=False),
        Column("source_updated_at", TS),
        Column("synced_at", TS, nullable=False, server_default=func.now()),
    ]


# --------------------------------------------------------------------------------------------
# Accounts and credentials
# --------------------------------------------------------------------------------------------

ebay_accounts = Table(
    "ebay_accounts",
    metadata,
    Column("ebay_account_id", Text, primary_key=True),
    # The seller's user name (messages name it as sender); getUser's ``username`` when connected.
    Column("ebay_user_id", Text),
    # eBay's immutable user id (getUser ``userId``): the same seller whatever their user name becomes.
    Column("ebay_immutable_user_id", Text),
    Column("marketplace_id", Text, nullable=False, server_default=text("'EBAY_US'")),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    # Sign Finances calls although the marketplace is outside the EU/UK (``accounts add --signing``).
    Column("signing_required", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", TS, nullable=False, server_default=func.now()),
    Column("updated_at", TS, nullable=False, server_default=func.now()),
)

ebay_tokens = Table(
    "ebay_tokens",
    metadata,
    Column(
        "ebay_account_id",
        Text,
        ForeignKey("ebay_accounts.ebay_account_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Fernet ciphertexts; plaintext tokens never reach the database.
    Column("refresh_token_encrypted", LargeBinary, nullable=False),
    Column("refresh_token_expires_at", TS),
    Column("access_token_encrypted", LargeBinary),
    Column("access_token_expires_at", TS),
    # Granted OAuth scopes, space-separated (NULL: not known, e.g. a token added with --refresh-token).
    Column("scopes", Text),
    # Scopes eBay refused to an account whose grant is not known (403 errorId 1100): its families skip.
    Column("scopes_denied", Text),
    # The digital-signature private key (Fernet ciphertext of its PEM), its public key as JWE (sent
    # in clear as x-ebay-signature-key anyway), eBay's key id and expiry.
    Column("signing_key_encrypted", LargeBinary),
    Column("signing_key_jwe", Text),
    Column("signing_key_id", Text),
    Column("signing_key_expires_at", TS),
    Column("last_refreshed_at", TS),
    Column("last_refresh_error", Text),
    Column("updated_at", TS, nullable=False, server_default=func.now()),
)

# --------------------------------------------------------------------------------------------
# Compatibility tables of the worker system this project replaces
# --------------------------------------------------------------------------------------------

ebay_worker_global_config = Table(
    "ebay_worker_global_config",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("workers_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("defaults_json", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("updated_at", TS, nullable=False, server_default=func.now()),
)

ebay_sync_state = Table(
    "ebay_sync_state",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("ebay_account_id", Text, nullable=False),
    Column("api_family", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("cursor_type", Text),
    Column("cursor_value", Text),
    Column("last_run_at", TS),
    Column("last_error", Text),
    Column("meta", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", TS, nullable=False, server_default=func.now()),
    Column("updated_at", TS, nullable=False, server_default=func.now()),
    Index("uq_ebay_sync_state_account_family", "ebay_account_id", "api_family", unique=True),
)

ebay_worker_run = Table(
    "ebay_worker_run",
    metadata,
    Column("id", Text, primary_key=True),
    Column("ebay_account_id", Text, nullable=False),
    Column("api_family", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("started_at", TS, nullable=False, server_default=func.now()),
    Column("finished_at", TS),
    Column("heartbeat_at", TS),
    Column("summary_json", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("error_message", Text),
    Column("dagster_run_id", Text),
    Column("partition_key", Text),
    Index("ix_ebay_worker_run_account_family_started", "ebay_account_id", "api_family", "started_at"),
    Index("ix_ebay_worker_run_dagster_run_id", "dagster_run_id"),
    # At most one running row per account + family: the database refuses a second one.
    Index(
        "uq_ebay_worker_run_one_running",
        "ebay_account_id",
        "api_family",
        unique=True,
        postgresql_where=text("status = 'running'"),
    ),
)

ebay_api_worker_log = Table(
    "ebay_api_worker_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("run_id", Text, ForeignKey("ebay_worker_run.id", ondelete="CASCADE")),
    Column("ebay_account_id", Text, nullable=False),
    Column("api_family", Text, nullable=False),
    Column("event_type", Text, nullable=False),
    Column("details_json", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", TS, nullable=False, server_default=func.now()),
    Index("ix_ebay_api_worker_log_run_id", "run_id"),
    Index("ix_ebay_api_worker_log_account_family_created", "ebay_account_id", "api_family", "created_at"),
)

# --------------------------------------------------------------------------------------------
# eBay data tables
# --------------------------------------------------------------------------------------------

ebay_orders = Table(
    "ebay_orders",
    metadata,
    _account_fk(),
    Column("order_id", Text, primary_key=True),
    Column("creation_date", TS),
    Column("last_modified_date", TS),
    Column("order_fulfillment_status", Text),
    Column("order_payment_status", Text),
    Column("cancel_state", Text),
    Column("buyer_username", Text),
    Column("seller_id", Text),
    Column("sales_record_reference", Text),
    Column("currency", Text, comment="The buyer's currency (pricingSummary.total's); kept for older readers."),
    *_money("price_subtotal"),
    *_money("delivery_cost"),
    *_money("price_discount"),
    *_money("tax"),
    Column(
        "total_value",
        MONEY,
        comment="pricingSummary.total, in the buyer's currency. It holds eBay collect-and-remit tax only when "
        "total_includes_ebay_collected_tax (eBay adds it with fieldGroups=TAX_BREAKDOWN).",
    ),
    Column("total_currency", Text),
    Column(
        "total_includes_ebay_collected_tax",
        Boolean,
        comment="Whether total_value holds ebay_collected_tax_value: eBay says so by sending a line item's "
        "ebayCollectAndRemitTaxes and taxes of the same type together.",
    ),
    *_money("total_fee_basis_amount"),
    *_money("total_marketplace_fee"),
    Column(
        "total_due_seller_value",
        MONEY,
        comment="paymentSummary.totalDueSeller, in the seller's payout currency (a cross-border order converts it).",
    ),
    Column("total_due_seller_currency", Text),
    *_money("total_due_seller_converted_from"),
    Column(
        "paid_amount_value",
        MONEY,
        comment="Sum of paymentSummary.payments[].amount (FAILED ones aside), in the seller's payout currency.",
    ),
    Column("paid_amount_currency", Text),
    *_money("refunded_amount"),
    *_ebay_collected_taxes(),
    Column("line_item_count", Integer),
    Column("ship_to_country", Text),
    *_bookkeeping(),
    Index("ix_ebay_orders_account_last_modified", "ebay_account_id", "last_modified_date"),
    Index("ix_ebay_orders_account_creation", "ebay_account_id", "creation_date"),
    Index("ix_ebay_orders_order_id", "order_id"),
)

order_line_items = Table(
    "order_line_items",
    metadata,
    _account_fk(),
    Column("line_item_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("legacy_item_id", Text),
    Column("legacy_variation_id", Text),
    Column("legacy_transaction_id", Text),
    Column("sku", Text),
    Column("title", Text),
    Column("quantity", Integer),
    Column("currency", Text, comment="The buyer's currency (lineItemCost's); kept for older readers."),
    *_money("line_item_cost"),
    *_money("discounted_line_item_cost"),
    *_money("delivery_cost"),
    Column("tax_value", MONEY, comment="Sum of taxes[]: tax the seller collects (eBay-collected tax is apart)."),
    Column("tax_currency", Text),
    *_money("total"),
    *_money("refunded_amount"),
    *_ebay_collected_taxes(),
    Column("line_item_fulfillment_status", Text),
    Column("sold_format", Text),
    Column("listing_marketplace_id", Text),
    Column("purchase_marketplace_id", Text),
    Column("order_creation_date", TS),
    *_bookkeeping(),
    Index("ix_order_line_items_account_order", "ebay_account_id", "order_id"),
    Index("ix_order_line_items_account_sku", "ebay_account_id", "sku"),
    Index("ix_order_line_items_account_legacy_item", "ebay_account_id", "legacy_item_id", "legacy_transaction_id"),
)


def _finance_transaction_columns() -> list[Column]:
    return [
        _account_fk(),
        Column("transaction_id", Text, primary_key=True),
        Column("transaction_type", Text, primary_key=True),
        Column("transaction_status", Text),
        Column("transaction_date", TS),
        Column("booking_entry", Text, comment="CREDIT adds amount_value to the seller's funds, DEBIT takes it."),
        *_money("amount"),
        Column(
            "signed_amount_value",
            MONEY,
            comment="amount_value signed by booking_entry (CREDIT +, DEBIT -): SUM gives the net change of funds.",
        ),
        *_money("total_fee_amount"),
        *_money("total_fee_basis_amount"),
        *_money("ebay_collected_tax_amount"),
        Column("order_id", Text),
        Column("buyer_username", Text),
        Column("payout_id", Text),
        Column("sales_record_reference", Text),
        Column("fee_type", Text),
        Column("transaction_memo", Text),
    ]


ebay_transactions = Table(
    "ebay_transactions",
    metadata,
    *_finance_transaction_columns(),
    *_bookkeeping(),
    Index("ix_ebay_transactions_account_date", "ebay_account_id", "transaction_date"),
    Index("ix_ebay_transactions_account_order", "ebay_account_id", "order_id"),
)

ebay_finances_transactions = Table(
    "ebay_finances_transactions",
    metadata,
    *_finance_transaction_columns(),
    Column("payments_entity", Text),
    Column("fee_count", Integer),
    *_bookkeeping(),
    Index("ix_ebay_finances_transactions_account_date", "ebay_account_id", "transaction_date"),
    Index("ix_ebay_finances_transactions_account_order", "ebay_account_id", "order_id"),
    Index("ix_ebay_finances_transactions_account_type", "ebay_account_id", "transaction_type"),
)

ebay_finances_fees = Table(
    "ebay_finances_fees",
    metadata,
    _account_fk(),
    Column("transaction_id", Text, primary_key=True),
    Column("transaction_type", Text, primary_key=True),
    # Empty string for fees charged on the transaction itself rather than on a line item.
    Column("line_item_id", Text, primary_key=True),
    Column("fee_seq", Integer, primary_key=True),
    Column("fee_type", Text),
    Column("amount_value", MONEY, comment="The fee as eBay sends it: always positive, booking_entry says its way."),
    Column("amount_currency", Text),
    Column(
        "booking_entry",
        Text,
        comment="DEBIT: a fee charged to the seller; CREDIT: a fee given back (a refund's fee credit, a credited "
        "NON_SALE_CHARGE).",
    ),
    Column(
        "net_fee_value",
        MONEY,
        comment="amount_value charged (+) or credited (-): SUM gives the net fees the seller paid.",
    ),
    *_money("fee_basis_amount"),
    Column("fee_memo", Text),
    Column("order_id", Text),
    Column("transaction_date", TS),
    *_bookkeeping(),
    Index("ix_ebay_finances_fees_account_order", "ebay_account_id", "order_id"),
    Index("ix_ebay_finances_fees_account_date", "ebay_account_id", "transaction_date"),
    comment="One row per fee of a finance transaction. amount_value is positive as eBay sends it and "
    "booking_entry gives its direction (DEBIT charged, CREDIT given back); net_fee_value is the signed amount, "
    "so SUM(net_fee_value) is the net fees the seller paid.",
)

ebay_payouts = Table(
    "ebay_payouts",
    metadata,
    _account_fk(),
    Column("payout_id", Text, primary_key=True),
    # PayoutStatusEnum: INITIATED, SUCCEEDED, RETRYABLE_FAILED, TERMINAL_FAILED, REVERSED.
    Column("payout_status", Text),
    Column("payout_status_description", Text),
    Column("payout_date", TS),
    Column("last_attempted_payout_date", TS),
    Column(
        "amount_value",
        MONEY,
        comment="The payout (eBay's Payout.amount): the signed sum of the finance transactions carrying its "
        "payout_id (CREDIT +, DEBIT -).",
    ),
    Column("amount_currency", Text),
    Column("total_amount_value", MONEY, comment="Payout.totalAmount: amount plus the express payout fee, if any."),
    Column("total_amount_currency", Text),
    Column("total_fee_value", MONEY, comment="Payout.totalFee: the EXPRESS_PAYOUT_FEE of a payout to a debit card."),
    Column("total_fee_currency", Text),
    Column("transaction_count", Integer),
    Column("instrument_type", Text),
    Column("instrument_nickname", Text),
    Column("account_last_four_digits", Text),
    Column("payout_memo", Text),
    Column("bank_reference", Text),
    Column("payout_reference", Text),
    *_bookkeeping(),
    Index("ix_ebay_payouts_account_date", "ebay_account_id", "payout_date"),
    comment="Seller payouts from Finances getPayouts, one row per payoutId.",
)

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

ebay_refunds = Table(
    "ebay_refunds",
    metadata,
    _account_fk(),
    Column("refund_id", Text, primary_key=True),
    # 'finances' (a REFUND finance transaction) or 'return' (a Post-Order return).
    Column("refund_source", Text, nullable=False),
    Column("order_id", Text),
    Column("line_item_id", Text),
    Column("return_id", Text),
    Column("transaction_id", Text),
    Column("item_id", Text),
    Column("refund_amount_value", MONEY, comment=REFUND_AMOUNT),
    Column("refund_amount_currency", Text),
    Column("estimated_refund_value", MONEY, comment=ESTIMATED_REFUND),
    Column("estimated_refund_currency", Text),
    Column("return_state", Text, comment=RETURN_STATE),
    Column("refund_status", Text),
    Column("refund_reason", Text),
    Column("refund_date", TS, comment=REFUND_DATE),
    Column("buyer_username", Text),
    *_bookkeeping(),
    Index("ix_ebay_refunds_account_order", "ebay_account_id", "order_id"),
    Index("ix_ebay_refunds_account_date", "ebay_account_id", "refund_date"),
    comment=REFUNDS_TABLE,
)

ebay_disputes = Table(
    "ebay_disputes",
    metadata,
    _account_fk(),
    Column("payment_dispute_id", Text, primary_key=True),
    Column("order_id", Text),
    Column("payment_dispute_status", Text),
    Column("reason", Text),
    Column("buyer_username", Text),
    *_money("amount"),
    Column("open_date", TS),
    Column("closed_date", TS),
    Column("respond_by_date", TS),
    Column("seller_response", Text),
    Column("outcome", Text),
    Column("revision", Integer),
    *_bookkeeping(),
    Index("ix_ebay_disputes_account_order", "ebay_account_id", "order_id"),
    Index("ix_ebay_disputes_account_open", "ebay_account_id", "open_date"),
)

ebay_offers = Table(
    "ebay_offers",
    metadata,
    _account_fk(),
    Column("offer_id", Text, primary_key=True),
    Column("sku", Text, nullable=False),
    Column("marketplace_id", Text),
    Column("format", Text),
    Column("status", Text),
    Column("available_quantity", Integer),
    *_money("price"),
    Column("listing_id", Text),
    Column("listing_status", Text),
    Column("sold_quantity", Integer),
    Column("category_id", Text),
    Column("merchant_location_key", Text),
    Column("listing_duration", Text),
    Column("listing_start_date", TS),
    *_bookkeeping(),
    Index("ix_ebay_offers_account_sku", "ebay_account_id", "sku"),
    Index("ix_ebay_offers_account_listing", "ebay_account_id", "listing_id"),
)

ebay_inventory = Table(
    "ebay_inventory",
    metadata,
    _account_fk(),
    Column("sku", Text, primary_key=True),
    Column("locale", Text),
    Column("title", Text),
    Column("condition", Text),
    Column("condition_description", Text),
    Column("available_quantity", Integer),
    Column("brand", Text),
    Column("mpn", Text),
    Column("epid", Text),
    Column("image_count", Integer),
    Column("group_ids", JSONB),
    *_bookkeeping(),
)

ebay_active_inventory = Table(
    "ebay_active_inventory",
    metadata,
    _account_fk(),
    Column("item_id", Text, primary_key=True),
    Column("sku", Text),
    Column("title", Text),
    Column("listing_type", Text),
    Column("quantity", Integer),
    Column("quantity_available", Integer),
    Column("quantity_sold", Integer),
    *_money("current_price"),
    *_money("buy_it_now_price"),
    Column("start_time", TS),
    Column("end_time", TS),
    Column("time_left", Text),
    Column("watch_count", Integer),
    Column("view_item_url", Text),
    *_bookkeeping(),
    Index("ix_ebay_active_inventory_account_sku", "ebay_account_id", "sku"),
)

# Every folder of GetMyMessages: Inbox (folder_id 0) and Sent (1). ``is_sent`` marks the seller's
# own sent messages (folder 1; NULL when eBay named no folder); an inbox view leaves out rows that
# are sent or whose sender is the account's own ``ebay_accounts.ebay_user_id`` (store.messages).
ebay_messages = Table(
    "ebay_messages",
    metadata,
    _account_fk(),
    Column("message_id", Text, primary_key=True),
    Column("external_message_id", Text),
    Column("folder_id", Integer),
    Column("is_sent", Boolean),
    Column("sender", Text),
    Column("recipient_user_id", Text),
    Column("send_to_name", Text),
    Column("subject", Text),
    Column("body", Text),
    Column("message_type", Text),
    Column("question_type", Text),
    Column("item_id", Text),
    Column("item_title", Text),
    Column("is_read", Boolean),
    Column("flagged", Boolean),
    Column("replied", Boolean),
    Column("high_priority", Boolean),
    Column("receive_date", TS),
    Column("expiration_date", TS),
    *_bookkeeping(),
    Index("ix_ebay_messages_account_receive", "ebay_account_id", "receive_date"),
    Index("ix_ebay_messages_account_item", "ebay_account_id", "item_id"),
)

ebay_buyer = Table(
    "ebay_buyer",
    metadata,
    _account_fk(),
    # eBay's OrderLineItemID: "<ItemID>-<TransactionID>".
    Column("order_line_item_id", Text, primary_key=True),
    Column("item_id", Text),
    Column("transaction_id", Text),
    Column("order_id", Text),
    Column("title", Text),
    Column("seller_user_id", Text),
    Column("quantity_purchased", Integer),
    *_money("transaction_price"),
    Column("created_date", TS),
    Column("paid_time", TS),
    Column("shipped_time", TS),
    Column("order_status", Text),
    *_bookkeeping(),
    Index("ix_ebay_buyer_account_created", "ebay_account_id", "created_date"),
)

ebay_inquiries = Table(
    "ebay_inquiries",
    metadata,
    _account_fk(),
    Column("inquiry_id", Text, primary_key=True),
    Column("inquiry_status", Text),
    Column("order_id", Text),
    Column("item_id", Text),
    Column("transaction_id", Text),
    Column("buyer", Text),
    Column("seller", Text),
    *_money("claim_amount"),
    Column("creation_date", TS),
    Column("last_modified_date", TS),
    Column("respond_by_date", TS),
    *_bookkeeping(),
    Index("ix_ebay_inquiries_account_created", "ebay_account_id", "creation_date"),
    Index("ix_ebay_inquiries_account_item", "ebay_account_id", "item_id", "transaction_id"),
    Index("ix_ebay_inquiries_account_order", "ebay_account_id", "order_id"),
)

ebay_cases = Table(
    "ebay_cases",
    metadata,
    _account_fk(),
    Column("case_id", Text, primary_key=True),
    Column("case_type", Text),
    Column("case_status", Text),
    Column("order_id", Text),
    Column("item_id", Text),
    Column("transaction_id", Text),
    Column("buyer", Text),
    Column("seller", Text),
    *_money("claim_amount"),
    Column("creation_date", TS),
    Column("last_modified_date", TS),
    Column("respond_by_date", TS),
    *_bookkeeping(),
    Index("ix_ebay_cases_account_created", "ebay_account_id", "creation_date"),
    Index("ix_ebay_cases_account_item", "ebay_account_id", "item_id", "transaction_id"),
    Index("ix_ebay_cases_account_order", "ebay_account_id", "order_id"),
)

# --------------------------------------------------------------------------------------------
# Derived: the problem grid, rebuilt per account from the tables above (store.problem_grid)
# --------------------------------------------------------------------------------------------

#: One row per problem: an inquiry, a case, a return, a payment dispute or a refund.
problem_order_items = Table(
    "problem_order_items",
    metadata,
    _account_fk(),
    # 'inquiry', 'case', 'return', 'dispute' or 'refund' (store.problem_grid.PROBLEM_TYPES).
    Column("problem_type", Text, primary_key=True),
    Column("problem_id", Text, primary_key=True),
    # NULL when the problem's order is not linked (its order and line items are not synced yet).
    Column("order_id", Text),
    Column("item_id", Text),
    Column("transaction_id", Text),
    # Case type, dispute reason, return or refund reason; ITEM_NOT_RECEIVED for inquiries.
    Column("reason", Text),
    Column("status", Text),
    Column("is_open", Boolean, nullable=False),
    Column("action_needed", Boolean, nullable=False),
    Column("respond_by", TS),
    *_money("amount"),
    Column("outcome", Text),
    Column("opened_at", TS),
    Column("closed_at", TS),
    Column("buyer_username", Text),
    Column("order_creation_date", TS),
    *_money("order_total"),
    Column("source_updated_at", TS),
    Column("synced_at", TS, nullable=False, server_default=func.now()),
    Index("ix_problem_order_items_account_order", "ebay_account_id", "order_id"),
    Index("ix_problem_order_items_account_action_respond_by", "ebay_account_id", "action_needed", "respond_by"),
)


def _problem_list(name: str) -> Column:
    return Column(name, JSONB, nullable=False, server_default=text("'[]'::jsonb"))


#: One row per order with any problem; per-type JSON arrays hold the problems (problem_order_items' columns).
problem_orders = Table(
    "problem_orders",
    metadata,
    _account_fk(),
    Column("order_id", Text, primary_key=True),
    Column("order_creation_date", TS),
    Column("order_last_modified_date", TS),
    Column("buyer_username", Text),
    Column("order_payment_status", Text),
    Column("order_fulfillment_status", Text),
    Column("currency", Text),
    *_money("order_total", with_currency=False),
    *_money("refunded_total"),
    Column("has_inquiry", Boolean, nullable=False, server_default=text("false")),
    Column("has_case", Boolean, nullable=False, server_default=text("false")),
    Column("has_dispute", Boolean, nullable=False, server_default=text("false")),
    Column("has_return", Boolean, nullable=False, server_default=text("false")),
    Column("has_refund", Boolean, nullable=False, server_default=text("false")),
    # The problem types present, comma-separated in PROBLEM_TYPES order.
    Column("problems", Text, nullable=False),
    Column("open_problems", Integer, nullable=False, server_default=text("0")),
    Column("action_needed", Boolean, nullable=False, server_default=text("false")),
    # The soonest respond-by date of the problems awaiting the seller.
    Column("next_deadline", TS),
    _problem_list("inquiries"),
    _problem_list("cases"),
    _problem_list("disputes"),
    _problem_list("returns"),
    _problem_list("refunds"),
    Column("first_problem_at", TS),
    Column("last_problem_at", TS),
    Column("source_updated_at", TS),
    Column("synced_at", TS, nullable=False, server_default=func.now()),
    Index("ix_problem_orders_account_last_problem", "ebay_account_id", "last_problem_at"),
    Index("ix_problem_orders_account_action_deadline", "ebay_account_id", "action_needed", "next_deadline"),
)

#: The last problem-grid build of each account, and the newest upstream change it saw.
problem_grid_builds = Table(
    "problem_grid_builds",
    metadata,
    Column("ebay_account_id", Text, primary_key=True),
    Column("built_at", TS, nullable=False, server_default=func.now()),
    # max(synced_at) of the account's upstream rows when the build read them (NULL: none).
    Column("source_synced_at", TS),
    Column("problem_orders", Integer, nullable=False, server_default=text("0")),
    Column("problems", Integer, nullable=False, server_default=text("0")),
    Column("action_needed", Integer, nullable=False, server_default=text("0")),
)


# --------------------------------------------------------------------------------------------
# Marketplace Account Deletion (store.deletions, store.purge)
# --------------------------------------------------------------------------------------------

#: One row per verified MARKETPLACE_ACCOUNT_DELETION notification. The user's identifiers are kept
#: only until the purge ran; afterwards the row holds the SHA-256 of the user id and nothing else personal.
ebay_account_deletion_notifications = Table(
    "ebay_account_deletion_notifications",
    metadata,
    Column("notification_id", Text, primary_key=True),
    Column("topic", Text, nullable=False),
    Column("ebay_user_id", Text, comment="eBay's userId: cleared (NULL) once the purge ran."),
    Column("username", Text, comment="eBay's username: cleared (NULL) once the purge ran."),
    Column("eias_token", Text, comment="eBay's eiasToken: cleared (NULL) once the purge ran."),
    Column("ebay_user_id_sha256", Text, nullable=False, comment="SHA-256 (hex) of the userId (else the username)."),
    Column("event_date", TS),
    Column("publish_date", TS),
    Column("received_at", TS, nullable=False, server_default=func.now()),
    Column("processed_at", TS),
    # 'received' (waiting for its purge) or 'processed'.
    Column("status", Text, nullable=False, server_default=text("'received'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Index("ix_ebay_account_deletion_notifications_status", "status", "received_at"),
)

#: One row per purge: what it changed, never the data itself.
ebay_account_deletion_audit = Table(
    "ebay_account_deletion_audit",
    metadata,
    Column("notification_id", Text, primary_key=True),
    Column("ebay_user_id_sha256", Text, nullable=False),
    Column("rows_changed", JSONB, nullable=False, comment='Rows changed per table, e.g. {"ebay_orders": 3}.'),
    Column("purged_at", TS, nullable=False, server_default=func.now()),
)

#: eBay's call quotas as the Developer Analytics API reported them (getRateLimits: scope ``app``;
#: getUserRateLimits: scope ``account``), one row per rate and fetch; a 429 adds a row (source ``429``)
#: marking the quota spent until ``reset_at``. ``quota`` is the project's key for the quota
#: (``ebay.quotas``; NULL for a resource the project does not call).
ebay_api_quota = Table(
    "ebay_api_quota",
    metadata,
    Column("quota_row_id", BigInteger, primary_key=True, autoincrement=True),
    Column("scope", Text, nullable=False),
    # '' for the application's own quotas.
    Column("ebay_account_id", Text, nullable=False, server_default=text("''")),
    Column("api_context", Text),
    Column("api_name", Text),
    Column("api_version", Text),
    Column("resource", Text),
    Column("quota", Text),
    Column("call_limit", BigInteger),
    Column("remaining", BigInteger),
    Column("call_count", BigInteger),
    Column("reset_at", TS),
    Column("time_window_seconds", Integer),
    # The project's own calls spending ``quota`` in the eBay day of ``fetched_at``, counted when fetched
    # (the whole application's for scope app, the account's for scope account).
    Column("calls_at_fetch", BigInteger, nullable=False, server_default=text("0")),
    Column("source", Text, nullable=False),
    Column("fetched_at", TS, nullable=False, server_default=func.now()),
    Index("ix_ebay_api_quota_quota_scope_account_fetched", "quota", "scope", "ebay_account_id", "fetched_at"),
)

#: The project's own eBay calls per account, family, call and eBay day (the Pacific-time date, as
#: eBay's quotas reset at midnight Pacific), from the clients' counters; ``quota`` is the quota the
#: call spends (NULL: none the project knows, e.g. token grants).
ebay_api_calls_daily = Table(
    "ebay_api_calls_daily",
    metadata,
    Column("ebay_day", Date, primary_key=True),
    Column("ebay_account_id", Text, primary_key=True),
    Column("family", Text, primary_key=True),
    Column("call_name", Text, primary_key=True),
    Column("quota", Text),
    Column("calls", BigInteger, nullable=False, server_default=text("0")),
    Column("updated_at", TS, nullable=False, server_default=func.now()),
    Index("ix_ebay_api_calls_daily_quota_day", "quota", "ebay_day"),
)


def natural_key(table: Table) -> list[str]:
    """Return the primary-key column names of ``table`` (the upsert conflict target)."""
    return [c.name for c in table.primary_key.columns]
