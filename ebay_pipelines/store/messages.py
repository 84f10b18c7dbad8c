"""Queries over stored member messages: the seller's inbox without the seller's own sent messages."""

from __future__ import annotations

import sqlalchemy as sa

from ebay_pipelines.store.tables import ebay_accounts, ebay_messages


def inbox_messages(account_id: str) -> sa.Select:
    """The account's received messages: ``ebay_messages`` rows neither sent nor sent by the seller.

    A row is the seller's own when ``is_sent`` (eBay's Sent folder) or when its ``sender`` is the
    account's ``ebay_accounts.ebay_user_id``.
    """
    own_user = (
        sa.select(ebay_accounts.c.ebay_user_id)
        .where(ebay_accounts.c.ebay_account_id == ebay_messages.c.ebay_account_id)
        .scalar_subquery()
    )
    return (
        sa.select(ebay_messages)
        .where(
            ebay_messages.c.ebay_account_id == account_id,
            sa.func.coalesce(ebay_messages.c.is_sent, False).is_(False),
            ebay_messages.c.sender.is_distinct_from(own_user),
        )
        .order_by(ebay_messages.c.receive_date, ebay_messages.c.message_id)
    )
