"""Time windows of day partitions: a day plus the family's overlap, never past now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone


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
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def day_window(day: date, overlap: timedelta, now: datetime) -> Window:
    """Return the window a day partition fetches: ``[day - overlap, min(day + 1, now))``.

    Today's partition ends at ``now``, so it can be materialized (and refreshed) during the day.
    """
    start = day_start(day)
    if start > now:
        raise WindowInFuture(f"partition {day.isoformat()} has not begun yet (now is {now.isoformat()})")
    return Window(start=start - overlap, end=min(start + timedelta(days=1), now))


def parse_day(value: str) -> date:
    """Parse a ``YYYY-MM-DD`` partition key."""
    return date.fromisoformat(value)
