"""Post-Order returns, inquiries and cases through the real fetch and write path.

Simulator over HTTP -> Dagster materialization -> PostgreSQL. Sources: CountSummaryType and
ReturnCountFilterEnum (open and closed return searches), RefundInfoType / ActualRefundDetailType
(``refundIssuedDate`` beside ``actualRefund``), InquiryDetailsResponse / CaseDetailsResponse (no
``orderId``: the store links them through the line item), CaseSummaryType (no ``caseType``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, materialization_metadata, register_account, run_family_range

from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import days_window

ACCOUNT = "acct-1"
FIRST, LAST = date(2026, 10, 2), date(2026, 10, 31)


@pytest.fixture(params=["CLOSED", "ALL_CLOSED"])
def sim(request: pytest.FixtureRequest) -> Iterator:
    """The suite's simulator, answering closed returns to one spelling of ``return_state``, with enough
    returns (most close within days) that some are still open at its clock."""
    from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

    now = datetime.fromisoformat("2026-11-01T12:00:00+00:00")
    simulator = EbaySimulator(SimulatorConfig(seed=11, now=now, return_rate=0.3, closed_return_state=request.param))
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def setup(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    register_account(engine, sim, ACCOUNT, dagster_instance)
    return fast_definitions(ebay_env), dagster_instance


def _run(setup, family: str, first: date = FIRST, last: date = LAST):
    defs, instance = setup
    result = run_family_range(defs, instance, family, f"{ACCOUNT}|{first}", f"{ACCOUNT}|{last}")
    assert result.success, result.all_events
    return result


def _rows(engine: sa.Engine, sql: str) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {r[0]: r for r in conn.execute(sa.text(sql), {"a": ACCOUNT}).all()}


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_returns_in_every_state_land_with_refunds_where_ebay_puts_them(setup, sim, engine: sa.Engine) -> None:
    """Open, refunded and closed-unrefunded returns all land (both spellings of closed); a refunded one
    with its refundIssuedDate as refund_date, an open one with no refund, but its estimate and state."""
    sim.reset_calls()
    _run(setup, "refunds")
    w = days_window(FIRST, LAST, FAMILIES_BY_NAME["refunds"].overlap, sim.now)
    summaries = sim.truth.returns(ACCOUNT, w.start, w.end)
    details = sim.truth.return_details(ACCOUNT, w.start, w.end)
    rows = _rows(
        engine,
        "select return_id, refund_amount_value, refund_amount_currency, refund_date, estimated_refund_value, "
        "estimated_refund_currency, return_state from ebay_refunds "
        "where ebay_account_id = :a and refund_source = 'return'",
    )
    assert set(rows) == {s["returnId"] for s in summaries}
    kinds = set()
    for summary, detail in zip(summaries, details, strict=True):
        row, total = rows[summary["returnId"]], summary["sellerTotalRefund"]
        refunded = "actualRefundAmount" in total
        kinds.add((summary["state"] == "CLOSED", refunded))
        assert row.return_state == summary["state"]
        assert row.estimated_refund_value == Decimal(str(total["estimatedRefundAmount"]["value"]))
        assert row.estimated_refund_currency == total["estimatedRefundAmount"]["currency"]
        if refunded:
            issued = detail["detail"]["refundInfo"]["actualRefundDetail"]["refundIssuedDate"]["value"]
            assert row.refund_date == _ts(issued)
            assert row.refund_amount_value == Decimal(str(total["actualRefundAmount"]["value"]))
        else:
            assert row.refund_amount_value is None and row.refund_amount_currency is None and row.refund_date is None
    assert {(False, False), (True, True), (True, False)} <= kinds, "open, refunded and closed-unrefunded returns"
    refunded_count = sum("actualRefundAmount" in s["sellerTotalRefund"] for s in summaries)
    assert sim.calls[(ACCOUNT, "getReturn")] == refunded_count, "a detail call per refunded return only"


@pytest.mark.parametrize("sim", ["CLOSED"], indirect=True)
def test_inquiries_and_cases_link_to_their_order_through_the_line_item(setup, sim, engine: sa.Engine) -> None:
    """Inquiry and case details carry no orderId: an inquiry synced before its order waits with a NULL
    order_id and is linked when the order's line items arrive; a case synced after them is linked at once.
    Inquiries cost no detail call; cases one each, and none again once stored."""
    sim.reset_calls()
    _run(setup, "inquiries")
    assert sim.calls[(ACCOUNT, "getInquiry")] == 0, "InquirySummaryType holds every column"
    inquiries = _rows(engine, "select inquiry_id, order_id, item_id, transaction_id from ebay_inquiries")
    assert inquiries and all(r.order_id is None for r in inquiries.values()), "no order synced yet"

    # The orders (by last-modified date) of every line item the inquiries and cases name.
    _run(setup, "orders", FIRST - timedelta(days=30), date(2026, 11, 1))
    w = days_window(FIRST - timedelta(days=30), date(2026, 11, 1), FAMILIES_BY_NAME["orders"].overlap, sim.now)
    order_of = {
        (li["legacyItemId"], li["lineItemId"]): o["orderId"]
        for o in sim.truth.orders(ACCOUNT, w.start, w.end)
        for li in o["lineItems"]
    }
    linked = _rows(engine, "select inquiry_id, order_id, item_id, transaction_id from ebay_inquiries")
    assert linked.keys() == inquiries.keys()
    for row in linked.values():
        assert row.order_id == order_of.get((row.item_id, row.transaction_id))
    assert sum(r.order_id is not None for r in linked.values()) == len(linked), "every inquiry's order synced"

    sim.reset_calls()
    first = _run(setup, "cases")
    cases = _rows(engine, "select case_id, order_id, item_id, transaction_id, case_type from ebay_cases")
    assert cases and sim.calls[(ACCOUNT, "getCase")] == len(cases), "CaseSummaryType lacks caseType"
    for row in cases.values():
        assert row.case_type in ("ITEM_NOT_RECEIVED", "RETURN")
        assert row.order_id is not None and row.order_id == order_of.get((row.item_id, row.transaction_id))
    assert materialization_metadata(first)["ebay_cases"]["rows_inserted"] == len(cases)

    # Again: the stored cases are reused (caseType never changes) and their linked rows stay unchanged.
    sim.reset_calls()
    again = materialization_metadata(_run(setup, "cases"))["ebay_cases"]
    assert sim.calls[(ACCOUNT, "getCase")] == 0
    assert again["rows_updated"] == 0 and again["rows_unchanged"] == len(cases)
    assert _rows(engine, "select case_id, order_id, item_id, transaction_id, case_type from ebay_cases") == cases
