"""Time windows of day partitions: a day plus the family's overlap, never past now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


class WindowInFuture(ValueError):
    """A partition whose day has not begun yet."""


@dataclass(frozen=True)
class Window:
    """A half-open UTC time range ``[start, end)``."""

    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        """Return the window as ISO 8601 strings (for run summaries and metadata)."""
        return {"window_from": self.start.isoformat(), "window_to": self.end.isoformat()}


def day_start(day: date) -> datetime:
    """Return midnight UTC at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_window(day: date, overlap: timedelta, now: datetime) -> Window:
    """Return the window a day partition fetches: ``[day - overlap, min(day + 1, now))``.

    Today's partition ends at ``now``, so it can be materialized (and refreshed) during the day.
    """
    return days_window(day, day, overlap, now)


def days_window(first_day: date, last_day: date, overlap: timedelta, now: datetime) -> Window:
    """Return the one window a run of consecutive day partitions fetches: ``[first - overlap, min(last + 1, now))``.

    One window over many days costs eBay's calls for the records it holds, not one search per day.
    """
    if last_day < first_day:
        raise ValueError(f"day range {first_day.isoformat()}..{last_day.isoformat()} ends before it starts")
    start = day_start(first_day)
    if start > now:
        raise WindowInFuture(f"partition {first_day.isoformat()} has not begun yet (now is {now.isoformat()})")
    return Window(start=start - overlap, end=min(day_start(last_day) + timedelta(days=1), now))


def parse_day(value: str) -> date:
    """Parse a ``YYYY-MM-DD`` partition key."""
    return date.fromisoformat(value)
