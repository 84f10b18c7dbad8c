"""Messages: the seller's own sent messages are marked.

GetMyMessages without a FolderID answers every folder, Sent (FolderID 1) included; ``is_sent``
tells the seller's own messages from received ones. Rows stored before are marked from their
``folder_id``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:40:00.000000+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ebay_messages", sa.Column("is_sent", sa.Boolean(), nullable=True))
    op.execute("UPDATE ebay_messages SET is_sent = (folder_id = 1) WHERE folder_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("ebay_messages", "is_sent")
