"""Money columns: booking direction of fees, a currency per amount, eBay-collected taxes by type.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
