"""A thread-safe list of rules that tests add to a running simulator (faults, churn)."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

R = TypeVar("R")


class RuleList(Generic[R]):
    """Rules kept in insertion order behind one lock; subclasses read them under :attr:`_lock`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[R] = []

    def add(self, rule: R) -> R:
        """Add ``rule`` (checked in insertion order) and return it."""
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (what they already did stays done)."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[R]:
        """A copy of the current rules."""
        with self._lock:
            return list(self._rules)
