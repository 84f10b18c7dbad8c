"""When a finance transaction's funds move along eBay's payout path (its ``transactionStatus``).

The states are eBay's ``TransactionStatusEnum``
(https://developer.ebay.com/api-docs/sell/finances/types/pay:TransactionStatusEnum): FUNDS_PROCESSING
(being processed), FUNDS_ON_HOLD (being held), FUNDS_AVAILABLE_FOR_PAYOUT (available for a seller
payout), PAYOUT (paid out to the seller's account). COMPLETED and FAILED apply to TRANSFER
transactions only, which the simulator does not produce.

Timelines follow eBay's seller help:

- a sale's funds, minus fees, show as Processing once the payment is confirmed, appear as Available
  within about a business day unless held, and are paid out daily ("How payouts work for managed
  payments sellers", https://www.ebay.co.uk/help/selling/getting-paid/payouts-work-managed-payments-sellers?id=4814);
  here Processing lasts 1 to 3 days (a business day, longer over a weekend);
- a share of sales is held first ("Seller payment holds can occur for different reasons",
  ``SellerFundsSummaryResponse.fundsOnHold``); eBay holds new sellers' payments for up to 21 days
  (Trading ``PaymentHoldStatusCodeType``, NewSellerHold): here 10% are held 7 to 21 days;
- fees, shipping labels and refunds are deducted from the Available and Processing funds at the
  time they are incurred ("How fees and selling costs are charged",
  https://www.ebay.com/help/selling/fees-selling-costs-charged/fees-selling-costs-charged?id=5297),
  so a debit is available for payout from its date and is settled by the next payout;
- a payout transfers the balance at the end of the day for every transaction that has cleared
  (eBay's "Managed Payments APIs" deck, https://developer.ebay.com/cms/files/connect/managed-payments-apis.pdf):
  here one payout at the end of each UTC day takes everything available by then.

``payoutId`` "is generated once eBay begins processing the payout" and "will not be returned if eBay
has not yet begun processing the payout" (Finances contract, ``Transaction.payoutId``): the id of
the day's payout appears with PAYOUT. ``transactionDate`` never moves.
"""

from __future__ import annotations

from dataclasses import dataclass

from .util import MS_DAY, day_of, uniforms

FUNDS_PROCESSING = "FUNDS_PROCESSING"
FUNDS_ON_HOLD = "FUNDS_ON_HOLD"
FUNDS_AVAILABLE_FOR_PAYOUT = "FUNDS_AVAILABLE_FOR_PAYOUT"
PAYOUT = "PAYOUT"

TRANSACTION_STATUSES = frozenset(
    {FUNDS_ON_HOLD, FUNDS_PROCESSING, FUNDS_AVAILABLE_FOR_PAYOUT, PAYOUT, "COMPLETED", "FAILED"}
)
"""Every ``TransactionStatusEnum`` value (the ``transactionStatus`` filter accepts these)."""

HOLD_SHARE = 0.10
"""Share of sales whose funds are held before they become available."""

MAX_FUNDS_LAG_MS = 3 * MS_DAY + 21 * MS_DAY + MS_DAY
"""A transaction's status stops changing within this span after its transactionDate."""

CREDIT_TYPES = frozenset({"SALE"})
"""Transaction types whose funds go through processing (the simulator's only CREDIT bookings)."""


@dataclass(frozen=True, slots=True)
class FundsPlan:
    """Times at which one transaction's funds change state (epoch ms); ``hold`` is None when never held."""

    date: int
    hold: int | None
    available: int
    payout: int

    def status(self, now: int) -> str:
        """``transactionStatus`` as of ``now``; it only ever moves forwards."""
        if now >= self.payout:
            return PAYOUT
        if now >= self.available:
            return FUNDS_AVAILABLE_FOR_PAYOUT
        if self.hold is not None and now >= self.hold:
            return FUNDS_ON_HOLD
        return FUNDS_PROCESSING


def payout_id(acode: int, payout_ms: int) -> str:
    """``payoutId`` of the daily payout made at ``payout_ms`` (``acode``: the account's id code)."""
    return f"6{acode}{day_of(payout_ms):05d}"


def next_payout(ms: int) -> int:
    """The daily payout taking funds available at ``ms``: the end of that UTC day."""
    return (day_of(ms) + 1) * MS_DAY


def funds_plan(seed: int, account: str, transaction_id: str, transaction_type: str, date: int) -> FundsPlan:
    """The funds timeline of one transaction (a pure function of its identity and date)."""
    if transaction_type not in CREDIT_TYPES:
        return FundsPlan(date, None, date, next_payout(date))
    u = uniforms(seed, account, "funds", transaction_id)
    released = date + MS_DAY + int(u[0] * 2 * MS_DAY)
    hold = None
    if u[1] < HOLD_SHARE:
        hold = released
        released += 7 * MS_DAY + int(u[2] * 14 * MS_DAY)
    return FundsPlan(date, hold, released, next_payout(released))
