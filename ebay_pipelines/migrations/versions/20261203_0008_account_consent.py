"""Accounts connected through eBay's consent: granted scopes, refresh-token expiry, the eBay user.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 08:30:00.000000+00:00
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
