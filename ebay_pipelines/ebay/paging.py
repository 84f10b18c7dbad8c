"""The paging engine: walks the pages of any :class:`EndpointSpec` and completes records with their details.

:func:`pages` splits a window by the spec's longest window, walks each window's pages the way
its :class:`Pagination` says (on the clients' own primitives: ``EbayRestClient.paginate`` and
``get_json``, ``TradingClient.paginate`` and ``execute``), fetches the detail calls its
:class:`DetailSpec` asks for, and yields the non-empty pages of records (plain dicts; Trading
items converted with :func:`ebay_pipelines.ebay.trading.to_dicts`). Given ``known`` (ids -> the
records an earlier sync stored), a record whose summary is unchanged since then is yielded as the
stored record, without a detail call.

Pages come in walk order (:attr:`EndpointSpec.walk`, see :mod:`ebay_pipelines.ebay.walk`): a
backward walk yields page 1, then the last page back to page 2, and page 1 once more when the set
changed meanwhile; a record may then appear in two pages (the store keeps the newest version),
never twice in one. A :class:`~ebay_pipelines.ebay.walk.WalkReport` passed as ``report`` learns
whether every walk was proven complete.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from lxml import etree

from . import offsets
from .endpoints import DetailSpec, EndpointSpec, Pagination, has_any
from .errors import EbayApiError, PayloadError
from .parsing import Record, date_windows, format_timestamp, utcnow
from .rest import EbayRestClient
from .trading import TradingClient, add, add_pagination, new_request, to_dicts
from .walk import PageAnswer, Unreadable, WalkReport, total_pages, walk_numbered
from .xmlconv import findall

logger = logging.getLogger("ebay_pipelines.ebay")

Known = Callable[[list[str]], Mapping[str, dict[str, Any]]]
"""Given record ids, return the records an earlier sync stored for those of them it knows."""

Params = Sequence[tuple[str, Any]]
Page = list[dict[str, Any]]


def pages(
    endpoint: EndpointSpec,
    *,
    rest: EbayRestClient | None = None,
    trading: TradingClient | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    known: Known | None = None,
    page_size: int | None = None,
    params: Params = (),
    details: bool | None = None,
    now: datetime | None = None,
    report: WalkReport | None = None,
) -> Iterator[Page]:
    """Yield the non-empty pages of records ``endpoint`` lists in ``[since, until]`` (both inclusive).

    ``params`` are sent after the spec's own; ``page_size`` replaces the spec's. ``details`` True
    forces and False skips the detail calls (None: as the detail spec says). A windowed endpoint
    needs ``since`` and ``until``; a window starting before eBay's oldest allowed start (relative to
    ``now``) starts there instead. ``report`` learns whether every walk was proven complete.
    """
    size = page_size or endpoint.page_size
    for start, end in windows(endpoint, since, until, now):
        window = [] if endpoint.window is None or start is None or end is None else endpoint.window.params(start, end)
        if endpoint.trading:
            client_t = _need(trading, endpoint)
            listed: Iterator[Page] = _trading_pages(
                client_t, endpoint, [*endpoint.params, *params], window, size, report
            )
        else:
            client_r = _need(rest, endpoint)
            listed = _searches(client_r, endpoint, [*window, *endpoint.params, *params], size, report)
        # Details completed in this walk: a page read again (page 1 after a change) costs no second detail call.
        completed: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for page in listed:
            records = (
                page
                if endpoint.detail is None
                else _with_details(endpoint, rest, trading, page, known, details, completed)
            )
            if records:
                yield records


def pages_per_value(
    endpoint: EndpointSpec,
    rest: EbayRestClient,
    param: str,
    values: Iterable[str],
    *,
    page_size: int | None = None,
    report: WalkReport | None = None,
) -> Iterator[Page]:
    """Yield batches of the records ``endpoint`` lists for each value of ``param``, one walk per value.

    Records are gathered across values and yielded once at least ``page_size`` are in hand (the
    rest at the end), so a value with a handful of records does not make a page of its own. A value
    eBay refuses with one of the spec's ``value_errors`` is recorded in ``report`` and the walk goes
    on with the next value (without a report the error is raised).
    """
    size = page_size or endpoint.page_size
    batch: Page = []
    for value in values:
        try:
            for page in pages(endpoint, rest=rest, params=[(param, value)], page_size=size, report=report):
                batch.extend(page)
                if len(batch) >= size:
                    yield batch
                    batch = []
        except EbayApiError as exc:
            if report is None or not _value_refused(endpoint, exc):
                raise
            logger.warning("eBay call %s: %s %r cannot be read: %s", endpoint.call, param, value, exc)
            report.refused(Unreadable(endpoint.call, param, value, exc.status, exc.error_ids, exc.message))
    if batch:
        yield batch


def _value_refused(endpoint: EndpointSpec, exc: EbayApiError) -> bool:
    """Whether ``exc`` is eBay refusing one value of a walk per value (HTTP 400 with a value errorId or none)."""
    if not endpoint.value_errors or exc.status != 400:
        return False
    return not exc.error_ids or bool(endpoint.value_errors & _ints(exc.error_ids))


def windows(
    endpoint: EndpointSpec, since: datetime | None, until: datetime | None, now: datetime | None = None
) -> list[tuple[datetime | None, datetime | None]]:
    """The searches ``[since, until]`` takes for ``endpoint``: split by eBay's longest window, clipped to its reach.

    A window wholly older than eBay's reach takes none.
    """
    spec = endpoint.window
    if spec is None:
        if since is not None or until is not None:
            raise ValueError(f"eBay call {endpoint.call} takes no window")
        return [(None, None)]
    if since is None or until is None:
        raise ValueError(f"eBay call {endpoint.call} needs a window (since and until)")
    if spec.oldest_start is not None:
        oldest = spec.oldest_start.oldest(now or utcnow())
        if since < oldest:
            logger.info(
                "eBay call %s: window start %s is older than eBay allows; searching from %s",
                endpoint.call,
                format_timestamp(since),
                format_timestamp(oldest),
            )
            since = oldest
        if since > until:
            return []
    if spec.longest is None:
        return [(since, until)]
    return list(date_windows(since, until, spec.longest))


def beyond_reach(endpoint: EndpointSpec, since: datetime, until: datetime, now: datetime | None = None) -> str | None:
    """What eBay's reach leaves out of ``[since, until]`` for ``endpoint``, in words (None: nothing).

    ``searchInquiries: not searched: eBay keeps 18 months of inquiries`` for a window wholly out of
    reach, ``searchReturns: searched from <oldest> instead of <since>: ...`` for one straddling it.
    """
    spec = endpoint.window
    if spec is None or spec.oldest_start is None:
        return None
    oldest = spec.oldest_start.oldest(now or utcnow())
    if since >= oldest:
        return None
    if until < oldest:
        return f"{endpoint.call}: not searched: {spec.oldest_start.reason}"
    return (
        f"{endpoint.call}: searched from {format_timestamp(oldest)} instead of {format_timestamp(since)}: "
        f"{spec.oldest_start.reason}"
    )


def summary_unchanged(summary: dict[str, Any], stored: dict[str, Any]) -> bool:
    """True when every field of ``summary`` equals the stored record's (so its detail is unchanged too)."""
    return all(key in stored and stored[key] == value for key, value in summary.items())


def merge_detail(summary: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """Return the summary with the detail's fields laid over it (detail wins on conflicts)."""
    merged = dict(summary)
    merged.update(detail or {})
    return merged


# ------------------------------------------------------------------------------------------------
# Listing, per pagination kind
# ------------------------------------------------------------------------------------------------


def _need(client: Any, endpoint: EndpointSpec) -> Any:
    if client is None:
        kind = "Trading" if endpoint.trading else "REST"
        raise ValueError(f"eBay call {endpoint.call} needs a {kind} client")
    return client


def _searches(
    client: EbayRestClient,
    endpoint: EndpointSpec,
    params: list[tuple[str, Any]],
    size: int,
    report: WalkReport | None,
) -> Iterator[Page]:
    """Walk each of the endpoint's searches in turn (:attr:`EndpointSpec.variants`; none: the one search)."""
    if not endpoint.variants:
        yield from _rest_pages(client, endpoint, params, size, report)
        return
    for variant in endpoint.variants:
        for n, spelling in enumerate(variant.spellings):
            extra = [] if spelling is None else [(variant.param, spelling)]
            received = False
            try:
                for page in _rest_pages(client, endpoint, [*params, *extra], size, report):
                    received = True
                    yield page
                break
            except EbayApiError as exc:
                if received or exc.status != 400 or n == len(variant.spellings) - 1:
                    raise
                logger.info(
                    "eBay call %s refused %s=%s (%s); trying %s",
                    endpoint.call,
                    variant.param,
                    spelling,
                    exc,
                    variant.spellings[n + 1],
                )


def _rest_pages(
    client: EbayRestClient,
    endpoint: EndpointSpec,
    params: list[tuple[str, Any]],
    size: int,
    report: WalkReport | None,
) -> Iterator[Page]:
    if endpoint.pagination is Pagination.POST_ORDER:
        listed = _post_order_pages(client, endpoint, params, size, report)
    elif endpoint.pagination is Pagination.SINGLE:
        listed = _single_page(client, endpoint, params, report)
    else:
        assert endpoint.path is not None and endpoint.items_key is not None
        listed = client.paginate(
            endpoint.api,
            endpoint.path,
            params,
            endpoint.call,
            endpoint.items_key,
            size,
            walk=endpoint.walk,
            report=report,
        )
    if not endpoint.no_records_errors and not endpoint.no_records_bare_404:
        yield from listed
        return
    received = False
    try:
        for page in listed:
            received = True
            yield page
    except EbayApiError as exc:
        if received or exc.status != 404:
            raise
        bare = not exc.error_ids and endpoint.no_records_bare_404
        if not bare and not endpoint.no_records_errors & _ints(exc.error_ids):
            raise


def _items(client: EbayRestClient, endpoint: EndpointSpec, body: dict[str, Any]) -> Page:
    assert endpoint.items_key is not None
    items = body.get(endpoint.items_key) if body else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise PayloadError(
            f"'{endpoint.items_key}' is not a list", call_name=endpoint.call, account_id=client.account_id
        )
    return items


def _post_order_pages(
    client: EbayRestClient, endpoint: EndpointSpec, params: list[tuple[str, Any]], size: int, report: WalkReport | None
) -> Iterator[Page]:
    """Post-Order searches: ``paginationOutput`` gives the set's size; ``offset`` counts what eBay says it counts.

    Page 1 is asked for without ``offset`` (the first page under either reading of it). A set of
    more than one page is walked in the unit the client learned (see :mod:`ebay_pipelines.ebay.offsets`).
    """
    assert endpoint.path is not None
    path = endpoint.path

    def ask(offset: int | None) -> PageAnswer:
        query = [*params, ("limit", size)] + ([] if offset is None else [("offset", offset)])
        body = client.get_json(endpoint.api, path, query, endpoint.call)
        client.pages[(client.account_id, endpoint.call)] += 1
        output = Record(body, call_name=endpoint.call, account_id=client.account_id).child("paginationOutput")
        members = _items(client, endpoint, body)
        return PageAnswer(members, total=output.integer("totalEntries"), pages=output.integer("totalPages"))

    first = ask(None)
    last = total_pages(first, size)
    unit = client.post_order_offset
    several = len(first.items) >= size if last is None else last > 1
    if unit is None and several:
        learned = offsets.detect(first, ask, size)
        if learned is None:
            raise PayloadError(
                f"could not tell what offset counts: the set changed under {offsets.PROBES} probes",
                call_name=endpoint.call,
                account_id=client.account_id,
                transient=True,
            )
        unit, first = learned
        client.post_order_offset = unit
        logger.info("eBay call %s: Post-Order offset is the %s", endpoint.call, unit.value)

    def fetch(page: int) -> PageAnswer:
        assert unit is not None, "a set of one page asks for no other"
        return ask(unit.offset(page, size))

    yield from walk_numbered(first, fetch, per_page=size, walk=endpoint.walk, call=endpoint.call, report=report)


def _single_page(
    client: EbayRestClient, endpoint: EndpointSpec, params: list[tuple[str, Any]], report: WalkReport | None
) -> Iterator[Page]:
    assert endpoint.path is not None
    body = client.get_json(endpoint.api, endpoint.path, params, endpoint.call)
    client.pages[(client.account_id, endpoint.call)] += 1
    items = _items(client, endpoint, body)
    if report is not None:
        report.walks += 1  # one answer holds the whole set: nothing can shift
    if items:
        yield items


def _trading_pages(
    client: TradingClient,
    endpoint: EndpointSpec,
    params: Params,
    window: list[tuple[str, str]],
    size: int,
    report: WalkReport | None,
) -> Iterator[Page]:
    """Trading lists: the request's list element holds the parameters, the window and the pagination."""

    def build(page: int, per_page: int) -> etree._Element:
        request = new_request(endpoint.call)
        container = request if endpoint.list_element is None else add(request, endpoint.list_element)
        for name, value in [*params, *window]:
            if value is not None:
                add(container, name, value)
        add_pagination(container, per_page, page)
        return request

    assert endpoint.item_path is not None
    for elements in client.paginate(
        endpoint.call,
        endpoint.list_element,
        build,
        item_path=endpoint.item_path,
        entries_per_page=size,
        walk=endpoint.walk,
        report=report,
    ):
        items = to_dicts(elements)
        if endpoint.records_of is None:
            yield items
        else:
            yield [record for item in items for record in endpoint.records_of(item, client.account_id)]


# ------------------------------------------------------------------------------------------------
# Details
# ------------------------------------------------------------------------------------------------


def _with_details(
    endpoint: EndpointSpec,
    rest: EbayRestClient | None,
    trading: TradingClient | None,
    page: Page,
    known: Known | None,
    details: bool | None,
    completed: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> Page:
    """Complete ``page`` with detail calls; ``completed`` holds (and gains) this walk's completed records."""
    detail = endpoint.detail
    assert detail is not None
    client: EbayRestClient | TradingClient = _need(trading if endpoint.trading else rest, endpoint)
    ids = []
    for summary in page:
        rec = Record(summary, call_name=endpoint.call, account_id=client.account_id, id_field=detail.id_field)
        record_id = rec.text(detail.id_field)
        if not record_id:
            raise rec.fail(detail.id_field, "is missing")
        ids.append(record_id)
    stored = known(ids) if known is not None and details is not False and detail.reuse_unchanged else {}
    result = list(page)
    todo: list[int] = []
    for i, (record_id, summary) in enumerate(zip(ids, page)):
        if not (detail.needed(summary) if details is None else details):
            continue
        earlier = completed.get(record_id)
        if earlier is not None and summary_unchanged(summary, earlier[0]):
            result[i] = dict(earlier[1])
            continue
        previous = stored.get(record_id)
        if previous is not None and _reusable(detail, summary, previous):
            result[i] = dict(previous)
        elif previous is not None and detail.stable and all(has_any(previous, (path,)) for path in detail.stable):
            result[i] = merge_detail(previous, summary)
        else:
            todo.append(i)
    if not todo:
        return result
    api = detail.api or endpoint.api
    if api == "trading":
        found = _trading_details(_need(trading, endpoint), detail, [ids[i] for i in todo])
        for i in todo:
            result[i] = _combined(detail, page[i], found.get(ids[i]))
    else:
        rest_client: EbayRestClient = _need(rest, endpoint)
        assert detail.path is not None
        for i in todo:
            path = detail.path.format(id=quote(ids[i], safe=""))
            found = rest_client.get_json(api, path, list(detail.params) or None, detail.call)
            result[i] = _combined(detail, page[i], found)
    for i in todo:
        completed[ids[i]] = (page[i], result[i])
    return result


def _reusable(detail: DetailSpec, summary: dict[str, Any], stored: dict[str, Any]) -> bool:
    return all(stored.get(name) is not None for name in detail.reuse_requires) and summary_unchanged(summary, stored)


def _combined(detail: DetailSpec, summary: dict[str, Any], found: dict[str, Any] | None) -> dict[str, Any]:
    if found is None:
        return summary
    return merge_detail(summary, found) if detail.merge else found


def _trading_details(client: TradingClient, detail: DetailSpec, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Detail records by id, asking for at most ``detail.batch`` ids per call."""
    assert detail.ids_element is not None and detail.id_element is not None and detail.item_path is not None
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), detail.batch):
        request = new_request(detail.call)
        for name, value in detail.params:
            add(request, name, value)
        container = add(request, detail.ids_element)
        for wanted in ids[start : start + detail.batch]:
            add(container, detail.id_element, wanted)
        root = client.execute(detail.call, request)
        for item in to_dicts(findall(root, detail.item_path)):
            record_id = Record(item, call_name=detail.call, account_id=client.account_id).text(detail.id_field)
            if record_id:
                found[record_id] = item
    return found


def _ints(ids: Iterable[int | str]) -> set[int]:
    result = set()
    for value in ids:
        try:
            result.add(int(value))
        except (TypeError, ValueError):
            continue
    return result
