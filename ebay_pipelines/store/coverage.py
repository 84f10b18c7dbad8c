"""Inventory API coverage: an account with active listings but no Inventory API items says why.

eBay's ``bulkMigrateListing``: the Inventory API lists only listings created through it; listings
made on the website or through Trading appear there only after migration. Active listings of every
kind are in Trading GetMyeBaySelling (``ebay_active_inventory``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ebay_pipelines.store.tables import ebay_active_inventory, ebay_inventory


def _count(conn: Connection, table: sa.Table, account_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.ebay_account_id == account_id)
    return int(conn.execute(query).scalar() or 0)


def inventory_api_coverage(conn: Connection, account_id: str, inventory_items: int | None = None) -> str | None:
    """Why the account's Inventory API tables are empty while it has active listings (None: nothing to say).

    ``inventory_items`` is the number of Inventory API items a fetch just saw (None: the stored
    ``ebay_inventory`` rows); the active listings are the stored ``ebay_active_inventory`` rows.
    """
    items = _count(conn, ebay_inventory, account_id) if inventory_items is None else inventory_items
    if items:
        return None
    active = _count(conn, ebay_active_inventory, account_id)
    if not active:
        return None
    return (
        f"0 Inventory API items while {active} active listings exist: listings created on the website "
        "or through Trading appear in the Inventory API only after bulkMigrateListing"
    )
