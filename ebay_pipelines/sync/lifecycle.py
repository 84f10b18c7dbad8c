"""How long a family's records keep changing after the date eBay files them under.

Families searched by a date that never moves (creation, open, transaction or receive date) hold
records that change for days afterwards: an inquiry goes OPEN -> WAITING_BUYER_RESPONSE -> CLOSED,
a sale's funds go FUNDS_PROCESSING -> FUNDS_AVAILABLE_FOR_PAYOUT -> PAYOUT, a message is read and
replied to. A search of today's window never sees those changes. A :class:`Refresh` says how the
family's schedule reaches back for them (design §8):

- on every tick, the window reaches back to the oldest stored record that is still open
  (:class:`StillOpen`), so an open problem's change lands within one tick;
- on the first tick after midnight UTC, the window reaches back ``days`` days, so every record
  young enough to change (closed ones included) lands within a day.

Either way a tick stays one run per account: one search over a longer window costs a page per
``page_size`` records it holds, and a record whose summary is unchanged costs no detail call.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StillOpen:
    """Stored rows of ``table`` that can still change: those whose ``status_column`` is not final.

    The date the family's search filters on is ``date_column`` or, where the table has no column
    for it, the timestamp at ``date_path`` in ``raw``. ``where`` narrows the rows (column = value).
    """

    table: str
    status_column: str
    final: tuple[str, ...]
    date_column: str | None = None
    date_path: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if (self.date_column is None) == (not self.date_path):
            raise ValueError(f"{self.table}: name either the date column or the raw path of the date")


@dataclass(frozen=True)
class Refresh:
    """How a family's schedule keeps stored records current although its filter date never moves."""

    #: The daily sweep reaches back this many days: records older than that no longer change.
    days: int
    #: Rows still open: each tick's window reaches back to the oldest of them.
    still_open: tuple[StillOpen, ...] = ()
    #: Why these figures, with eBay's source (shown in the asset's metadata).
    reason: str = ""
    #: The longest lag a change on eBay waits before it is stored, for people.
    lag: str = field(default="24 hours")

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("a refresh reaches back at least one day")
