"""Problem grid: problem_order_items (one row per problem), problem_orders reshaped, problem_grid_builds.

``problem_orders`` is derived data rebuilt from the synced tables, so both directions drop and
recreate it: the next rebuild of each account fills it again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:50:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSONB = postgresql.JSONB(astext_type=sa.Text())


def _flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), server_default=sa.text("false"), nullable=False)


def _problem_list(name: str) -> sa.Column:
    return sa.Column(name, JSONB, server_default=sa.text("'[]'::jsonb"), nullable=False)


def _synced_at() -> sa.Column:
    return sa.Column("synced_at", TS, server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.drop_index("ix_problem_orders_account_last_problem", table_name="problem_orders")
    op.drop_table("problem_orders")
    op.create_table(
        "problem_order_items",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("problem_type", sa.Text(), nullable=False),
        sa.Column("problem_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("item_id", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("action_needed", sa.Boolean(), nullable=False),
        sa.Column("respond_by", TS, nullable=True),
        sa.Column("amount_value", sa.Numeric(), nullable=True),
        sa.Column("amount_currency", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("opened_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("order_creation_date", TS, nullable=True),
        sa.Column("order_total_value", sa.Numeric(), nullable=True),
        sa.Column("order_total_currency", sa.Text(), nullable=True),
        sa.Column("source_updated_at", TS, nullable=True),
        _synced_at(),
        sa.PrimaryKeyConstraint("ebay_account_id", "problem_type", "problem_id", name=op.f("pk_problem_order_items")),
    )
    op.create_index(
        "ix_problem_order_items_account_order", "problem_order_items", ["ebay_account_id", "order_id"], unique=False
    )
    op.create_index(
        "ix_problem_order_items_account_action_respond_by",
        "problem_order_items",
        ["ebay_account_id", "action_needed", "respond_by"],
        unique=False,
    )
    op.create_table(
        "problem_orders",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("order_creation_date", TS, nullable=True),
        sa.Column("order_last_modified_date", TS, nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("order_payment_status", sa.Text(), nullable=True),
        sa.Column("order_fulfillment_status", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("order_total_value", sa.Numeric(), nullable=True),
        sa.Column("refunded_total_value", sa.Numeric(), nullable=True),
        sa.Column("refunded_total_currency", sa.Text(), nullable=True),
        _flag("has_inquiry"),
        _flag("has_case"),
        _flag("has_dispute"),
        _flag("has_return"),
        _flag("has_refund"),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("open_problems", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _flag("action_needed"),
        sa.Column("next_deadline", TS, nullable=True),
        _problem_list("inquiries"),
        _problem_list("cases"),
        _problem_list("disputes"),
        _problem_list("returns"),
        _problem_list("refunds"),
        sa.Column("first_problem_at", TS, nullable=True),
        sa.Column("last_problem_at", TS, nullable=True),
        sa.Column("source_updated_at", TS, nullable=True),
        _synced_at(),
        sa.PrimaryKeyConstraint("ebay_account_id", "order_id", name=op.f("pk_problem_orders")),
    )
    op.create_index(
        "ix_problem_orders_account_last_problem", "problem_orders", ["ebay_account_id", "last_problem_at"], unique=False
    )
    op.create_index(
        "ix_problem_orders_account_action_deadline",
        "problem_orders",
        ["ebay_account_id", "action_needed", "next_deadline"],
        unique=False,
    )
    op.create_table(
        "problem_grid_builds",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("built_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("source_synced_at", TS, nullable=True),
        sa.Column("problem_orders", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("problems", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("action_needed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", name=op.f("pk_problem_grid_builds")),
    )


def downgrade() -> None:
    op.drop_table("problem_grid_builds")
    op.drop_index("ix_problem_orders_account_action_deadline", table_name="problem_orders")
    op.drop_index("ix_problem_orders_account_last_problem", table_name="problem_orders")
    op.drop_table("problem_orders")
    op.drop_index("ix_problem_order_items_account_action_respond_by", table_name="problem_order_items")
    op.drop_index("ix_problem_order_items_account_order", table_name="problem_order_items")
    op.drop_table("problem_order_items")
    # The 0002 shape of problem_orders (empty; the previous code rebuilds it).
    op.create_table(
        "problem_orders",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("order_creation_date", TS, nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("order_payment_status", sa.Text(), nullable=True),
        sa.Column("order_fulfillment_status", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("order_total_value", sa.Numeric(), nullable=True),
        sa.Column("refunded_total_value", sa.Numeric(), nullable=True),
        _flag("has_inquiry"),
        _flag("has_case"),
        _flag("has_dispute"),
        _flag("has_return"),
        _flag("has_refund"),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("inquiry_ids", JSONB, nullable=True),
        sa.Column("case_ids", JSONB, nullable=True),
        sa.Column("dispute_ids", JSONB, nullable=True),
        sa.Column("return_ids", JSONB, nullable=True),
        sa.Column("refund_ids", JSONB, nullable=True),
        sa.Column("first_problem_at", TS, nullable=True),
        sa.Column("last_problem_at", TS, nullable=True),
        sa.Column("raw", JSONB, nullable=False),
        sa.Column("source_updated_at", TS, nullable=True),
        _synced_at(),
        sa.PrimaryKeyConstraint("ebay_account_id", "order_id", name=op.f("pk_problem_orders")),
    )
    op.create_index(
        "ix_problem_orders_account_last_problem", "problem_orders", ["ebay_account_id", "last_problem_at"], unique=False
    )
