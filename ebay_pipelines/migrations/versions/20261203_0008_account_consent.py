"""Accounts connected through eBay's consent: granted scopes, refresh-token expiry, the eBay user.

``ebay_tokens.scopes`` (granted scopes) and ``refresh_token_expires_at`` already exist; this adds
eBay's immutable user id (Identity getUser ``userId``) and the scopes eBay refused to an account
whose grant is not known.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:30:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ebay_accounts", sa.Column("ebay_immutable_user_id", sa.Text(), nullable=True))
    op.add_column("ebay_tokens", sa.Column("scopes_denied", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("ebay_tokens", "scopes_denied")
    op.drop_column("ebay_accounts", "ebay_immutable_user_id")
