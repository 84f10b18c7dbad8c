"""Batched, monotonic upserts into the data tables.

A row replaces the stored one only when its ``source_updated_at`` is not older than the stored
value and something in it actually differs, so re-fetching an old window never overwrites newer
data and re-running an unchanged window writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from ebay_pipelines.store.tables import natural_key

BOOKKEEPING = {"synced_at"}


@dataclass
class UpsertCounts:
    """How many rows a batch inserted, updated, or left alone (unchanged or older than stored)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        """Rows actually written (inserted + updated)."""
        return self.inserted + self.updated

    def add(self, other: "UpsertCounts") -> None:
        """Accumulate another batch's counts into this one."""
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class TableCounts:
    """Per-table running totals for one partition write."""

    by_table: dict[str, UpsertCounts] = field(default_factory=dict)

    def for_table(self, name: str) -> UpsertCounts:
        """Return (creating if needed) the counts of table ``name``."""
        return self.by_table.setdefault(name, UpsertCounts())


class RowShapeError(ValueError):
    """A row whose keys do not match its table's columns."""


def _dedupe(rows: Sequence[dict], key: list[str]) -> list[dict]:
    """Keep one row per key (the newest by source_updated_at; the later one on ties)."""
    chosen: dict[tuple, dict] = {}
    for row in rows:
        k = tuple(row.get(c) for c in key)
        current = chosen.get(k)
        if current is None:
            chosen[k] = row
            continue
        new_ts, old_ts = row.get("source_updated_at"), current.get("source_updated_at")
        if old_ts is None or new_ts is None or new_ts >= old_ts:
            chosen[k] = row
    return list(chosen.values())


def _statement(table: sa.Table, columns: list[str]) -> sa.Insert:
    key = natural_key(table)
    stmt = insert(table)
    updatable = [c for c in columns if c not in key and c not in BOOKKEEPING]
    set_ = {c: stmt.excluded[c] for c in updatable}
    set_["synced_at"] = sa.func.now()
    # A row only counts as changed when its data differs: a newer fetch time alone is no change.
    compared = [c for c in updatable if c != "source_updated_at"]
    changed = sa.tuple_(*[table.c[c] for c in compared]).is_distinct_from(
        sa.tuple_(*[stmt.excluded[c] for c in compared])
    )
    not_older = sa.or_(
        table.c.source_updated_at.is_(None),
        stmt.excluded.source_updated_at.is_(None),
        stmt.excluded.source_updated_at >= table.c.source_updated_at,
    )
    return stmt.on_conflict_do_update(index_elements=key, set_=set_, where=sa.and_(not_older, changed)).returning(
        sa.literal_column("(xmax = 0)").label("inserted")
    )


def upsert_rows(conn: Connection, table: sa.Table, rows: Iterable[dict]) -> UpsertCounts:
    """Upsert ``rows`` into ``table`` monotonically and return what happened to them."""
    batch = list(rows)
    if not batch:
        return UpsertCounts()
    allowed = set(table.c.keys()) - BOOKKEEPING
    columns = sorted(batch[0].keys())
    for row in batch:
        if set(row) != set(columns) or not set(row) <= allowed:
            unknown = sorted(set(row) - allowed)
            raise RowShapeError(f"row for {table.name} has unexpected columns {unknown or sorted(set(row) ^ set(columns))}")
    batch = _dedupe(batch, natural_key(table))
    result = conn.execute(_statement(table, columns), batch)
    flags = [bool(r.inserted) for r in result]
    inserted = sum(flags)
    updated = len(flags) - inserted
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=len(batch) - inserted - updated)
