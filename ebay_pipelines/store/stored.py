"""Read back the stored payloads of known records, so a sync can skip re-fetching unchanged details."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ebay_pipelines.store.tables import metadata


def stored_raw(
    engine: Engine, table_name: str, key_column: str, ids: Sequence[str], *, account_id: str
) -> dict[str, dict[str, Any]]:
    """Return ``{id: raw}`` of the account's rows of ``table_name`` whose ``key_column`` is in ``ids``.

    Reads committed rows only (its own connection), one query per call.
    """
    if not ids:
        return {}
    table = metadata.tables[table_name]
    key = table.c[key_column]
    query = sa.select(key, table.c.raw).where(table.c.ebay_account_id == account_id, key.in_(list(ids)))
    with engine.connect() as conn:
        return {str(row[0]): row[1] for row in conn.execute(query) if isinstance(row[1], dict)}
