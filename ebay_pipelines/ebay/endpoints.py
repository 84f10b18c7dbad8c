"""Endpoint specs: every eBay call the families make, described as data.

An :class:`EndpointSpec` says where a list call lives (API, path or Trading call), how its pages
are walked (:class:`Pagination`, page size, :class:`~ebay_pipelines.ebay.walk.Walk` order, why), which window parameters it takes and eBay's
limits on them (:class:`WindowSpec`), which fixed parameters it always sends, and when a detail
call completes a record (:class:`DetailSpec`). The engine in :mod:`ebay_pipelines.ebay.paging`
executes them; each API module declares its own specs next to its row functions.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .config import API_PATHS
from .parsing import format_timestamp
from .walk import Walk

#: Turns one wire item of a Trading list into the records it holds (e.g. a won order's transactions).
RecordsOf = Callable[[dict[str, Any], str], list[dict[str, Any]]]


class Pagination(enum.Enum):
    """How the pages of a list call are walked."""

    #: REST collection: ``limit``/``offset``; forward by the envelope's ``next`` links (record offsets when
    #: none), backward by ``offset`` in the unit page 1's ``next`` link uses.
    REST = "REST next links (offset fallback)"
    #: Post-Order search: ``limit`` and ``offset`` (entries skipped or a 1-based page number, learned from
    #: the answers: see :mod:`ebay_pipelines.ebay.offsets`), ``paginationOutput.totalPages``.
    POST_ORDER = "Post-Order pages (offset unit learned)"
    #: Trading: ``Pagination/PageNumber`` (from 1) up to ``PaginationResult/TotalNumberOfPages``.
    TRADING = "Trading PageNumber"
    #: One answer holds every record.
    SINGLE = "single page"


class DetailWhen(enum.Enum):
    """When a record's summary needs its detail call."""

    ALWAYS = "always"
    #: Only when the summary lacks a field the tables need (see :attr:`DetailSpec.lacking`).
    WHEN_LACKING = "when the summary lacks fields"


@dataclass(frozen=True)
class Reach:
    """How far back eBay accepts a window start: ``months`` calendar months (and ``days`` days) before now.

    ``margin`` moves the oldest start that much later, so a clock ahead of eBay's (or eBay counting
    the months in another time zone) never sends a start eBay refuses; what it gives up is a day at
    the edge of what eBay keeps. ``what`` names the records, for people ("eBay keeps 18 months of
    inquiries").
    """

    months: int = 0
    days: int = 0
    what: str = "records"
    margin: timedelta = timedelta(days=1)

    def __post_init__(self) -> None:
        if self.months < 0 or self.days < 0 or (self.months == 0 and self.days == 0):
            raise ValueError("a reach is a positive number of months and/or days")

    def oldest(self, now: datetime) -> datetime:
        """The oldest window start to send at ``now``."""
        return months_before(now, self.months) - timedelta(days=self.days) + self.margin

    @property
    def label(self) -> str:
        """The reach in words: ``18 months``, ``5 years``, ``30 days``."""
        parts = []
        if self.months:
            years, rest = divmod(self.months, 12)
            parts.append(f"{years} years" if not rest else f"{self.months} months")
        if self.days:
            parts.append(f"{self.days} days")
        return " and ".join(parts)

    @property
    def reason(self) -> str:
        """Why a window older than the reach is not asked for: ``eBay keeps 18 months of inquiries``."""
        return f"eBay keeps {self.label} of {self.what}"


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months earlier (the day clamped to the month's last: Aug 31 - 6 = Feb 28)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@dataclass(frozen=True)
class WindowSpec:
    """The date window a list call filters on, and eBay's limits on it.

    Either a REST ``filter`` template with ``{from}`` and ``{to}`` (``lastmodifieddate:[{from}..{to}]``),
    or a pair of parameters (``open_date_from``/``open_date_to``; for Trading calls the request
    elements ``StartTime``/``EndTime``). Bounds are eBay timestamps (``YYYY-MM-DDTHH:MM:SS.sssZ``).
    """

    filter: str | None = None
    start_param: str | None = None
    end_param: str | None = None
    #: The longest window eBay accepts in one search (longer ones are split); None: no known limit.
    longest: timedelta | None = None
    #: How far before now eBay accepts a window start (older starts are moved up; a window wholly older
    #: is not asked for); None: no known limit.
    oldest_start: Reach | None = None

    def __post_init__(self) -> None:
        ranged = self.start_param is not None and self.end_param is not None
        if (self.filter is None) == (not ranged):
            raise ValueError("a window is either a filter template or a start/end parameter pair")
        if self.filter is not None and not ("{from}" in self.filter and "{to}" in self.filter):
            raise ValueError(f"window filter {self.filter!r} needs {{from}} and {{to}}")

    def params(self, since: datetime, until: datetime) -> list[tuple[str, str]]:
        """The parameters selecting ``[since, until]``."""
        start, end = format_timestamp(since), format_timestamp(until)
        if self.filter is not None:
            return [("filter", self.filter.format(**{"from": start, "to": end}))]
        assert self.start_param is not None and self.end_param is not None
        return [(self.start_param, start), (self.end_param, end)]

    @property
    def limits(self) -> str:
        """eBay's limits on the window, for people."""
        oldest = "no known limit" if self.oldest_start is None else f"{self.oldest_start.label} back"
        return f"longest window: {_days(self.longest)}; oldest start: {oldest}"

    @property
    def label(self) -> str:
        """How the window is sent, for people: ``lastmodifieddate:[from..to]`` or ``open_date_from/open_date_to``."""
        if self.filter is not None:
            return self.filter.replace("{from}", "from").replace("{to}", "to")
        return f"{self.start_param}/{self.end_param}"


@dataclass(frozen=True)
class DetailSpec:
    """The call that completes a listed record, and when it is needed.

    REST details are one ``GET`` of ``path`` (``{id}`` = the record's id) per record; Trading details
    ask for up to ``batch`` ids per call (``ids_element``/``id_element`` in the request, answers at
    ``item_path``). A detail is laid over its summary (``merge``) or replaces it. With
    ``reuse_unchanged``, a record the stored lookup holds with every summary field unchanged (and
    every ``reuse_requires`` field present) is taken as stored, without a detail call.
    """

    call: str
    id_field: str
    when: DetailWhen = DetailWhen.ALWAYS
    #: Groups of summary paths: a detail is needed when the summary holds none of the paths of a group.
    lacking: tuple[tuple[str, ...], ...] = ()
    #: ... and only when the summary holds one of these paths (empty: whatever it holds).
    only_if: tuple[str, ...] = ()
    api: str | None = None
    path: str | None = None
    merge: bool = False
    reuse_unchanged: bool = True
    reuse_requires: tuple[str, ...] = ()
    #: Fields only the detail holds that never change once written (a message body): a stored record
    #: holding them is reused under a changed summary, the new summary laid over it, without a call.
    stable: tuple[str, ...] = ()
    params: tuple[tuple[str, Any], ...] = ()
    batch: int = 1
    ids_element: str | None = None
    id_element: str | None = None
    item_path: str | None = None

    def __post_init__(self) -> None:
        if self.when is DetailWhen.WHEN_LACKING and not self.lacking:
            raise ValueError(f"detail {self.call}: WHEN_LACKING needs the lacking fields")
        if self.batch < 1:
            raise ValueError(f"detail {self.call}: batch must be at least 1")

    def needed(self, summary: dict[str, Any]) -> bool:
        """Whether ``summary`` needs this detail call."""
        if self.when is DetailWhen.ALWAYS:
            return True
        if self.only_if and not has_any(summary, self.only_if):
            return False
        return any(not has_any(summary, group) for group in self.lacking)

    @property
    def label(self) -> str:
        """When and how the detail is fetched, for people."""
        if self.when is DetailWhen.ALWAYS:
            when = "always"
        else:
            lacks = " or ".join("/".join(group) for group in self.lacking)
            when = f"when the summary lacks {lacks}" + (
                f" (only with {'/'.join(self.only_if)})" if self.only_if else ""
            )
        per_call = f", {self.batch} per call" if self.batch > 1 else ""
        reuse = "; skipped when the stored record shows the summary unchanged" if self.reuse_unchanged else ""
        if self.reuse_unchanged and self.stable:
            reuse += f" or holds {'/'.join(self.stable)}, which never change"
        return f"{self.call} {when}{per_call}{reuse}"


@dataclass(frozen=True)
class Variant:
    """One of the searches an endpoint makes per window: ``param`` sent with one value, spelled one of several ways.

    The first spelling is sent; when eBay answers 400 before any page, the next one is tried (a
    value whose spelling eBay's pages disagree on). A spelling None sends no ``param``.
    """

    param: str
    spellings: tuple[str | None, ...]

    def __post_init__(self) -> None:
        if not self.spellings:
            raise ValueError(f"variant {self.param}: at least one spelling")

    @property
    def label(self) -> str:
        """The variant for people: ``return_state=CLOSED (else ALL_CLOSED)``."""
        names = [f"{self.param}={s}" if s is not None else f"no {self.param}" for s in self.spellings]
        return names[0] + (f" (else {', '.join(names[1:])})" if len(names) > 1 else "")


@dataclass(frozen=True)
class EndpointSpec:
    """One eBay list call: where it lives, how it pages, its window and its detail call.

    REST and Post-Order calls name a ``path`` below their API's base URL and the ``items_key`` of
    their answer; Trading calls (API ``trading``) name their ``list_element`` (the container of the
    list in request and answer; None: the root) and the ``item_path`` of the items below it.
    ``params`` are sent with every request: query parameters after the window's, or Trading
    elements of the list element before the window's.
    """

    call: str
    api: str
    pagination: Pagination
    page_size: int
    #: Why the pages are walked this way (and in which direction).
    paging_note: str
    #: The order the pages are read in (see :mod:`ebay_pipelines.ebay.walk`): backward lands every record
    #: that stays in a set shrinking while it is paged, at the same number of calls.
    walk: Walk = Walk.BACKWARD
    path: str | None = None
    items_key: str | None = None
    list_element: str | None = None
    item_path: str | None = None
    params: tuple[tuple[str, Any], ...] = ()
    window: WindowSpec | None = None
    #: The searches made per window, one walk each, in this order (empty: one search).
    variants: tuple[Variant, ...] = ()
    detail: DetailSpec | None = None
    #: HTTP 404 errorIds meaning "no records here" (answered before any page), e.g. getOffers' 25713.
    no_records_errors: frozenset[int] = frozenset()
    #: Whether a 404 without an errorId (the bare 404 a contract declares) means "no records here" too.
    no_records_bare_404: bool = False
    #: Walks per value (:func:`~ebay_pipelines.ebay.paging.pages_per_value`): HTTP 400 errorIds meaning
    #: "this value cannot be read" (a 400 without an errorId too); the value is recorded, the walk goes on.
    value_errors: frozenset[int] = frozenset()
    #: Trading only: the records one listed item holds (default: the item itself).
    records_of: RecordsOf | None = None

    def __post_init__(self) -> None:
        if self.api not in API_PATHS:
            raise ValueError(f"endpoint {self.call}: unknown API {self.api!r}")
        if self.page_size < 1:
            raise ValueError(f"endpoint {self.call}: page size must be at least 1")
        if self.trading:
            if self.item_path is None or self.pagination is not Pagination.TRADING:
                raise ValueError(f"endpoint {self.call}: a Trading list needs an item path and Trading paging")
        elif self.path is None or self.items_key is None or self.pagination is Pagination.TRADING:
            raise ValueError(f"endpoint {self.call}: a REST list needs a path, an items key and REST paging")
        detail = self.detail
        if detail is not None:
            if (detail.api or self.api) == "trading":
                if detail.ids_element is None or detail.id_element is None or detail.item_path is None:
                    raise ValueError(f"detail {detail.call}: a Trading detail needs its ids elements and item path")
            elif detail.path is None or "{id}" not in detail.path:
                raise ValueError(f"detail {detail.call}: a REST detail needs a path with {{id}}")

    @property
    def trading(self) -> bool:
        """Whether this is a Trading (XML) call."""
        return self.api == "trading"

    @property
    def calls(self) -> tuple[str, ...]:
        """eBay's names of the calls this endpoint makes: the list call, then its detail call."""
        names = [self.call] + ([self.detail.call] if self.detail else [])
        return tuple(dict.fromkeys(names))

    def summary(self) -> dict[str, str]:
        """The spec in words, for people (asset metadata)."""
        where = (
            f"{self.api} {self.path}" if not self.trading else f"Trading {self.call} {self.list_element or ''}".rstrip()
        )
        fixed = ", ".join(f"{name}={value}" for name, value in self.params)
        searches = {"searches": "; ".join(v.label for v in self.variants)} if self.variants else {}
        return {
            "call": self.call,
            "where": where + (f" ({fixed})" if fixed else ""),
            "pagination": f"{self.pagination.value}, {self.page_size} per page, {self.walk.value}",
            "paging_note": self.paging_note,
            "window": "none" if self.window is None else f"{self.window.label} ({self.window.limits})",
            "detail": self.detail.label if self.detail else "none",
            **searches,
        }


def has_any(record: dict[str, Any], paths: Iterable[str]) -> bool:
    """True when ``record`` holds a non-empty value at one of the dotted ``paths``."""
    for path in paths:
        node: Any = record
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node not in (None, "", [], {}):
            return True
    return False


def _days(span: timedelta | None) -> str:
    if span is None:
        return "no known limit"
    return f"{span / timedelta(days=1):g} days"
