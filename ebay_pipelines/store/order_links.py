"""Give rows that name a line item, not an order, the order of that line item.

Inquiries and cases name the line item they are about (``item_id`` + ``transaction_id``), never
their order. In the merge's transaction, a staged row of a :data:`LINKED_TABLES` table without an
``order_id`` takes the order of the synced line item with ``legacy_item_id`` = ``item_id`` and
``transaction_id`` in (``legacy_transaction_id``, ``line_item_id``), so a re-synced row equals its
stored version; and line items merged later give their order to the rows still waiting for one.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from ebay_pipelines.store.upsert import quote

#: Tables whose rows name a line item by ``item_id`` + ``transaction_id`` and may lack ``order_id``.
LINKED_TABLES = ("ebay_inquiries", "ebay_cases")
LINE_ITEMS = "order_line_items"

_MATCH = (
    "{l}.ebay_account_id = {r}.ebay_account_id AND {l}.legacy_item_id = {r}.item_id "
    "AND {r}.transaction_id IN ({l}.legacy_transaction_id, {l}.line_item_id)"
)


def link_staged(conn: Connection, table: str, stage: str) -> int:
    """Fill ``order_id`` of the staged rows of ``table`` lacking one from the synced line items."""
    if table not in LINKED_TABLES:
        return 0
    match = _MATCH.format(l="l", r="s")
    result = conn.exec_driver_sql(
        f"UPDATE {quote(stage)} AS s SET order_id = (SELECT l.order_id FROM {LINE_ITEMS} AS l "
        f"WHERE {match} ORDER BY l.order_id LIMIT 1) "
        f"WHERE s.order_id IS NULL AND EXISTS (SELECT 1 FROM {LINE_ITEMS} AS l WHERE {match})"
    )
    return result.rowcount


def link_waiting(conn: Connection, table: str, stage: str) -> int:
    """After line items were merged from ``stage``, give their order to the linked rows still lacking one."""
    if table != LINE_ITEMS:
        return 0
    linked = 0
    for target in LINKED_TABLES:
        match = _MATCH.format(l="s", r="t")
        result = conn.exec_driver_sql(
            f"UPDATE {quote(target)} AS t SET order_id = s.order_id, synced_at = now() "
            f"FROM {quote(stage)} AS s WHERE t.order_id IS NULL AND s.order_id IS NOT NULL AND {match}"
        )
        linked += result.rowcount
    return linked
