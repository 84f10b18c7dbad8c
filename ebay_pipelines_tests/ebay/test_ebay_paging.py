"""The paging engine: windows, pagination kinds, and detail calls skipped for unchanged stored records.

Each walk runs over real HTTP against the simulator; call counts are the simulator's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ebay_pipelines.ebay import fulfillment, messages, paging, postorder, selling
from ebay_pipelines.ebay.endpoints import Pagination, Reach

from .conftest import ACCOUNT, NOW, Wired, window


def _all(pages) -> list[dict]:
    return [record for page in pages for record in page]


class Lookup:
    """A ``known`` lookup over ``stored`` that remembers which ids it was asked for."""

    def __init__(self, stored: dict[str, dict]) -> None:
        self.stored = stored
        self.asked: list[str] = []

    def __call__(self, ids: list[str]) -> dict[str, dict]:
        self.asked.extend(ids)
        return {i: self.stored[i] for i in ids if i in self.stored}


def test_windows_split_at_ebays_longest_window_without_overlap() -> None:
    since, until = NOW - timedelta(days=119), NOW
    found = paging.windows(fulfillment.DISPUTES, since, until)
    assert found == [
        (since, since + timedelta(days=90) - timedelta(milliseconds=1)),
        (since + timedelta(days=90), until),
    ]
    assert paging.windows(fulfillment.ORDERS, since, until) == [(since, until)]


def test_windows_start_no_earlier_than_ebay_allows(wired: Wired) -> None:
    assert fulfillment.DISPUTES.window is not None
    limited = replace(
        fulfillment.DISPUTES,
        window=replace(fulfillment.DISPUTES.window, oldest_start=Reach(days=30, margin=timedelta(0))),
    )
    assert paging.windows(limited, NOW - timedelta(days=100), NOW, now=NOW) == [(NOW - timedelta(days=30), NOW)]
    too_old = (NOW - timedelta(days=200), NOW - timedelta(days=100))
    assert paging.windows(limited, *too_old, now=NOW) == []
    assert list(paging.pages(limited, rest=wired.rest, since=too_old[0], until=too_old[1], now=NOW)) == []
    assert sum(wired.sim.calls.values()) == 0


def test_windows_are_required_exactly_where_the_endpoint_takes_one() -> None:
    with pytest.raises(ValueError, match="getOrders needs a window"):
        paging.windows(fulfillment.ORDERS, None, None)
    with pytest.raises(ValueError, match="GetMyeBaySelling takes no window"):
        paging.windows(selling.ACTIVE_LISTINGS, NOW - timedelta(days=1), NOW)


def test_a_missing_client_is_a_clear_error(wired: Wired) -> None:
    since, until = window(1)
    with pytest.raises(ValueError, match="GetMyMessages needs a Trading client"):
        list(paging.pages(messages.MESSAGES, rest=wired.rest, since=since, until=until))
    assert sum(wired.sim.calls.values()) == 0


def test_single_page_endpoint_makes_one_call(wired: Wired) -> None:
    since, until = window(30)
    single = replace(fulfillment.ORDERS, pagination=Pagination.SINGLE)
    pages = list(paging.pages(single, rest=wired.rest, since=since, until=until))
    truth = wired.sim.truth.orders(ACCOUNT, since, until)
    assert len(pages) == 1 and 0 < len(pages[0]) < len(truth)
    assert pages[0] == truth[: len(pages[0])]
    assert wired.sim.calls[(ACCOUNT, "getOrders")] == 1 == wired.rest.pages[(ACCOUNT, "getOrders")]


def test_disputes_unchanged_since_stored_cost_no_detail_call(wired: Wired) -> None:
    since, until = window(60)
    first = _all(fulfillment.iter_disputes(wired.rest, since, until))
    assert len(first) > 2
    stored = {d["paymentDisputeId"]: d for d in first}
    changed = first[0]["paymentDisputeId"]
    stored[changed] = {**stored[changed], "paymentDisputeStatus": "an older status"}
    lookup = Lookup(stored)
    wired.sim.reset_calls()
    again = _all(fulfillment.iter_disputes(wired.rest, since, until, known=lookup))
    assert again == first
    assert sorted(lookup.asked) == sorted(stored)
    assert wired.sim.calls[(ACCOUNT, "getPaymentDispute")] == 1
    assert wired.sim.calls[(ACCOUNT, "getPaymentDisputeSummaries")] == 1


def test_messages_reuse_stored_bodies_and_fetch_the_rest_ten_per_call(wired: Wired) -> None:
    since, until = window(3)
    first = _all(messages.iter_messages(wired.trading, since, until))
    assert 2 < len(first) < messages.MESSAGES.page_size
    stored = {m["MessageID"]: m for m in first}
    without_body, changed = first[0]["MessageID"], first[1]["MessageID"]
    stored[without_body] = {k: v for k, v in stored[without_body].items() if k != "Text"}
    stored[changed] = {**stored[changed], "Read": "an older flag"}
    wired.sim.reset_calls()
    again = _all(messages.iter_messages(wired.trading, since, until, known=Lookup(stored)))
    assert again == first
    # One header page, then one body call for the two messages the store could not give.
    assert wired.sim.calls[(ACCOUNT, "GetMyMessages")] == 2


def test_messages_whose_flags_moved_keep_their_stored_body_without_a_body_call(wired: Wired) -> None:
    """Read, Flagged and Replied change after ReceiveDate while a body never does (MyMessagesMessageType)."""
    since, until = window(3)
    first = _all(messages.iter_messages(wired.trading, since, until))
    stored = {m["MessageID"]: {**m, "Read": "an older flag", "Replied": "an older flag"} for m in first}
    wired.sim.reset_calls()
    again = _all(messages.iter_messages(wired.trading, since, until, known=Lookup(stored)))
    # The new header wins over the stored flags; the stored body stays; only the header page is asked for.
    assert again == first
    assert wired.sim.calls[(ACCOUNT, "GetMyMessages")] == 1


def test_inquiries_cost_no_detail_call(wired: Wired) -> None:
    """InquirySummaryType holds every column of ebay_inquiries and InquiryDetailsResponse adds no
    orderId (eBay's type pages): the search alone answers, with no getInquiry at all."""
    since, until = window(90)
    inquiries = _all(postorder.iter_inquiries(wired.rest, since, until))
    assert len(inquiries) > 3 and inquiries == wired.sim.truth.inquiries(ACCOUNT, since, until)
    assert wired.sim.calls[(ACCOUNT, "getInquiry")] == 0


def test_case_details_follow_the_detail_switch_and_the_store(wired: Wired) -> None:
    """CaseSummaryType lacks caseType, which only CaseDetailsResponse carries; the detail's status and
    state move with the case (CaseStatusEnum): one getCase per new case and per case whose summary
    changed, none for a stored case whose summary is unchanged."""
    since, until = window(90)
    first = _all(postorder.iter_cases(wired.rest, since, until))
    assert len(first) > 3 and wired.sim.calls[(ACCOUNT, "getCase")] == len(first)
    stored = {c["caseId"]: dict(c) for c in first}
    del stored[first[0]["caseId"]]
    stored[first[1]["caseId"]]["caseStatusEnum"] = "an older status"

    wired.sim.reset_calls()
    assert _all(postorder.iter_cases(wired.rest, since, until, known=Lookup(stored))) == first
    assert wired.sim.calls[(ACCOUNT, "getCase")] == 2

    wired.sim.reset_calls()
    lookup = Lookup(stored)
    summaries = _all(postorder.iter_cases(wired.rest, since, until, details=False, known=lookup))
    assert summaries == wired.sim.truth.cases(ACCOUNT, since, until)
    assert lookup.asked == [] and wired.sim.calls[(ACCOUNT, "getCase")] == 0


def test_forced_details_ask_for_every_return(wired: Wired) -> None:
    """getReturn answers GetDetailResponse {detail: ReturnDetailType} (GetReturnFieldGroupEnum FULL),
    laid over the ReturnSummaryType of each return, open and closed."""
    since, until = window(90)
    returns = _all(postorder.iter_returns(wired.rest, since, until, details=True))
    summaries = wired.sim.truth.returns(ACCOUNT, since, until)
    details = wired.sim.truth.return_details(ACCOUNT, since, until)
    want = {s["returnId"]: {**s, **d} for s, d in zip(summaries, details, strict=True)}
    assert len(returns) == len(want) and {r["returnId"]: r for r in returns} == want
    assert wired.sim.calls[(ACCOUNT, "getReturn")] == len(returns) > 0
