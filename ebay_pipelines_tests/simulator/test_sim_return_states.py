"""The simulator's return/search honours ``return_state`` as eBay documents it, under both spellings of closed.

Sources: CountSummaryType ("If no returnState query parameter is used, the default behavior is ...
to return only those return requests in the 'ALL_OPEN' state"), ReturnCountFilterEnum (``CLOSED``:
"retrieve all return requests that have been closed"), and README "Wire facts: `return/search`
states" (which spells it ``ALL_CLOSED``); a value the search does not know is a 400 ErrorResponse.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

from .conftest import NOW, Api, iso

SEARCH = "/post-order/v2/return/search"


@pytest.fixture(params=["CLOSED", "ALL_CLOSED"])
def closed_sim(request: pytest.FixtureRequest) -> Iterator[EbaySimulator]:
    with EbaySimulator(SimulatorConfig(seed=7, now=NOW, closed_return_state=request.param)) as s:
        yield s


def _search(api: Api, **params: str) -> tuple[int, dict]:
    window = {"creation_date_range_from": iso(NOW - timedelta(days=89)), "creation_date_range_to": iso(NOW)}
    resp = api.get(SEARCH, {**window, "limit": 200, **params}, scheme="IAF")
    return resp.status_code, resp.json()


def test_return_state_selects_open_or_closed_returns(closed_sim: EbaySimulator) -> None:
    """No return_state (or ALL_OPEN) answers open returns only, the configured closed value closed ones only,
    the other spelling and unknown values a 400; countSummary counts what was answered."""
    api = Api(closed_sim)
    closed_value = closed_sim.config.closed_return_state
    other = "ALL_CLOSED" if closed_value == "CLOSED" else "CLOSED"
    everything = closed_sim.truth.returns("acct-1", NOW - timedelta(days=89), NOW)

    status, default = _search(api)
    assert status == 200
    _, all_open = _search(api, return_state="ALL_OPEN")
    status, closed = _search(api, return_state=closed_value)
    assert status == 200
    open_ids = [r["returnId"] for r in default["members"]]
    closed_ids = [r["returnId"] for r in closed["members"]]
    assert open_ids and closed_ids and all_open["members"] == default["members"]
    assert all(r["state"] != "CLOSED" for r in default["members"])
    assert all(r["state"] == "CLOSED" for r in closed["members"])
    assert sorted(open_ids + closed_ids) == sorted(r["returnId"] for r in everything)
    assert default["countSummary"] == [{"type": "ALL_OPEN", "count": len(open_ids)}]
    assert closed["countSummary"] == [{"type": closed_value, "count": len(closed_ids)}]

    for refused in (other, "NO_SUCH_STATE"):
        status, body = _search(api, return_state=refused)
        assert status == 400 and body["errorMessage"]["error"][0]["httpStatusCode"] == 400


def test_get_return_answers_the_detail_container_with_the_refund_beside_actual_refund(
    closed_sim: EbaySimulator,
) -> None:
    """GetDetailResponse / GetReturnFieldGroupEnum: FULL (the default) answers ``detail``, SUMMARY ``summary``.
    RefundInfoType / ActualRefundDetailType: an open return carries estimatedRefundDetail only; a refunded
    one ``actualRefundDetail`` with ``refundIssuedDate`` beside ``actualRefund``, not inside it."""
    api = Api(closed_sim)
    _, closed = _search(api, return_state=closed_sim.config.closed_return_state)
    _, still_open = _search(api)
    refunded = [r for r in closed["members"] if "actualRefundAmount" in r["sellerTotalRefund"]]
    assert refunded and still_open["members"]
    for ret in refunded:
        body = api.get(f"/post-order/v2/return/{ret['returnId']}", scheme="IAF").json()
        actual = body["detail"]["refundInfo"]["actualRefundDetail"]
        assert actual["refundIssuedDate"]["value"] and "refundIssuedDate" not in actual["actualRefund"]
        assert actual["actualRefund"]["totalAmount"] == ret["sellerTotalRefund"]["actualRefundAmount"]
    for ret in still_open["members"]:
        body = api.get(f"/post-order/v2/return/{ret['returnId']}", {"fieldgroups": "FULL"}, scheme="IAF").json()
        assert set(body["detail"]["refundInfo"]) == {"estimatedRefundDetail"}
        summary = api.get(f"/post-order/v2/return/{ret['returnId']}", {"fieldgroups": "SUMMARY"}, scheme="IAF")
        assert summary.json() == {"summary": ret}
