"""Simulated getPayouts: the Finances contract's shape, filters, paging and errors, and payouts that add up.

Sources: Finances contract ``GET /payout`` (getPayouts parameters and errors, ``Payouts``, ``Payout``,
``PayoutInstrument``, PayoutStatusEnum), Finances ``Transaction.payoutId`` and ``bookingEntry``,
README "Wire facts: Fee credits" (booking direction is per transaction), eBay help "How payouts work
for managed payments sellers" (funds clear 1-4 business days after the payout is initiated).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from .conftest import NOW, Api, iso

PAYOUT = "/sell/finances/v1/payout"
WINDOW = f"payoutDate:[{iso(NOW - timedelta(days=10))}..{iso(NOW)}]"


def _error_id(resp) -> int:
    return resp.json()["errors"][0]["errorId"]


def test_payouts_conform_and_are_the_signed_sum_of_their_transactions(api: Api, finances_spec) -> None:
    """Payout.amount and transactionCount against the transactions carrying its payoutId (CREDIT +, DEBIT -)."""
    page = api.get(PAYOUT, {"filter": WINDOW, "sort": "payoutDate", "limit": 3}).json()
    finances_spec.check("Payouts", page)
    payouts = api.get_all(PAYOUT, {"filter": WINDOW, "sort": "payoutDate", "limit": 200}, "payouts")
    assert len(payouts) == 10  # one a day, at the end of each UTC day
    txns = api.get_all(
        "/sell/finances/v1/transaction",
        {"filter": f"transactionDate:[{iso(NOW - timedelta(days=40))}..{iso(NOW)}]", "limit": 1000},
        "transactions",
    )
    for payout in payouts:
        finances_spec.check("Payout", payout)
        mine = [t for t in txns if t.get("payoutId") == payout["payoutId"]]
        net = sum(Decimal(t["amount"]["value"]) * (1 if t["bookingEntry"] == "CREDIT" else -1) for t in mine)
        assert Decimal(payout["amount"]["value"]) == net and payout["transactionCount"] == len(mine)
        assert {t["transactionStatus"] for t in mine} == {"PAYOUT"}
        assert {t["amount"]["currency"] for t in mine} == {payout["amount"]["currency"]}
        instrument = payout["payoutInstrument"]
        assert instrument["instrumentType"] == "BANK" and len(instrument["accountLastFourDigits"]) == 4
    # eBay nets charges against payouts: debits are paid out with the day's credits.
    paid = {p["payoutId"] for p in payouts}
    assert any(t["bookingEntry"] == "DEBIT" and t.get("payoutId") in paid for t in txns)


def test_payout_status_moves_from_initiated_to_succeeded(api: Api) -> None:
    """PayoutStatusEnum and Payout.payoutStatusDescription: INITIATED 'Preparing to send' until the funds
    clear 1-4 days later, then SUCCEEDED 'Funds sent'."""
    payouts = api.get_all(PAYOUT, {"filter": WINDOW, "sort": "payoutDate", "limit": 200}, "payouts")
    newest, oldest = payouts[-1], payouts[0]
    assert (newest["payoutStatus"], newest["payoutStatusDescription"]) == ("INITIATED", "Preparing to send")
    assert (oldest["payoutStatus"], oldest["payoutStatusDescription"]) == ("SUCCEEDED", "Funds sent")
    succeeded = api.get(PAYOUT, {"filter": [WINDOW, "payoutStatus:{SUCCEEDED}"], "limit": 200}).json()["payouts"]
    initiated = api.get(PAYOUT, {"filter": f"{WINDOW},payoutStatus:{{INITIATED}}", "limit": 200}).json()["payouts"]
    assert len(succeeded) + len(initiated) == len(payouts) and initiated and succeeded
    assert {p["payoutStatus"] for p in succeeded} == {"SUCCEEDED"}


def test_payouts_page_newest_first_unless_sorted(api: Api) -> None:
    """getPayouts ``sort``: descending payout date by default, ascending with ``sort=payoutDate``; limit/offset."""
    default = api.get_all(PAYOUT, {"filter": WINDOW, "limit": 4}, "payouts")
    ascending = api.get_all(PAYOUT, {"filter": WINDOW, "limit": 4, "sort": "payoutDate"}, "payouts")
    dates = [p["payoutDate"] for p in ascending]
    assert dates == sorted(dates) and [p["payoutId"] for p in default] == [p["payoutId"] for p in reversed(ascending)]
    second = api.get(PAYOUT, {"filter": WINDOW, "limit": 4, "offset": 4, "sort": "payoutDate"}).json()
    assert second["offset"] == 4 and second["total"] == len(ascending) and second["payouts"] == ascending[4:8]


def test_payouts_errors_and_empty_answers(api: Api) -> None:
    """getPayouts errors 135002-135005, 135013, 135014 (Finances contract); no payouts: 204 No Content."""
    old = NOW - timedelta(days=6 * 365)
    cases = [
        ({"limit": 201}, 135003),
        ({"offset": -1}, 135003),
        ({"sort": "payoutStatus"}, 135005),
        ({"filter": "payoutStatus:{DONE}"}, 135002),
        ({"filter": "payoutStatus:{INITIATED|SUCCEEDED}"}, 135002),
        ({"filter": "payoutDate:[yesterday..today]"}, 135004),
        ({"filter": f"payoutDate:[{iso(old)}..{iso(old + timedelta(days=30))}]"}, 135013),
        ({"filter": f"payoutDate:[{iso(NOW - timedelta(days=1200))}..{iso(NOW)}]"}, 135014),
    ]
    for params, error_id in cases:
        resp = api.get(PAYOUT, params)
        assert resp.status_code == 400 and _error_id(resp) == error_id, params
    empty = api.get(PAYOUT, {"filter": f"payoutDate:[{iso(NOW - timedelta(hours=11))}..{iso(NOW)}]"})
    assert empty.status_code == 204
