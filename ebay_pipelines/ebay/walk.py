"""Walking the pages of a result set that changes while it is paged, and proving the walk complete.

eBay answers every page from the result set as it is at that moment. A record leaving the set
(an order modified during a ``lastmodifieddate`` search, a listing ending during a snapshot)
moves every record behind it up one place. A forward walk then skips one record per change at
each page boundary it has passed. A :attr:`Walk.BACKWARD` walk reads page 1 (to learn the size
of the set), then the last page back to page 2: a record can then only move into a page not yet
read, so a shift becomes a duplicate (harmless under upserts) instead of a gap. The one boundary
it crosses the wrong way, page 1 to page 2, is closed by reading page 1 once more when the set
changed during the walk; an unchanging set costs exactly its pages, as a forward walk does.
With a fixed window end the set only shrinks, and every record that stays in it is yielded.

A :class:`WalkReport` says whether every walk was *proven* complete: every page reported the
total page 1 reported and held the records that total implies. A set that grew or shrank
meanwhile is walked losslessly (when it only shrank) but not proven: a snapshot then keeps the
rows it did not see instead of pruning them. A record entering the set in the middle of the sort
order while another leaves within one page interval leaves the total unchanged: no count proves
that case, and none is claimed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Items = list[Any]


class Walk(enum.Enum):
    """The order a paged call's pages are read in."""

    #: Page 1, 2, ... to the last (following REST ``next`` links).
    FORWARD = "first page to last"
    #: Page 1, then the last page back to page 2 (page 1 again when the set changed meanwhile).
    BACKWARD = "page 1, then last page back to page 2"


@dataclass(frozen=True)
class Unreadable:
    """A value of a walk per value that eBay refused (e.g. a SKU getOffers answers with 400 25709)."""

    call: str
    param: str
    value: str
    status: int | None
    error_ids: tuple[int | str, ...]
    message: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready description for a run's summary."""
        return {
            "call": self.call,
            self.param: self.value,
            "status": self.status,
            "error_ids": [str(e) for e in self.error_ids],
            "message": self.message,
        }


@dataclass
class WalkReport:
    """Whether the walks a fetch made were proven complete; every walk given this report adds to it."""

    walks: int = 0
    problems: list[str] = field(default_factory=list)
    #: Values whose records could not be read: the walk is then not complete either.
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every walk was proven complete."""
        return not self.problems

    @property
    def reason(self) -> str | None:
        """Why a walk was not proven complete (None when every walk was)."""
        return "; ".join(self.problems) or None

    def unproven(self, call: str, why: str) -> None:
        """Record that a walk of ``call`` was not proven complete, and why."""
        self.problems.append(f"{call}: {why}")

    def refused(self, value: Unreadable) -> None:
        """Record a value whose records eBay refused to list: the fetch is not complete."""
        self.unreadable.append(value)
        ids = ",".join(str(e) for e in value.error_ids) or "none"
        self.unproven(value.call, f"{value.param} {value.value!r} answered HTTP {value.status} (errorId {ids})")


@dataclass(frozen=True)
class PageAnswer:
    """One answered page: its records and the size of the set as that answer counts it."""

    items: Items
    #: Records in the whole set (REST ``total``, Post-Order ``totalEntries``, Trading ``TotalNumberOfEntries``).
    total: int | None = None
    #: Pages in the whole set (Post-Order ``totalPages``, Trading ``TotalNumberOfPages``).
    pages: int | None = None


class PageAudit:
    """Checks every page of one walk against what page 1 said of the set."""

    def __init__(self, first: PageAnswer, per_page: int) -> None:
        self.total = first.total
        self.pages = first.pages
        self.per_page = per_page
        self.read = 0
        self.problems: list[str] = []
        self.see(1, first)

    @property
    def changed(self) -> bool:
        """True once a page disagreed with page 1 about the set."""
        return bool(self.problems)

    def see(self, number: int, answer: PageAnswer) -> None:
        """Check page ``number``'s answer (the first disagreement is the one reported)."""
        self.read += 1
        if self.problems:
            return
        if answer.total != self.total or answer.pages != self.pages:
            self.problems.append(
                f"the set changed while it was paged (page 1: {_size(self.total, self.pages)}, "
                f"page {number}: {_size(answer.total, answer.pages)})"
            )
            return
        if self.total is None:
            return
        expected = min(self.per_page, max(0, self.total - (number - 1) * self.per_page))
        if len(answer.items) != expected:
            self.problems.append(f"page {number} held {len(answer.items)} records where the total implies {expected}")

    def close(self, call: str, report: WalkReport | None) -> None:
        """Add this walk's verdict to ``report``."""
        if report is None:
            return
        report.walks += 1
        if self.total is None and self.pages is None and self.read > 1:
            report.unproven(call, "the answers carry no total to prove the pages against")
        for problem in self.problems:
            report.unproven(call, problem)


def total_pages(answer: PageAnswer, per_page: int) -> int | None:
    """The number of pages ``answer`` says the set has (from its page count, else its total)."""
    if answer.pages is not None:
        return answer.pages
    if answer.total is not None:
        return -(-answer.total // per_page)
    return None


def walk_numbered(
    first: PageAnswer,
    fetch: Callable[[int], PageAnswer],
    *,
    per_page: int,
    walk: Walk,
    call: str,
    report: WalkReport | None = None,
) -> Iterator[Items]:
    """Yield the non-empty pages of a set paged by number (page 1 already answered as ``first``).

    ``fetch(n)`` answers page ``n`` (from 1). A backward walk needs the set's size from page 1;
    without one the walk goes forward. A forward walk stops at an empty page, at the page count
    the answer gives, or (without one) at a page holding fewer than ``per_page`` records.
    """
    audit = PageAudit(first, per_page)
    if first.items:
        yield first.items
    last = total_pages(first, per_page)
    if walk is Walk.BACKWARD and last is not None:
        for number in range(last, 1, -1):
            answer = fetch(number)
            audit.see(number, answer)
            if answer.items:
                yield answer.items
        if audit.changed and last > 1:
            # Records of page 2 may have moved into page 1 after it was read: read it again.
            again = fetch(1)
            if again.items:
                yield again.items
    else:
        answer, number = first, 1
        while answer.items:
            if answer.pages is not None:
                if number >= answer.pages:
                    break
            elif len(answer.items) < per_page:
                break
            number += 1
            answer = fetch(number)
            audit.see(number, answer)
            if answer.items:
                yield answer.items
    audit.close(call, report)


def _size(total: int | None, pages: int | None) -> str:
    parts = [] if total is None else [f"{total} records"]
    if pages is not None:
        parts.append(f"{pages} pages")
    return ", ".join(parts) or "no total"
