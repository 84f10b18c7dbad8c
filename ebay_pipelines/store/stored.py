"""Read back stored payloads, so a sync can skip re-fetching what is already known.

Either known records by id (unchanged details need no detail call), or the records another
family already stored for a time window that one of its completed runs covered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
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


def stored_in_covered_window(
    engine: Engine,
    family: str,
    table_name: str,
    time_column: str,
    where: Mapping[str, str],
    start: datetime,
    end: datetime,
    covered_until: datetime,
    *,
    account_id: str,
) -> list[dict[str, Any]] | None:
    """Return the raw payloads of the account's rows of ``table_name`` in ``[start, end]``, or None.

    None unless a completed run of ``family`` for the account fetched a window reaching from
    ``start`` or earlier to ``covered_until`` or later (what such a run stored is as good as a
    fresh fetch). ``where`` narrows the rows by column equality.
    """
    runs = metadata.tables["ebay_worker_run"]
    window_from = sa.cast(runs.c.summary_json["window_from"].astext, sa.DateTime(timezone=True))
    window_to = sa.cast(runs.c.summary_json["window_to"].astext, sa.DateTime(timezone=True))
    covered = sa.select(
        sa.exists().where(
            runs.c.ebay_account_id == account_id,
            runs.c.api_family == family,
            runs.c.status == "completed",
            window_from <= start,
            window_to >= covered_until,
        )
    )
    table = metadata.tables[table_name]
    moment = table.c[time_column]
    query = sa.select(table.c.raw).where(
        table.c.ebay_account_id == account_id,
        moment >= start,
        moment <= end,
        *(table.c[column] == value for column, value in where.items()),
    )
    with engine.connect() as conn:
        if not conn.execute(covered).scalar():
            return None
        return [row[0] for row in conn.execute(query.order_by(moment)) if isinstance(row[0], dict)]
