"""Derived problem_orders table: one row per order with an inquiry, case, dispute, return or refund.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 17:50:48.744958+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "problem_orders",
        sa.Column("ebay_account_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("order_creation_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("buyer_username", sa.Text(), nullable=True),
        sa.Column("order_payment_status", sa.Text(), nullable=True),
        sa.Column("order_fulfillment_status", sa.Text(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("order_total_value", sa.Numeric(), nullable=True),
        sa.Column("refunded_total_value", sa.Numeric(), nullable=True),
        sa.Column("has_inquiry", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("has_case", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("has_dispute", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("has_return", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("has_refund", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("inquiry_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("case_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("dispute_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("return_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("refund_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("first_problem_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_problem_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("ebay_account_id", "order_id", name=op.f("pk_problem_orders")),
    )
    op.create_index(
        "ix_problem_orders_account_last_problem", "problem_orders", ["ebay_account_id", "last_problem_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_problem_orders_account_last_problem", table_name="problem_orders")
    op.drop_table("problem_orders")
