"""Returns through the client and the row function, under both readings of ``return_state``.

Sources: CountSummaryType (no return_state answers ALL_OPEN returns only), ReturnCountFilterEnum
(``CLOSED``), README "Wire facts: `return/search` states" (``ALL_CLOSED``), RefundInfoType and
ActualRefundDetailType (``refundIssuedDate`` beside ``actualRefund``), TotalRefundAmountType.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import pytest

from ebay_pipelines.ebay import postorder

from .conftest import ACCOUNT, Wired, make_sim, window, wire


@pytest.fixture(params=["CLOSED", "ALL_CLOSED"])
def reading(request: pytest.FixtureRequest) -> Iterator[Wired]:
    """Clients against a simulator answering closed returns to one spelling (the other one is a 400)."""
    with make_sim(closed_return_state=request.param) as sim:
        wired = wire(sim)
        yield wired
        wired.rest.close()
        wired.trading.close()


def _all(pages) -> list[dict]:
    return [record for page in pages for record in page]


def _dec(value: object) -> Decimal:
    return Decimal(str(value))


def test_returns_in_every_state_arrive_under_either_spelling_of_closed(reading: Wired) -> None:
    """The open search (no return_state) and the closed one (CLOSED, else ALL_CLOSED after a 400) together
    bring every return: open, closed with a refund, closed without one."""
    since, until = window(90)
    returns = _all(postorder.iter_returns(reading.rest, since, until))
    truth = reading.sim.truth.returns(ACCOUNT, since, until)
    assert sorted(r["returnId"] for r in returns) == sorted(t["returnId"] for t in truth)
    states = {(r["state"] == "CLOSED", "actualRefundAmount" in r["sellerTotalRefund"]) for r in returns}
    assert {(False, False), (True, True), (True, False)} <= states
    refused = 1 if reading.sim.config.closed_return_state == "ALL_CLOSED" else 0
    # One search per state and page (200 per page), plus the refused spelling.
    assert reading.sim.calls[(ACCOUNT, "searchReturns")] >= 2 + refused


def test_a_refunded_return_is_dated_and_an_open_one_is_no_refund(reading: Wired) -> None:
    """A refunded return's row carries the actual refund and its refundIssuedDate (from getReturn's detail);
    an open return's row carries no refund amount or date, but its estimate and state."""
    since, until = window(90)
    returns = {r["returnId"]: r for r in _all(postorder.iter_returns(reading.rest, since, until))}
    summaries = reading.sim.truth.returns(ACCOUNT, since, until)
    details = reading.sim.truth.return_details(ACCOUNT, since, until)
    refunded = still_open = 0
    for summary, detail in zip(summaries, details, strict=True):
        row = postorder.return_refund_row(ACCOUNT, returns[summary["returnId"]])
        total = summary["sellerTotalRefund"]
        assert row["estimated_refund_value"] == _dec(total["estimatedRefundAmount"]["value"])
        assert row["return_state"] == summary["state"]
        if "actualRefundAmount" in total:
            refunded += 1
            issued = detail["detail"]["refundInfo"]["actualRefundDetail"]["refundIssuedDate"]["value"]
            assert row["refund_date"] == datetime.fromisoformat(issued.replace("Z", "+00:00"))
            assert row["refund_amount_value"] == _dec(total["actualRefundAmount"]["value"])
            assert row["refund_amount_currency"] == total["actualRefundAmount"]["currency"]
        else:
            still_open += summary["state"] != "CLOSED"
            assert row["refund_amount_value"] is None and row["refund_amount_currency"] is None
            assert row["refund_date"] is None
    assert refunded and still_open
    assert reading.sim.calls[(ACCOUNT, "getReturn")] == refunded, "a detail call per refunded return only"
