"""Keep Python's full garbage collections cheap while a partition streams through the process.

A partition write allocates and drops millions of short-lived, acyclic objects (decoded pages,
rows). Whenever enough of them outlive a young collection, CPython runs a full collection that
walks *every* tracked object in the process: in a Dagster process that is several hundred
thousand objects of Dagster itself, which cost about a sixth of a 50,000-order load when measured.
While a write runs, the objects that existed before it sit in the permanent generation
(``gc.freeze``), so full collections walk only what the writes hold; they return to the collector
when the last concurrent write ends. Young collections are rarer meanwhile (every
:data:`YOUNG_THRESHOLD` allocations instead of 700): a decoded page of 200 orders is some 30,000
acyclic objects that reference counting frees, which a young collection every 700 allocations
walked again and again for nothing (measured: JSON decoding took twice as long).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_active = 0
_saved_threshold: tuple[int, int, int] | None = None

#: Allocations between two young collections while a write runs.
YOUNG_THRESHOLD = 50_000


@contextmanager
def existing_objects_frozen() -> Iterator[None]:
    """Exclude the objects alive at entry from full collections, and collect the young rarely, until the last such scope exits."""
    global _active, _saved_threshold
    with _lock:
        if _active == 0:
            gc.freeze()
            _saved_threshold = gc.get_threshold()
            young, middle, old = _saved_threshold
            gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                if _saved_threshold is not None:
                    gc.set_threshold(*_saved_threshold)
                    _saved_threshold = None
                gc.unfreeze()
