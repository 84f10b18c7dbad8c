"""API quotas: eBay's rate limits and this project's own calls per account, family, API and day.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
