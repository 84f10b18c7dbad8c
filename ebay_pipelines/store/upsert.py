"""Batched, monotonic upserts into the data tables.

A row replaces the stored one only when its ``source_updated_at`` is not older than the stored
value and something in it actually differs, so re-fetching an old window never overwrites newer
data and re-running an unchanged window writes nothing.

A batch travels in a few round trips whatever its size. One indexed query asks whether any of
its keys is stored yet: when none is (a first load), the batch is ``COPY``-ed (CSV) straight into
the table. Otherwise it is copied into a temporary staging table of the same columns, then one
``INSERT .. SELECT .. ON CONFLICT DO UPDATE`` applies the monotonic, changed-data guard and
returns only the inserted/updated counts. (A run holds its account and family exclusively, see
``mirrors.start_run``, so no other writer inserts the same keys in between.)
"""

from __future__ import annotations

import hashlib
import io
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection

from ebay_pipelines.store.tables import natural_key

_DIALECT = sa.dialects.postgresql.dialect()

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

    def add(self, other: UpsertCounts) -> None:
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


def _json_default(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} in a JSON column")


def json_text(value: object) -> str:
    """Serialize a JSON column value like ``database.json_dumps`` (Decimals as exact strings), only faster."""
    return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()


#: COPY's text format: tab-separated, ``\\N`` for NULL, backslash escapes.
COPY_OPTIONS = "WITH (FORMAT text)"


def _escape(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _field(value: Any) -> str:
    kind = value.__class__
    if kind is str:
        return _escape(value)
    if kind is bool:
        return "t" if value else "f"
    if kind is datetime or kind is Decimal or kind is int:
        return str(value)  # digits, signs, dots, colons: nothing to escape
    return _escape(str(value))


def _json_field(value: Any) -> str:
    return json_text(value).replace("\\", "\\\\")  # JSON text holds no raw tab or line break


def copy_text(rows: Sequence[dict], columns: list[str], json_columns: frozenset[str]) -> io.StringIO:
    """Render rows for ``COPY .. FROM STDIN`` with :data:`COPY_OPTIONS`; JSON columns are serialized.

    The text format needs only backslashes and line breaks escaped (CSV would double every quote
    of every JSON document, the largest share of a row).
    """
    buffer = io.StringIO()
    write = buffer.write
    converters = [_json_field if c in json_columns else _field for c in columns]
    pick = operator.itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    for row in rows:
        write("\t".join(["\\N" if v is None else convert(v) for convert, v in zip(converters, pick(row))]))
        write("\n")
    buffer.seek(0)
    return buffer


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stage_name(table: sa.Table, columns: list[str]) -> str:
    digest = hashlib.sha1(",".join(columns).encode()).hexdigest()[:10]
    return f"_stage_{table.name}_{digest}"


def _merge_sql(table: sa.Table, stage: str, columns: list[str]) -> str:
    """The statement moving a staged batch into ``table`` under the monotonic, changed-data guard."""
    key = natural_key(table)
    updatable = [c for c in columns if c not in key and c not in BOOKKEEPING]
    compared = [c for c in updatable if c != "source_updated_at"]
    target = _quote(table.name)
    cols = ", ".join(_quote(c) for c in columns)
    sets = [f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in updatable] + ["synced_at = now()"]
    guard = [
        "(t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL "
        "OR EXCLUDED.source_updated_at >= t.source_updated_at)"
    ]
    if compared:
        # A row only counts as changed when its data differs: a newer fetch time alone is no change.
        mine = ", ".join(f"t.{_quote(c)}" for c in compared)
        theirs = ", ".join(f"EXCLUDED.{_quote(c)}" for c in compared)
        guard.append(f"ROW({mine}) IS DISTINCT FROM ROW({theirs})")
    return (
        f"WITH written AS (INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {_quote(stage)} "
        f"ON CONFLICT ({', '.join(_quote(c) for c in key)}) DO UPDATE SET {', '.join(sets)} "
        f"WHERE {' AND '.join(guard)} RETURNING (xmax = 0) AS inserted) "
        f"SELECT count(*) FILTER (WHERE inserted), count(*) FROM written"
    )


def _check_shape(table: sa.Table, batch: list[dict]) -> list[str]:
    allowed = set(table.c.keys()) - BOOKKEEPING
    columns = sorted(batch[0].keys())
    expected = set(columns)
    for row in batch:
        if row.keys() != expected or not expected <= allowed:
            unknown = sorted(set(row) - allowed)
            raise RowShapeError(f"row for {table.name} has unexpected columns {unknown or sorted(set(row) ^ expected)}")
    return columns


def _unnest_keys(table: sa.Table, key: list[str], batch: Sequence[dict]) -> tuple[str, dict[str, list]]:
    """``unnest(...) AS keys(k0, k1, ..)`` over the batch's key columns, with its parameters."""
    arrays = ", ".join(f"%(k{i})s::{table.c[c].type.compile(dialect=_DIALECT)}[]" for i, c in enumerate(key))
    names = ", ".join(f"k{i}" for i in range(len(key)))
    return f"unnest({arrays}) AS keys({names})", {f"k{i}": [row[c] for row in batch] for i, c in enumerate(key)}


def _any_stored(cursor: Any, table: sa.Table, key: list[str], batch: Sequence[dict]) -> bool:
    """Whether any key of ``batch`` is already in ``table`` (one indexed probe per key)."""
    keys, params = _unnest_keys(table, key, batch)
    match = " AND ".join(f"t.{_quote(c)} = keys.k{i}" for i, c in enumerate(key))
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {keys} JOIN {_quote(table.name)} AS t ON {match})", params)
    return bool(cursor.fetchone()[0])


def upsert_rows(
    conn: Connection, table: sa.Table, rows: Iterable[dict], *, seen_table: str | None = None
) -> UpsertCounts:
    """Upsert ``rows`` into ``table`` monotonically and return what happened to them.

    ``seen_table`` names a temporary table (one text column per key column) that also receives
    the batch's keys, for snapshot writes that later delete what they did not see.
    """
    batch = list(rows)
    if not batch:
        return UpsertCounts()
    columns = _check_shape(table, batch)
    key = natural_key(table)
    batch = _dedupe(batch, key)
    json_columns = frozenset(c.name for c in table.columns if isinstance(c.type, JSONB))
    stage = _stage_name(table, columns)
    cols = ", ".join(_quote(c) for c in columns)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor:
        if not _any_stored(cursor, table, key, batch):
            cursor.copy_expert(
                f"COPY {_quote(table.name)} ({cols}) FROM STDIN {COPY_OPTIONS}", copy_text(batch, columns, json_columns)
            )
            if seen_table is not None:
                keys, params = _unnest_keys(table, key, batch)
                texts = ", ".join(f"keys.k{i}::text" for i in range(len(key)))
                cursor.execute(f"INSERT INTO {_quote(seen_table)} SELECT {texts} FROM {keys}", params)
            return UpsertCounts(inserted=len(batch))
        # The staging table lives as long as the session; it is emptied before each batch
        # (a rolled-back batch leaves nothing behind: temporary tables are transactional too).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_quote(stage)} AS "
            f"SELECT {cols} FROM {_quote(table.name)} WITH NO DATA; TRUNCATE {_quote(stage)}"
        )
        cursor.copy_expert(
            f"COPY {_quote(stage)} ({cols}) FROM STDIN {COPY_OPTIONS}", copy_text(batch, columns, json_columns)
        )
        if seen_table is not None:
            keys = ", ".join(f"{_quote(c)}::text" for c in key)
            cursor.execute(f"INSERT INTO {_quote(seen_table)} SELECT {keys} FROM {_quote(stage)}")
        cursor.execute(_merge_sql(table, stage, columns))
        inserted, written = cursor.fetchone()
    del dbapi.notices[:]
    updated = written - inserted
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=len(batch) - written)
