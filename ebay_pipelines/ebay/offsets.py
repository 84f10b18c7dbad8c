"""What a Post-Order search's ``offset`` counts, learned from eBay's answers.

eBay's PaginationOutput type page (developer.ebay.com/devzone/post-order/types/PaginationOutput.html)
says ``offset`` is the number of entries skipped (default 0); several clients report it behaving
as a 1-based page number (shared eBay notes, "Wire facts": Post-Order offset). Both readings agree
on one request: without ``offset`` eBay answers the first page. So page 1 is always asked for
without it, and only a set of more than one page needs the unit, learned by one probe that the
client then remembers (:attr:`EbayRestClient.post_order_offset`): later searches pay nothing.

The probe asks ``offset=2`` with the walk's page size L. Read as a page number it answers page 2,
holding none of page 1's records; read as entries skipped it answers the set from its third
record, holding page 1's records from the third on. Records leaving the set (or entering it
before page 1's records) between the two answers shift both, by at most the change of the total;
the verdict stands while the two readings stay that far apart. Page sizes below 3 are probed at
``offset=1`` (page 1 again, or the set from its second record), which only an unchanged total
decides. An undecided probe is repeated after reading page 1 again, up to :data:`PROBES` times;
after that the search fails with a transient error rather than walk with a guessed unit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .walk import PageAnswer

#: Probes (each after a fresh page 1) before a search whose set keeps changing gives up.
PROBES = 3
#: The id of a search member: InquirySummaryType, CaseSummaryType, ReturnSummaryType.
ID_FIELDS = ("inquiryId", "caseId", "returnId")


class OffsetUnit(enum.Enum):
    """What eBay's ``offset`` parameter counts."""

    #: The number of records skipped (eBay's PaginationOutput type page): page n is offset (n-1)*limit.
    ENTRIES = "entries skipped"
    #: A 1-based page number (as clients report): page n is offset n.
    PAGES = "1-based page number"

    def offset(self, page: int, per_page: int) -> int | None:
        """The ``offset`` asking for ``page`` (from 1); None for page 1, which needs none under either reading."""
        if page <= 1:
            return None
        return page if self is OffsetUnit.PAGES else (page - 1) * per_page


@dataclass(frozen=True)
class Probe:
    """One request telling the readings apart: the ``offset`` it sends and how its answer is read."""

    offset: int
    per_page: int

    @classmethod
    def for_page_size(cls, per_page: int) -> Probe:
        """The probe for pages of ``per_page`` records (offset 2 from 3 records a page, else offset 1)."""
        return cls(2 if per_page >= 3 else 1, per_page)

    def verdict(
        self, first: PageAnswer, first_ids: Sequence[str], probed: PageAnswer, probed_ids: Sequence[str]
    ) -> OffsetUnit | None:
        """The unit the probe's answer proves against page 1's, or None when a change in between blurs it."""
        changed = _change(first, probed)
        shared = next((first_ids.index(i) for i in probed_ids if i in first_ids), None)
        if self.offset == 1:
            if changed:
                return None
            return OffsetUnit.PAGES if shared == 0 else OffsetUnit.ENTRIES
        size = self.per_page
        if shared is None:
            # As entries skipped the answer would hold page 1's third record on, unless it left.
            return OffsetUnit.PAGES if size - changed >= 3 else None
        if shared <= 2 + changed and shared < size - changed:
            return OffsetUnit.ENTRIES
        if shared >= size - changed and shared > 2 + changed:
            return OffsetUnit.PAGES
        return None


def detect(
    first: PageAnswer, fetch: Callable[[int | None], PageAnswer], per_page: int
) -> tuple[OffsetUnit, PageAnswer] | None:
    """Learn the unit with probes; return it with the latest page 1 (read again after a blurred probe).

    ``fetch(offset)`` answers one request (None: without ``offset``, i.e. page 1). None after
    :data:`PROBES` blurred probes.
    """
    probe = Probe.for_page_size(per_page)
    for attempt in range(PROBES):
        if attempt:
            first = fetch(None)
        probed = fetch(probe.offset)
        unit = probe.verdict(first, member_ids(first), probed, member_ids(probed))
        if unit is not None:
            return unit, first
    return None


def member_ids(answer: PageAnswer) -> list[str]:
    """The ids of an answer's members, to compare two answers (a member without one by its whole value)."""
    found = []
    for member in answer.items:
        key = next((k for k in ID_FIELDS if isinstance(member, dict) and member.get(k) is not None), None)
        found.append(repr(member) if key is None else str(member[key]))
    return found


def _change(first: PageAnswer, later: PageAnswer) -> int:
    """How many records the set gained or lost between two answers (0 when either lacks a total)."""
    if first.total is None or later.total is None:
        return 0
    return abs(first.total - later.total)
