"""Ground truth: exactly the records a correct sync of a window holds, as of the simulated now.

Computed by the same queries and renderers that answer HTTP, so a sync can be compared with it.
REST and Post-Order records are wire dicts (as JSON-decoded); Trading records are dicts with
typed values (str ids, int counts, Decimal amounts, aware datetimes, bool flags).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from .util import to_ms

if TYPE_CHECKING:
    from .simulator import EbaySimulator


class Truth:
    """Answers "what should a sync contain" for one simulator."""

    def __init__(self, sim: EbaySimulator) -> None:
        self._sim = sim

    @property
    def _svc(self):
        return self._sim.services

    def _now(self) -> int:
        return self._sim.clock.now_ms()

    # ------------------------------------------------------------------ Fulfillment
    def orders(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Orders with lastModifiedDate in ``[since, until]``, as getOrders pages them."""
        now = self._now()
        rows = self._svc.world.orders_by_lmd(account, to_ms(since), to_ms(until), now)
        return [self._svc.rest.order(account, plan, now) for _, plan in rows]

    def orders_created(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Orders with creationDate in ``[since, until]`` (sorted by lastModifiedDate, then id)."""
        now = self._now()
        rows = self._svc.world.orders_by_creation(account, to_ms(since), to_ms(until), now)
        return [self._svc.rest.order(account, plan, now) for _, plan in rows]

    def order(self, account: str, order_id: str) -> dict | None:
        """One order as getOrder answers it, or None."""
        now = self._now()
        plan = self._svc.world.find_order(account, order_id, now)
        return self._svc.rest.order(account, plan, now) if plan is not None else None

    def disputes(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """PaymentDispute details with openDate in ``[since, until]``."""
        now = self._now()
        plans = self._svc.world.disputes(account, to_ms(since), to_ms(until), now)
        return [self._svc.rest.dispute(account, p, now) for p in plans]

    def dispute_summaries(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """PaymentDisputeSummary dicts with openDate in ``[since, until]``."""
        now = self._now()
        plans = self._svc.world.disputes(account, to_ms(since), to_ms(until), now)
        return [self._svc.rest.dispute_summary(account, p, now) for p in plans]

    # ------------------------------------------------------------------ Finances
    def finance_transactions(
        self, account: str, since: datetime, until: datetime, transaction_type: str | Iterable[str] | None = None
    ) -> list[dict]:
        """Transactions with transactionDate in ``[since, until]`` (optionally of some types).

        ``transactionStatus`` and ``payoutId`` are those at the simulator's clock (see ``funds``).
        """
        types = None
        if transaction_type is not None:
            types = frozenset([transaction_type] if isinstance(transaction_type, str) else transaction_type)
        now = self._now()
        refs = self._svc.world.transactions(account, to_ms(since), to_ms(until), now, types)
        return [self._svc.rest.transaction(account, r, now) for r in refs]

    def payouts(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Payouts with payoutDate in ``[since, until]``, oldest first, with status as of the simulator's clock."""
        now = self._now()
        return self._svc.rest.payouts(account, to_ms(since), to_ms(until), now)

    # ------------------------------------------------------------------ Post-Order
    def inquiries(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Inquiry summaries created in ``[since, until]``."""
        now = self._now()
        return [
            self._svc.postorder.inquiry_summary(account, p, now)
            for p in self._svc.world.inquiries(account, to_ms(since), to_ms(until), now)
        ]

    def inquiry_details(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Inquiry details created in ``[since, until]``."""
        now = self._now()
        return [
            self._svc.postorder.inquiry(account, p, now)
            for p in self._svc.world.inquiries(account, to_ms(since), to_ms(until), now)
        ]

    def cases(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Case summaries created in ``[since, until]``."""
        now = self._now()
        return [
            self._svc.postorder.case_summary(account, p, now)
            for p in self._svc.world.cases(account, to_ms(since), to_ms(until), now)
        ]

    def case_details(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Case details created in ``[since, until]``."""
        now = self._now()
        return [
            self._svc.postorder.case(account, p, now)
            for p in self._svc.world.cases(account, to_ms(since), to_ms(until), now)
        ]

    def returns(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Return summaries created in ``[since, until]``."""
        now = self._now()
        return [
            self._svc.postorder.return_summary(account, p, now)
            for p in self._svc.world.returns(account, to_ms(since), to_ms(until), now)
        ]

    def return_details(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """getReturn answers (``{"detail": ReturnDetailType}``) of the returns created in ``[since, until]``."""
        now = self._now()
        return [
            self._svc.postorder.get_return(account, p, now)
            for p in self._svc.world.returns(account, to_ms(since), to_ms(until), now)
        ]

    # ------------------------------------------------------------------ Inventory
    def inventory_items(self, account: str) -> list[dict]:
        """Every inventory item, in getInventoryItems order."""
        return [self._svc.rest.inventory_item(account, i) for i in self._svc.world.sku_indexes(account)]

    def offers(self, account: str) -> list[dict]:
        """Every offer of every SKU, in SKU order."""
        return [o for i in self._svc.world.sku_indexes(account) for o in self._svc.rest.offers(account, i)]

    # ------------------------------------------------------------------ Trading
    def active_listings(self, account: str) -> list[dict]:
        """Active listings as of now: ItemID, SKU, Title, ListingType, ListingDuration, Quantity,
        QuantityAvailable, QuantitySold, CurrentPrice, Currency, BuyItNowPrice, StartPrice, StartTime,
        EndTime, ViewItemURL, TimeLeft, WatchCount, GalleryURL."""
        now = self._now()
        gen, tr = self._svc.world.gen, self._svc.trading
        return [
            tr.listing_dict(account, gen.listing(account, k), now) for k in self._svc.world.listing_indexes(account)
        ]

    def messages(self, account: str, since: datetime, until: datetime) -> list[dict]:
        """Messages of every folder (Inbox 0, Sent 1) with ReceiveDate in ``[since, until)``: Sender,
        RecipientUserID, SendToName, Subject, MessageID, ExternalMessageID, Text, Flagged, Read, ReceiveDate, ExpirationDate, ItemID, FolderID,
        MessageType, ListingStatus, QuestionType, Replied, HighPriority, ItemEndTime, ItemTitle.
        Read, Flagged and Replied are those at the simulator's clock."""
        now = self._now()
        tr = self._svc.trading
        return [
            tr.message_dict(account, m, now) for m in self._svc.world.messages(account, to_ms(since), to_ms(until), now)
        ]

    def purchases(self, account: str, duration_days: int = 60) -> list[dict]:
        """WonList purchases of the last ``duration_days``: OrderLineItemID, ItemID, TransactionID, OrderID,
        Title, SellerUserID, QuantityPurchased, TransactionPrice, Currency, TotalPrice, CreatedDate,
        PaidTime, ShippedTime, LastTimeModified, CheckoutStatus, CompleteStatus, OrderStatus, ViewItemURL."""
        now = self._now()
        tr = self._svc.trading
        return [tr.purchase_dict(account, p, now) for p in self._svc.world.purchases(account, now, duration_days)]
