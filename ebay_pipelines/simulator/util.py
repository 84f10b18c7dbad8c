"""Small shared helpers: stable hashing, time in epoch milliseconds, money formatting."""

from __future__ import annotations

import calendar
import hashlib
import math
import random
import struct
import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

MS_SECOND = 1_000
MS_MINUTE = 60_000
MS_HOUR = 3_600_000
MS_DAY = 86_400_000

CENT = Decimal("0.01")
_U32 = 4_294_967_296.0


def digest(*parts: object) -> bytes:
    """Return a 64-byte BLAKE2b digest of ``parts`` (stable across processes and runs)."""
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=64).digest()


def uniforms(*parts: object) -> tuple[float, ...]:
    """Return 16 deterministic floats in [0, 1) derived from ``parts``."""
    return tuple(v / _U32 for v in struct.unpack("<16I", digest(*parts)))


def rng(*parts: object) -> random.Random:
    """Return a ``random.Random`` seeded deterministically from ``parts``."""
    return random.Random(int.from_bytes(digest(*parts)[:16], "big"))


def stochastic_round(x: float, u: float) -> int:
    """Round ``x`` down or up so that the expected value is ``x`` (``u`` uniform in [0, 1))."""
    base = math.floor(x)
    return base + (1 if u < x - base else 0)


def money(value: Decimal) -> Decimal:
    """Quantize ``value`` to cents, rounding half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    """Format an amount as an exact decimal string with two places."""
    return str(money(value))


def to_ms(dt: datetime) -> int:
    """Convert an aware (or naive UTC) datetime to epoch milliseconds."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Convert epoch milliseconds to an aware UTC datetime."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


@lru_cache(maxsize=8192)
def _day_prefix(day: int) -> str:
    return time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))


def iso_ms(ms: int) -> str:
    """Format epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``."""
    day, rest = divmod(ms, MS_DAY)
    secs, milli = divmod(rest, 1000)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    return f"{_day_prefix(day)}{hours:02d}:{minutes:02d}:{secs:02d}.{milli:03d}Z"


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 UTC timestamp (``Z`` or offset, optional fraction) to epoch ms.

    Raises ``ValueError`` for anything else.
    """
    value = text.strip()
    if not value or "T" not in value:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return to_ms(dt)


def day_of(ms: int) -> int:
    """Return the UTC day number (days since 1970-01-01) containing ``ms``."""
    return ms // MS_DAY


def iso_duration(ms: int) -> str:
    """Format a non-negative span as an ISO 8601 duration such as ``P3DT4H5M6S``."""
    secs = max(0, ms // 1000)
    days, secs = divmod(secs, 86_400)
    hours, secs = divmod(secs, 3_600)
    minutes, secs = divmod(secs, 60)
    return f"P{days}DT{hours}H{minutes}M{secs}S"


def months_back_ms(ms: int, months: int) -> int:
    """Epoch milliseconds ``months`` calendar months before ``ms`` (the day clamped to the month's last)."""
    moment = from_ms(ms)
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return to_ms(moment.replace(year=year, month=month + 1, day=day))
