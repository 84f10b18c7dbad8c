"""Values PostgreSQL cannot store, caught before any SQL with an error naming table, column and row.

PostgreSQL ``text`` and ``jsonb`` refuse the NUL character (and JSON's ``\\u0000``), UTF-8 cannot
carry an unpaired UTF-16 surrogate, ``integer`` columns hold 32 bits, ``numeric`` has bounded
magnitude, and JSON has no NaN or Infinity. Without this check such a value fails deep inside the
driver with a message that names neither the table nor the record. The project never alters
data to make it fit: such a row is refused with :class:`UnstorableValue` (a non-transient error,
so retrying does not help until the source changes) and its partition rolls back as a whole.

Checking every value up front would cost about as much as writing it, so the write path calls
:func:`find_unstorable` only after PostgreSQL or the driver refused a batch, to turn the driver's
message into one that names the table, column and record.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa

from ebay_pipelines.store.tables import metadata, natural_key

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1), "int16": (-(2**15), 2**15 - 1)}
# PostgreSQL numeric: up to 131072 digits before the decimal point and 16383 after it.
NUMERIC_MAX_INTEGER_DIGITS = 131072
NUMERIC_MAX_SCALE = 16383


class UnstorableValue(ValueError):
    """A row holds a value PostgreSQL cannot store; names the table, column, row key and problem."""

    def __init__(self, table: str, column: str, problem: str, key: dict[str, Any], path: str = "") -> None:
        self.table, self.column, self.problem, self.key, self.path = table, column, problem, key, path
        where = f"{table}.{column}" + (f" at {path}" if path else "")
        row = ", ".join(f"{k}={_short(v)}" for k, v in key.items())
        super().__init__(f"cannot store {where} of row ({row}): {problem}")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(column: sa.Column) -> str:
    col_type = column.type
    if isinstance(col_type, sa.SmallInteger):
        return "int16"
    if isinstance(col_type, sa.BigInteger):
        return "int64"
    if isinstance(col_type, sa.Integer):
        return "int32"
    if isinstance(col_type, sa.Numeric):
        return "numeric"
    if isinstance(col_type, sa.JSON):
        return "json"
    return "other"


@cache
def _columns(table_name: str) -> tuple[dict[str, str], frozenset[str], tuple[str, ...]]:
    table = metadata.tables[table_name]
    kinds = {c.name: _kind(c) for c in table.columns}
    required = frozenset(c.name for c in table.columns if not c.nullable and c.server_default is None)
    return kinds, required, tuple(natural_key(table))


def text_problem(value: str) -> str | None:
    """Why PostgreSQL cannot store this string, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\x00), which PostgreSQL text and jsonb cannot store"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired UTF-16 surrogate, which is not valid UTF-8"
    return None


def _number_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"is {value!r}, which is not a finite number"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"is {value!r}, which is not a finite number"
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int), "a finite Decimal has an integer exponent"
        if value.adjusted() >= NUMERIC_MAX_INTEGER_DIGITS or -exponent > NUMERIC_MAX_SCALE:
            return "is too large or too precise for PostgreSQL numeric"
    return None


def _json_suspicious(value: Any) -> bool:
    """Fast check (the C encoder): False when the value surely holds nothing unstorable."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return True
    if "\\u0000" in text:
        return True
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def json_problem(value: Any) -> tuple[str, str] | None:
    """Return (path, problem) of the first unstorable part of a JSON value, or None."""
    if not _json_suspicious(value):
        return None
    stack: list[tuple[str, Any]] = [("$", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                return path, problem
        elif isinstance(node, dict):
            for key, child in node.items():
                if isinstance(key, str):
                    problem = text_problem(key)
                    if problem:
                        return f"{path} (a key)", problem
                stack.append((f"{path}.{key}", child))
        elif isinstance(node, (list, tuple)):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(node))
        elif isinstance(node, (float, Decimal)):
            problem = _number_problem(node)
            if problem:
                return path, problem.replace("a finite number", "valid JSON")
    return None


def check_row(table_name: str, row: dict[str, Any]) -> None:
    """Raise UnstorableValue when ``row`` holds a value ``table_name`` cannot store."""
    kinds, required, key_columns = _columns(table_name)

    def fail(column: str, problem: str, path: str = "") -> UnstorableValue:
        return UnstorableValue(table_name, column, problem, {k: row.get(k) for k in key_columns}, path)

    for column, value in row.items():
        kind = kinds.get(column)
        if value is None:
            if column in required:
                raise fail(column, "is missing (the column is NOT NULL)")
            continue
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                raise fail(column, problem)
        elif kind in INT_RANGES and isinstance(value, int) and not isinstance(value, bool):
            low, high = INT_RANGES[kind]
            if not low <= value <= high:
                raise fail(column, f"is {_short(value)}, outside the column's integer range [{low}, {high}]")
        elif kind == "numeric":
            problem = _number_problem(value)
            if problem:
                raise fail(column, problem)
        elif kind == "json" or isinstance(value, (dict, list, tuple)):
            found = json_problem(value)
            if found:
                raise fail(column, found[1], found[0] if kind == "json" else found[0].replace("$", "", 1))


def check_rows(table_name: str, rows: Iterable[dict[str, Any]]) -> None:
    """Check every row of a batch for ``table_name`` (see :func:`check_row`)."""
    for row in rows:
        check_row(table_name, row)


def find_unstorable(rows_by_table: dict[str, list[dict[str, Any]]]) -> UnstorableValue | None:
    """Return the first unstorable value among rows grouped by table, or None when all are storable."""
    for table_name, rows in rows_by_table.items():
        if table_name not in metadata.tables:
            continue
        try:
            check_rows(table_name, rows)
        except UnstorableValue as exc:
            return exc
    return None
