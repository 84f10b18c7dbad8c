"""The simulated clock: either pinned to a fixed instant or following the wall clock with an offset."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from .util import from_ms, to_ms


class SimClock:
    """Thread-safe simulated "now" in epoch milliseconds."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed: int | None = to_ms(fixed) if fixed is not None else None
        self._offset = 0

    def now_ms(self) -> int:
        """Return the simulated now in epoch milliseconds."""
        with self._lock:
            if self._fixed is not None:
                return self._fixed
            return int(time.time() * 1000) + self._offset

    def now(self) -> datetime:
        """Return the simulated now as an aware UTC datetime."""
        return from_ms(self.now_ms())

    def set_now(self, dt: datetime) -> None:
        """Jump to ``dt``; a pinned clock stays pinned, a wall clock keeps running from there."""
        target = to_ms(dt)
        with self._lock:
            if self._fixed is not None:
                self._fixed = target
            else:
                self._offset = target - int(time.time() * 1000)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (or backward for a negative ``delta``)."""
        step = int(delta.total_seconds() * 1000)
        with self._lock:
            if self._fixed is not None:
                self._fixed += step
            else:
                self._offset += step
