"""Typed field access on eBay wire objects, for the row functions.

A :class:`Record` wraps one wire object (a JSON dict, or an XML element converted with
:func:`ebay_pipelines.ebay.xmlconv.element_to_dict`) and reads fields by path. Absent fields give
``None``; a field of the wrong type raises :class:`PayloadError` naming the call, the record id
and the account. Amounts become ``Decimal`` (never float) and timestamps aware UTC datetimes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from .errors import PayloadError

_MISSING = object()


def format_timestamp(value: datetime) -> str:
    """Format an aware datetime as eBay's ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, milliseconds)."""
    if value.tzinfo is None:
        raise ValueError("eBay timestamps need an aware datetime")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or offset; naive means UTC) into an aware UTC datetime."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def date_windows(since: datetime, until: datetime, max_span: timedelta) -> list[tuple[datetime, datetime]]:
    """Split ``[since, until]`` into inclusive windows of at most ``max_span`` that never overlap.

    Consecutive windows are separated by one millisecond, the resolution of eBay's date filters.
    """
    if since > until:
        raise ValueError("since must not be after until")
    windows: list[tuple[datetime, datetime]] = []
    start = since
    step = timedelta(milliseconds=1)
    while True:
        end = start + max_span
        if end >= until:
            windows.append((start, until))
            return windows
        windows.append((start, end - step))
        start = end


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


# An integer literal of 19 or more digits may not fit 64 bits, where orjson would turn it into a float.
# Looked for as 19 zeros in the answer with every digit made a zero: a regular expression trying
# ``[0-9]{19}`` at every offset cost more than decoding the answer (14 ms against 7 ms a page of 200 orders).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def _has_long_integer(data: bytes) -> bool:
    """Whether ``data`` holds 19 digits in a row (anywhere: in a string too, which only costs a slower decode)."""
    return _NINETEEN_DIGITS in data.translate(_DIGITS_AS_ZERO)


def parse_json(content: bytes | str) -> Any:
    """Decode a JSON answer strictly; raise ValueError for anything that is not valid JSON.

    Python's decoder accepts ``NaN``/``Infinity`` (which no database JSON type stores) and
    raises RecursionError on absurdly deep nesting; both count as malformed here. Answers are
    decoded by orjson (several times faster); anything orjson refuses, and any answer holding an
    integer too long for it to keep exact, goes through Python's decoder, which decides.
    """
    data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
    if not _has_long_integer(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(content, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def _shorten(value: Any, limit: int = 80) -> Any:
    """Cut long strings in error messages (an oversized field must not make an oversized error)."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"...({len(value)} characters)"
    return value


@functools.lru_cache(maxsize=1024)
def _split_path(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


class Record:
    """Typed reader over one wire object; errors name ``call_name``, ``record_id`` and ``account_id``."""

    def __init__(
        self, data: Any, *, call_name: str, account_id: str, id_field: str | Iterable[str] | None = None
    ) -> None:
        self.call_name = call_name
        self.account_id = account_id
        self.record_id: str | None = None
        if not isinstance(data, dict):
            raise PayloadError(
                f"record is a {type(data).__name__}, not an object", call_name=call_name, account_id=account_id
            )
        self.data = data
        if id_field is not None:
            fields = [id_field] if isinstance(id_field, str) else list(id_field)
            for name in fields:
                value = self.get(name)
                if isinstance(value, (str, int)) and not isinstance(value, bool):
                    self.record_id = str(value)
                    break

    def fail(self, path: str, problem: str) -> PayloadError:
        """Build a PayloadError about field ``path``."""
        return PayloadError(
            f"field '{path}' {problem}",
            call_name=self.call_name,
            account_id=self.account_id,
            record_id=self.record_id,
        )

    def _walk(self, parts: tuple[str, ...] | list[str]) -> Any:
        if len(parts) == 1:
            return self.data.get(parts[0])
        node: Any = self.data
        for i, part in enumerate(parts):
            if node is None:
                return None
            if not isinstance(node, dict):
                raise self.fail(".".join(parts[:i]), f"should be an object but is a {type(node).__name__}")
            node = node.get(part)
        return node

    def get(self, path: str) -> Any:
        """Return the raw value at dotted ``path`` (None when absent)."""
        if "." not in path:
            return self.data.get(path)
        return self._walk(_split_path(path))

    def text(self, path: str) -> str | None:
        """Return a string field (numbers are accepted and converted to text)."""
        value = self.get(path)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return str(value)
        raise self.fail(path, f"should be a string but is a {type(value).__name__}")

    def key(self, path: str) -> str:
        """Return a field that identifies the record (a table key): a non-empty string, or PayloadError."""
        value = self.text(path)
        if value is None or not value.strip():
            raise self.fail(path, "is missing (it identifies the record)")
        return value

    def integer(self, path: str) -> int | None:
        """Return an integer field (integral strings are accepted)."""
        value = self.get(path)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.fail(path, "should be an integer but is a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise self.fail(path, f"should be an integer but is {_shorten(value)!r}") from None
        raise self.fail(path, f"should be an integer but is a {type(value).__name__}")

    def boolean(self, path: str) -> bool | None:
        """Return a boolean field (XML ``true``/``false`` strings are accepted)."""
        value = self.get(path)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise self.fail(path, f"should be a boolean but is {_shorten(value)!r}")

    def decimal(self, path: str) -> Decimal | None:
        """Return a decimal number from a string or number field (floats go through their repr)."""
        return self._to_decimal(self.get(path), path)

    def _to_decimal(self, value: Any, path: str) -> Decimal | None:
        if value is None or value == "":
            return None
        if isinstance(value, str):  # the common case first: eBay sends amounts as strings
            try:
                number = Decimal(value)
            except InvalidOperation:
                raise self.fail(path, f"should be a decimal number but is {_shorten(value)!r}") from None
            if not number.is_finite():
                raise self.fail(path, f"should be a finite number but is {_shorten(value)!r}")
            return number
        if isinstance(value, bool):
            raise self.fail(path, "should be a number but is a boolean")
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, (float, Decimal)):
            number = Decimal(repr(value)) if isinstance(value, float) else value
            if not number.is_finite():
                raise self.fail(path, f"should be a finite number but is {value!r}")
            return number
        raise self.fail(path, f"should be a number but is a {type(value).__name__}")

    def amount(self, path: str) -> tuple[Decimal | None, str | None]:
        """Return ``(value, currency)`` of an amount object.

        Accepts REST ``{value, currency}`` (string or numeric value) and Trading
        ``{"#text": "9.99", "@currencyID": "USD"}`` or a bare XML text value.
        """
        return self._amount(self.get(path), path)

    def _amount(self, value: Any, path: str) -> tuple[Decimal | None, str | None]:
        if value is None:
            return None, None
        if isinstance(value, dict):
            if "@currencyID" in value or "#text" in value:
                number, currency = value.get("#text"), value.get("@currencyID")
            else:
                number, currency = value.get("value"), value.get("currency")
            if currency is not None and not isinstance(currency, str):
                raise self.fail(f"{path}.currency", f"should be a string but is a {type(currency).__name__}")
            return self._to_decimal(number, f"{path}.value"), currency
        if isinstance(value, str):
            return self._to_decimal(value, path), None
        raise self.fail(path, f"should be an amount object but is a {type(value).__name__}")

    def timestamp(self, path: str) -> datetime | None:
        """Return an aware UTC datetime from an ISO string or a Post-Order ``{"value": ...}`` object."""
        value = self.get(path)
        if isinstance(value, dict) and ("value" in value or "formattedValue" in value):
            value = value.get("value")
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(path, f"should be a timestamp string but is a {type(value).__name__}")
        try:
            return parse_timestamp(value)
        except (ValueError, OverflowError):
            raise self.fail(path, f"should be an ISO 8601 timestamp but is {_shorten(value)!r}") from None

    def items(self, path: str) -> list[Any]:
        """Return a list field (absent gives ``[]``; a single object becomes a one-element list)."""
        return self._listed(self.get(path), path)

    def _listed(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return [value]
        raise self.fail(path, f"should be a list but is a {type(value).__name__}")

    def sum_amounts(
        self, path: str, amount_field: str = "amount", skip: dict[str, Iterable[str]] | None = None
    ) -> tuple[Decimal | None, str | None]:
        """Sum ``amount_field`` over the objects of list ``path``; ``(None, None)`` when the list is absent.

        ``skip`` maps a field name to values whose entries are left out (e.g. failed refunds).
        """
        raw = self.get(path)
        if raw is None:
            return None, None
        entries = self._listed(raw, path)
        total = Decimal(0)
        if not entries:
            return total, None
        currency: str | None = None
        skipped = {k: frozenset(v) for k, v in skip.items()} if skip else {}
        for entry in entries:
            if not isinstance(entry, dict) or "." in amount_field:
                child = Record(entry, call_name=self.call_name, account_id=self.account_id)
                child.record_id = self.record_id
                if any(child.get(k) in values for k, values in skipped.items()):
                    continue
                value, cur = child.amount(amount_field)
            elif any(entry.get(k) in values for k, values in skipped.items()):
                continue
            else:
                value, cur = self._amount(entry.get(amount_field), amount_field)
            if value is not None:
                if currency is not None and cur not in (None, currency):
                    raise self.fail(path, f"mixes currencies ({currency} and {cur}): its amounts cannot be summed")
                total += value
                currency = currency or cur
        return total, currency

    def child_of(self, value: Any) -> Record:
        """A reader over ``value``, an object nested in this record (a list entry): errors name this record."""
        rec = Record(value, call_name=self.call_name, account_id=self.account_id)
        rec.record_id = self.record_id
        return rec

    def child(self, path: str) -> Record:
        """Return a reader over the object at ``path`` (an empty object when absent)."""
        value = self.get(path)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.fail(path, f"should be an object but is a {type(value).__name__}")
        rec = Record(value, call_name=self.call_name, account_id=self.account_id)
        rec.record_id = self.record_id
        return rec
