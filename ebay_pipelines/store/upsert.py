"""Batched, monotonic upserts into the data tables.

A row replaces the stored one only when its ``source_updated_at`` is not older than the stored
value and something in it actually differs, so re-fetching an old window never overwrites newer
data and re-running an unchanged window writes nothing.

Rows reach a staging table of the same columns by ``COPY`` (text format); one
``INSERT .. SELECT .. ON CONFLICT DO UPDATE`` then picks the newest version of each key, applies
the monotonic, changed-data guard and returns only the inserted/updated counts. (A run holds its
account and family exclusively, see ``mirrors.start_run``, so no other writer inserts the same
keys in between.)
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa

from ebay_pipelines.store.database import json_dumps
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
    """Serialize a JSON column value like ``database.json_dumps`` (Decimals as exact strings), only faster.

    orjson refuses integers outside 64 bits, which JSON (and jsonb) allow: those documents go
    through Python's encoder instead. Keys that are not strings are allowed, by a second try
    (allowing them always costs every document a fifth more).
    """
    try:
        return orjson.dumps(value, default=_json_default).decode()
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise TypeError(str(exc)) from None
        return json_dumps(value)


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


def _stamp(value: datetime) -> str:
    """A timestamp's COPY text: orjson's RFC 3339 text for UTC (a quarter of what ``str()`` costs), else ``str()``."""
    if value.tzinfo is UTC:
        return orjson.dumps(value)[1:-1].decode()
    return str(value)


def _json_field(value: Any) -> str:
    return json_text(value).replace("\\", "\\\\")  # JSON text holds no raw tab or line break


def copy_text(rows: Sequence[dict], columns: list[str], json_columns: frozenset[str]) -> io.StringIO:
    """Render rows for ``COPY .. FROM STDIN`` with :data:`COPY_OPTIONS`; JSON columns are serialized.

    The text format needs only backslashes and line breaks escaped (CSV would double every quote
    of every JSON document, the largest share of a row).
    """
    buffer = io.StringIO()
    _line_renderer(tuple(columns), json_columns)(rows, buffer.write)
    buffer.seek(0)
    return buffer


#: Value classes whose ``str()`` is their COPY text as it is: digits, signs, dots, colons, spaces.
_PLAIN = frozenset({datetime, Decimal, int})


@functools.lru_cache(maxsize=256)
def _line_renderer(columns: tuple[str, ...], json_columns: frozenset[str]) -> Callable[[Sequence[dict], Any], None]:
    """A function writing the COPY lines of rows of ``columns``, compiled once per shape.

    Rendering is most of a sync's CPU per row besides decoding and building the rows, so each
    shape gets straight-line code: a plain string (printable, no backslash) or a number is
    written without a function call, a timestamp through :func:`_stamp`; the rest goes through
    :func:`_field` / :func:`_json_field`.
    """
    fields = []
    for i, column in enumerate(columns):
        value = f"v{i}"
        if column in json_columns:
            fields.append(f"(NULL if {value} is None else json_field({value}))")
        else:
            fields.append(
                f"(NULL if {value} is None else {value} if ({value}.__class__ is str and {value}.isprintable() "
                f"and BACKSLASH not in {value}) else stamp({value}) if {value}.__class__ is DATETIME "
                f"else str({value}) if {value}.__class__ in PLAIN else field({value}))"
            )
    picks = "".join(f"        v{i} = row[{column!r}]\n" for i, column in enumerate(columns))
    source = (
        "def render(rows, write):\n"
        "    for row in rows:\n"
        f"{picks}"
        f"        write(TAB.join(({', '.join(fields)},)) + NEWLINE)\n"
    )
    scope: dict[str, Any] = {
        "NULL": "\\N",
        "TAB": "\t",
        "NEWLINE": "\n",
        "BACKSLASH": "\\",
        "PLAIN": _PLAIN,
        "DATETIME": datetime,
        "stamp": _stamp,
        "field": _field,
        "json_field": _json_field,
    }
    exec(compile(source, f"<copy lines of {len(columns)} columns>", "exec"), scope)
    return scope["render"]


def quote(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


#: The staging tables' arrival-order column: of two staged versions of one key, the later one wins a tie.
SEQ_COLUMN = "_stage_seq"


def merge_sql(table: sa.Table, stage: str, columns: list[str]) -> str:
    """The statement moving staged rows into ``table`` under the monotonic, changed-data guard.

    Of several staged versions of one key, the one with the newest ``source_updated_at`` (the
    later one on ties) is merged. It returns (inserted, written, distinct keys staged).
    """
    key = natural_key(table)
    keys = ", ".join(quote(c) for c in key)
    updatable = [c for c in columns if c not in key and c not in BOOKKEEPING]
    compared = [c for c in updatable if c != "source_updated_at"]
    target = quote(table.name)
    cols = ", ".join(quote(c) for c in columns)
    newest = "source_updated_at DESC NULLS LAST, " if "source_updated_at" in table.c else ""
    sets = [f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updatable] + ["synced_at = now()"]
    guard = [
        "(t.source_updated_at IS NULL OR EXCLUDED.source_updated_at IS NULL "
        "OR EXCLUDED.source_updated_at >= t.source_updated_at)"
    ]
    if compared:
        # A row only counts as changed when its data differs: a newer fetch time alone is no change.
        mine = ", ".join(f"t.{quote(c)}" for c in compared)
        theirs = ", ".join(f"EXCLUDED.{quote(c)}" for c in compared)
        guard.append(f"ROW({mine}) IS DISTINCT FROM ROW({theirs})")
    seq = quote(SEQ_COLUMN)
    return (
        f"WITH picked AS MATERIALIZED (SELECT DISTINCT ON ({keys}) {seq} FROM {quote(stage)} "
        f"ORDER BY {keys}, {newest}{seq} DESC), "
        f"written AS (INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {quote(stage)} "
        f"WHERE {seq} IN (SELECT {seq} FROM picked) "
        f"ON CONFLICT ({keys}) DO UPDATE SET {', '.join(sets)} "
        f"WHERE {' AND '.join(guard)} RETURNING (xmax = 0) AS inserted) "
        f"SELECT count(*) FILTER (WHERE inserted), count(*), (SELECT count(*) FROM picked) FROM written"
    )


def check_shape(table: sa.Table, batch: Sequence[dict]) -> list[str]:
    """Return the columns of a batch of rows, all of one shape and all columns of ``table``."""
    allowed = set(table.c.keys()) - BOOKKEEPING
    columns = sorted(batch[0].keys())
    expected = set(columns)
    fits = expected <= allowed  # the first row's columns: checked once, not for every row
    for row in batch:
        if not fits or row.keys() != expected:
            unknown = sorted(set(row) - allowed)
            raise RowShapeError(f"row for {table.name} has unexpected columns {unknown or sorted(set(row) ^ expected)}")
    return columns
