"""Seller payouts (Finances ``Payout``), made of the transactions whose funds reached PAYOUT.

The funds model (``funds``) pays out once a day, at the end of each UTC day, every transaction
available by then, and gives each of them the day's ``payoutId``. A payout here is exactly those
transactions, as the getTransactions answer renders them:

- ``amount`` is their signed sum: CREDIT adds to the seller's funds, DEBIT takes from them
  (README "Wire facts: Fee credits": booking direction is per transaction); fees, labels and
  refunds are deducted from the funds before payout ("How fees and selling costs are charged"), so
  a payout nets them; ``transactionCount`` is their number ("the number of monetary transactions
  (all orders, refunds, and credits, etc.)", Finances ``Payout.transactionCount``);
- ``payoutDate`` is when the payout began processing (``Payout.payoutDate``): the moment its
  transactions show PAYOUT and its id ("generated once eBay begins processing the payout");
- ``payoutStatus`` is INITIATED ("Preparing to send") until the funds clear 1 to 4 business days
  later ("How payouts work for managed payments sellers",
  https://www.ebay.co.uk/help/selling/getting-paid/payouts-work-managed-payments-sellers?id=4814), then
  SUCCEEDED ("Funds sent"); the descriptions are those ``Payout.payoutStatusDescription`` lists;
- ``payoutInstrument`` is the seller's bank account: ``BANK``, the seller's nickname for it and its
  last four digits (``PayoutInstrument``). Card payouts, express fees and failures are not simulated.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .funds import MAX_FUNDS_LAG_MS, funds_plan, payout_id
from .queries import TxnRef, World
from .util import MS_DAY, day_of, digest, iso_ms, money_str, uniforms

INITIATED = "INITIATED"
SUCCEEDED = "SUCCEEDED"
#: Finances PayoutStatusEnum.
PAYOUT_STATUSES = frozenset({INITIATED, SUCCEEDED, "RETRYABLE_FAILED", "TERMINAL_FAILED", "REVERSED"})
STATUS_DESCRIPTIONS = {INITIATED: "Preparing to send", SUCCEEDED: "Funds sent"}

#: Renders one located transaction as of ``now`` (``RestRenderer.transaction``).
RenderTransaction = Callable[[str, TxnRef, int], dict[str, Any]]


@dataclass(frozen=True)
class SimPayout:
    """One payout as of some now: its id, when it began, and the rendered transactions it pays out."""

    payout_id: str
    date: int
    transactions: tuple[dict[str, Any], ...]


def clear_ms(seed: int, account: str, date: int) -> int:
    """When the payout begun at ``date`` clears (1 to 4 days later)."""
    return date + MS_DAY + int(uniforms(seed, account, "payout", day_of(date))[0] * 3 * MS_DAY)


def payout_times(start: int, end: int) -> range:
    """The daily payout times (end of each UTC day) within ``[start, end]``."""
    first = -(-start // MS_DAY)
    return range(first * MS_DAY, end + 1, MS_DAY) if end >= first * MS_DAY else range(0)


class PayoutBook:
    """Finds the payouts of a window from the world's transactions, rendered as getTransactions sends them."""

    def __init__(self, world: World, render: RenderTransaction) -> None:
        self.world = world
        self.render = render
        self._cache: OrderedDict[tuple[str, int, int, int], list[SimPayout]] = OrderedDict()
        self._lock = threading.Lock()

    def payouts(self, account: str, start: int, end: int, now: int) -> list[SimPayout]:
        """Payouts begun within ``[start, end]`` by ``now``, oldest first."""
        key = (account, start, end, now)
        with self._lock:
            hit = self._cache.get(key)
        if hit is None:
            hit = self._payouts(account, start, end, now)
            with self._lock:
                self._cache[key] = hit
                while len(self._cache) > 32:
                    self._cache.popitem(last=False)
        return hit

    def _payouts(self, account: str, start: int, end: int, now: int) -> list[SimPayout]:
        gen = self.world.gen
        times = [t for t in payout_times(max(start, gen.hist_start), min(end, now))]
        if not times:
            return []
        wanted = set(times)
        grouped: dict[int, list[dict[str, Any]]] = {t: [] for t in times}
        for ref in self.world.transactions(account, times[0] - MAX_FUNDS_LAG_MS, times[-1], now):
            paid = funds_plan(gen.seed, account, ref.transaction_id, ref.transaction_type, ref.date).payout
            if paid in wanted:
                grouped[paid].append(self.render(account, ref, now))
        acode = gen.acode(account)
        return [SimPayout(payout_id(acode, t), t, tuple(txns)) for t, txns in grouped.items() if txns]


def net_amount(transactions: tuple[dict[str, Any], ...]) -> tuple[Decimal, str | None]:
    """The signed sum of the transactions' ``amount`` (CREDIT +, DEBIT -) and their currency."""
    total = Decimal("0")
    currency = None
    for txn in transactions:
        value = Decimal(txn["amount"]["value"])
        total += value if txn["bookingEntry"] == "CREDIT" else -value
        currency = currency or txn["amount"]["currency"]
    return total, currency


def payout_wire(seed: int, account: str, payout: SimPayout, now: int, currency: str) -> dict[str, Any]:
    """The Finances ``Payout`` of one simulated payout as of ``now``."""
    value, txn_currency = net_amount(payout.transactions)
    status = SUCCEEDED if now >= clear_ms(seed, account, payout.date) else INITIATED
    last_four = int.from_bytes(digest(seed, "bank", account)[:4], "big") % 10_000
    return {
        "payoutId": payout.payout_id,
        "payoutStatus": status,
        "payoutStatusDescription": STATUS_DESCRIPTIONS[status],
        "amount": {"value": money_str(value), "currency": txn_currency or currency},
        "payoutDate": iso_ms(payout.date),
        "transactionCount": len(payout.transactions),
        "payoutInstrument": {
            "instrumentType": "BANK",
            "nickname": "Business checking",
            "accountLastFourDigits": f"{last_four:04d}",
        },
    }
