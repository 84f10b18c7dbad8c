"""Digital-signature keys of EU/UK accounts (eBay Key Management API).

``ebay_tokens.signing_key_encrypted`` (the encrypted private key) exists since 0001; this adds the
key's JWE, eBay's key id and expiry, and the per-account ``signing_required`` switch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:30:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "ebay_accounts",
        sa.Column("signing_required", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("ebay_tokens", sa.Column("signing_key_jwe", sa.Text(), nullable=True))
    op.add_column("ebay_tokens", sa.Column("signing_key_id", sa.Text(), nullable=True))
    op.add_column("ebay_tokens", sa.Column("signing_key_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("ebay_tokens", "signing_key_expires_at")
    op.drop_column("ebay_tokens", "signing_key_id")
    op.drop_column("ebay_tokens", "signing_key_jwe")
    op.drop_column("ebay_accounts", "signing_required")
