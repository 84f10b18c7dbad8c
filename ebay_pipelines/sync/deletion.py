"""Which tables a Marketplace Account Deletion purges, and the purge of one stored notification.

Every eBay data table of the family table comes first, then every other table of the schema that
can hold text (the problem grid, the run mirrors and logs...), so a table added later is purged
without being named here. The credentials (handled as the seller's account) and the deletion
tables themselves are left out.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ebay_pipelines.store import deletions
from ebay_pipelines.store.tables import (
    ebay_account_deletion_audit,
    ebay_account_deletion_notifications,
    ebay_accounts,
    ebay_tokens,
    metadata,
)
from ebay_pipelines.sync.families import DATA_TABLES

#: Tables the purge never scrubs row by row: accounts and tokens are retired as a whole.
NOT_SCRUBBED = frozenset(
    t.name for t in (ebay_accounts, ebay_tokens, ebay_account_deletion_notifications, ebay_account_deletion_audit)
)


def purged_tables() -> list[sa.Table]:
    """The tables a purge scrubs: the family table's data tables, then every other table of the schema."""
    rest = [t for name, t in metadata.tables.items() if name not in DATA_TABLES and name not in NOT_SCRUBBED]
    return [*DATA_TABLES.values(), *sorted(rest, key=lambda t: t.name)]


def purge(engine: Engine, notification_id: str) -> deletions.PurgeOutcome:
    """Purge the user of one stored notification from every table (see ``store.deletions``)."""
    return deletions.purge_notification(engine, notification_id, purged_tables())
