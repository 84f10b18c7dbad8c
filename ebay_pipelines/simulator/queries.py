"""Window queries over the generated data, shared by the HTTP endpoints and ``truth``.

Each query scans only the creation days that can hold a matching record (records change at most
``MAX_EVENT_LAG_MS`` after their order's creation) plus the orders touched by recorded
modifications, and returns records in the order the API pages them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .config import SimulatorConfig
from .generator import MAX_EVENT_LAG_MS, MAX_MESSAGE_FLAG_LAG_MS, Generator, MessagePlan, OrderPlan, PurchasePlan
from .util import MS_DAY, day_of, rng, stochastic_round, uniforms


@dataclass(frozen=True)
class Mutation:
    """A recorded modification: a hashed fraction of the account's orders changed at ``at``."""

    index: int
    account: str
    at: int
    fraction: float


@dataclass(frozen=True)
class TxnRef:
    """A finance transaction located by the query (rendered later)."""

    date: int
    transaction_id: str
    transaction_type: str
    plan: OrderPlan | None = None
    day: int = 0
    k: int = 0
    n: int = 0
    fee_type: str = ""
    amount: Decimal = Decimal("0")
    memo: str = ""
    booking: str = "DEBIT"


TRANSACTION_TYPES = frozenset(
    {
        "SALE",
        "REFUND",
        "CREDIT",
        "DISPUTE",
        "SHIPPING_LABEL",
        "TRANSFER",
        "NON_SALE_CHARGE",
        "ADJUSTMENT",
        "WITHDRAWAL",
        "LOAN_REPAYMENT",
        "PURCHASE",
    }
)


#: Per listing call: the kind of record whose date moves, and its id prefix (None: the id as it is).
_LEAVING: dict[str, tuple[str, str | None]] = {
    "getTransactions": ("txn", None),
    "getPaymentDisputeSummaries": ("disp", "6"),
    "searchInquiries": ("inq", "1"),
    "searchCases": ("case", "2"),
    "searchReturns": ("ret", "3"),
    "GetMyMessages": ("msg", None),
}


class _LRU:
    def __init__(self, size: int) -> None:
        self._data: OrderedDict[object, object] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: object) -> object | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            return None

    def put(self, key: object, value: object) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class World:
    """The generator plus the recorded modifications, answering window queries as of a given now."""

    def __init__(self, cfg: SimulatorConfig, anchor_ms: int) -> None:
        self.cfg = cfg
        self.gen = Generator(cfg, anchor_ms)
        self._lock = threading.Lock()
        self._mutations: list[Mutation] = []
        self._samples: dict[tuple[int, int], frozenset[int]] = {}
        self._results = _LRU(64)
        # Churn between pages (see ``churn``): touched orders, records that left their window,
        # ended listings, deleted and created SKUs; ``_churns`` counts changes for the query cache.
        self._touched: dict[str, dict[tuple[int, int], int]] = {}
        self._left: dict[tuple[str, str], dict[object, int]] = {}
        self._ended: dict[str, set[int]] = {}
        self._deleted_skus: dict[str, set[int]] = {}
        self._created_skus: dict[str, int] = {}
        self._churns = 0

    # ------------------------------------------------------------------ modifications
    def add_mutation(self, account: str, fraction: float, at: int) -> Mutation:
        """Record that about ``fraction`` of the account's orders existing at ``at`` change then."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be within [0, 1]")
        with self._lock:
            m = Mutation(len(self._mutations), account, at, fraction)
            self._mutations.append(m)
        return m

    def mutations(self, account: str, now: int) -> list[Mutation]:
        """Modifications of ``account`` that happened at or before ``now``."""
        with self._lock:
            return [m for m in self._mutations if m.account == account and m.at <= now]

    def _version(self) -> int:
        with self._lock:
            return len(self._mutations) + self._churns

    # ------------------------------------------------------------------ churn between pages
    def touch_order(self, account: str, order_id: str, at: int) -> bool:
        """Modify one order at ``at``: its lastModifiedDate becomes ``at`` (False: no such order)."""
        parsed = self.gen.parse_order_id(account, order_id)
        if parsed is None:
            return False
        with self._lock:
            self._touched.setdefault(account, {})[parsed] = at
            self._churns += 1
        return True

    def leave(self, endpoint: str, account: str, key: str, at: int) -> bool:
        """Move the date-filter field of one record listed by ``endpoint`` to ``at`` (False: unknown id)."""
        kind, prefix = _LEAVING[endpoint]
        record: object | None = key
        if prefix is not None:
            record = self.gen.parse_prefixed_id(account, prefix, key)
        if record is None:
            return False
        with self._lock:
            self._left.setdefault((kind, account), {})[record] = at
            self._churns += 1
        return True

    def _gone(self, kind: str, account: str, record: object, end: int) -> bool:
        """True when ``record`` left windows ending at ``end`` (its date moved past it)."""
        at = self._left.get((kind, account), {}).get(record)
        return at is not None and at > end

    def end_listing(self, account: str, item_id: str) -> bool:
        """End one active listing (False: not an active listing of ``account``)."""
        prefix = self.gen.item_id(account, 0)[:-10]
        if not (item_id.isdigit() and item_id.startswith(prefix) and len(item_id) == len(prefix) + 10):
            return False
        k = int(item_id[-10:])
        if k >= self.cfg.active_listings:
            return False
        with self._lock:
            self._ended.setdefault(account, set()).add(k)
            self._churns += 1
        return True

    def listing_indexes(self, account: str) -> Sequence[int]:
        """Indexes of the account's active listings, in ActiveList order."""
        ended = self._ended.get(account)
        if not ended:
            return range(self.cfg.active_listings)
        return [k for k in range(self.cfg.active_listings) if k not in ended]

    def create_skus(self, account: str, count: int) -> None:
        """Create ``count`` new inventory items after every existing one."""
        with self._lock:
            self._created_skus[account] = self._created_skus.get(account, 0) + count
            self._churns += 1

    def delete_sku(self, account: str, sku: str) -> bool:
        """Delete one inventory item (False: no such SKU)."""
        index = self.sku_index(account, sku)
        if index is None:
            return False
        with self._lock:
            self._deleted_skus.setdefault(account, set()).add(index)
            self._churns += 1
        return True

    def sku_indexes(self, account: str) -> Sequence[int]:
        """Indexes of the account's inventory items, in getInventoryItems order."""
        count = self.cfg.inventory_skus + self._created_skus.get(account, 0)
        deleted = self._deleted_skus.get(account)
        if not deleted:
            return range(count)
        return [i for i in range(count) if i not in deleted]

    def sku_index(self, account: str, sku: str) -> int | None:
        """Index of an existing inventory SKU of ``account`` (created ones included, deleted ones not)."""
        head, _, tail = sku.partition("-")
        if head != f"SK{self.gen.acode(account)}" or len(tail) != 6 or not tail.isdigit():
            return None
        i = int(tail)
        if i >= self.cfg.inventory_skus + self._created_skus.get(account, 0):
            return None
        return None if i in self._deleted_skus.get(account, set()) else i

    def sample(self, m: Mutation, day: int) -> frozenset[int]:
        """Indexes of the orders of ``day`` that modification ``m`` selects."""
        key = (m.index, day)
        hit = self._samples.get(key)
        if hit is not None:
            return hit
        n = self.gen.order_count(m.account, day)
        k = min(n, stochastic_round(m.fraction * n, uniforms(self.cfg.seed, m.account, "mutn", m.index, day)[0]))
        chosen = frozenset(rng(self.cfg.seed, m.account, "mut", m.index, day).sample(range(n), k)) if k else frozenset()
        with self._lock:
            self._samples[key] = chosen
        return chosen

    def applied(self, account: str, plan: OrderPlan, muts: list[Mutation]) -> list[Mutation]:
        """Those of ``muts`` (already limited to <= now) that changed ``plan``."""
        return [m for m in muts if m.at >= plan.created and plan.idx in self.sample(m, plan.day)]

    def lmd(self, account: str, plan: OrderPlan, now: int, muts: list[Mutation]) -> int:
        """lastModifiedDate of an order as of ``now``."""
        best = plan.natural_lmd(now)
        touched = self._touched.get(account, {}).get((plan.day, plan.idx))
        if touched is not None and best < touched <= now:
            best = touched
        for m in muts:
            if m.at > best and m.at >= plan.created and plan.idx in self.sample(m, plan.day):
                best = m.at
        return best

    # ------------------------------------------------------------------ scanning
    def _exists(self, plan: OrderPlan, now: int) -> bool:
        return self.gen.hist_start <= plan.created <= now

    def _scan(self, account: str, start: int, end: int, now: int):
        """Yield existing order plans created on days overlapping ``[start - lag, min(end, now)]``."""
        first = max(self.gen.hist_day, day_of(start - MAX_EVENT_LAG_MS))
        last = day_of(min(end, now))
        for day in range(first, last + 1):
            for plan in self.gen.day_plans(account, day):
                if plan.created > now:
                    break
                if plan.created >= self.gen.hist_start:
                    yield plan

    def _cached(self, key: tuple, compute):
        full = key + (self._version(),)
        hit = self._results.get(full)
        if hit is None:
            hit = compute()
            self._results.put(full, hit)
        return hit

    # ------------------------------------------------------------------ orders
    def orders_by_lmd(self, account: str, start: int, end: int, now: int) -> list[tuple[int, OrderPlan]]:
        """Orders whose lastModifiedDate (as of now) is within ``[start, end]``, as ``(lmd, plan)``."""
        return self._cached(("lmd", account, start, end, now), lambda: self._orders_by_lmd(account, start, end, now))

    def _orders_by_lmd(self, account: str, start: int, end: int, now: int) -> list[tuple[int, OrderPlan]]:
        end = min(end, now)
        muts = self.mutations(account, now)
        out: dict[tuple[int, int], tuple[int, OrderPlan]] = {}
        if start <= end:
            for plan in self._scan(account, start, end, now):
                lmd = self.lmd(account, plan, now, muts)
                if start <= lmd <= end:
                    out[(plan.day, plan.idx)] = (lmd, plan)
            scan_first = max(self.gen.hist_day, day_of(start - MAX_EVENT_LAG_MS))
            for m in muts:
                if not start <= m.at <= end:
                    continue
                for day in range(self.gen.hist_day, min(scan_first, day_of(m.at) + 1)):
                    n = self.gen.order_count(account, day)
                    for idx in sorted(self.sample(m, day)):
                        if (day, idx) in out:
                            continue
                        plan = self.gen.plan(account, day, idx, n)
                        if not self._exists(plan, now) or plan.created > m.at:
                            continue
                        lmd = self.lmd(account, plan, now, muts)
                        if start <= lmd <= end:
                            out[(day, idx)] = (lmd, plan)
            for (day, idx), at in self._touched.get(account, {}).items():
                if (day, idx) in out or not start <= at <= end or day < self.gen.hist_day:
                    continue
                n = self.gen.order_count(account, day)
                if idx >= n:
                    continue
                plan = self.gen.plan(account, day, idx, n)
                lmd = self.lmd(account, plan, now, muts)
                if self._exists(plan, now) and start <= lmd <= end:
                    out[(day, idx)] = (lmd, plan)
        return sorted(out.values(), key=lambda x: (x[0], x[1].day, x[1].idx))

    def orders_by_creation(self, account: str, start: int, end: int, now: int) -> list[tuple[int, OrderPlan]]:
        """Orders created within ``[start, end]`` (as of now), sorted by lastModifiedDate then id."""
        return self._cached(
            ("created", account, start, end, now), lambda: self._orders_by_creation(account, start, end, now)
        )

    def _orders_by_creation(self, account: str, start: int, end: int, now: int) -> list[tuple[int, OrderPlan]]:
        end = min(end, now)
        muts = self.mutations(account, now)
        out = []
        for day in range(max(self.gen.hist_day, day_of(start)), day_of(end) + 1 if start <= end else 0):
            for plan in self.gen.day_plans(account, day):
                if plan.created > end:
                    break
                if plan.created >= start and self._exists(plan, now):
                    out.append((self.lmd(account, plan, now, muts), plan))
        out.sort(key=lambda x: (x[0], x[1].day, x[1].idx))
        return out

    def find_order(self, account: str, order_id: str, now: int) -> OrderPlan | None:
        """The order with ``order_id`` if it exists as of ``now``."""
        parsed = self.gen.parse_order_id(account, order_id)
        if parsed is None:
            return None
        day, idx = parsed
        n = self.gen.order_count(account, day)
        if idx >= n:
            return None
        plan = self.gen.plan(account, day, idx, n)
        return plan if self._exists(plan, now) else None

    def find_by_prefixed_id(self, account: str, prefix: str, value: str, now: int) -> OrderPlan | None:
        """The order behind a dispute/inquiry/case/return id (its existence is checked by the caller)."""
        parsed = self.gen.parse_prefixed_id(account, prefix, value)
        if parsed is None:
            return None
        day, idx = parsed
        n = self.gen.order_count(account, day)
        if idx >= n:
            return None
        plan = self.gen.plan(account, day, idx, n)
        return plan if self._exists(plan, now) else None

    # ------------------------------------------------------------------ finances
    def transactions(
        self, account: str, start: int, end: int, now: int, types: frozenset[str] | None = None
    ) -> list[TxnRef]:
        """Finance transactions dated within ``[start, end]`` (as of now), sorted by date then id."""
        return self._cached(
            ("txn", account, start, end, now, types), lambda: self._transactions(account, start, end, now, types)
        )

    def _transactions(self, account: str, start: int, end: int, now: int, types: frozenset[str] | None) -> list[TxnRef]:
        end = min(end, now)
        out: list[TxnRef] = []
        if start > end:
            return out
        gen = self.gen

        def want(t: str) -> bool:
            return types is None or t in types

        for plan in self._scan(account, start, end, now):
            if plan.paid is not None and start <= plan.paid <= end and want("SALE"):
                out.append(TxnRef(plan.paid, gen.order_id(account, plan.day, plan.idx), "SALE", plan))
            if plan.refund_at is not None and start <= plan.refund_at <= end and want("REFUND"):
                out.append(TxnRef(plan.refund_at, gen.refund_id(account, plan.day, plan.idx), "REFUND", plan))
            if (
                plan.label
                and plan.ship_start is not None
                and start <= plan.ship_start <= end
                and want("SHIPPING_LABEL")
            ):
                out.append(
                    TxnRef(plan.ship_start, gen.label_txn_id(account, plan.day, plan.idx), "SHIPPING_LABEL", plan)
                )
        if want("NON_SALE_CHARGE"):
            for day in range(max(gen.hist_day, day_of(start)), day_of(end) + 1):
                n = gen.non_sale_count(account, day)
                for k in range(n):
                    date, fee_type, amount, memo, booking = gen.non_sale(account, day, k, n)
                    if start <= date <= end and gen.hist_start <= date:
                        out.append(
                            TxnRef(
                                date,
                                gen.charge_txn_id(account, day, k),
                                "NON_SALE_CHARGE",
                                None,
                                day,
                                k,
                                n,
                                fee_type,
                                amount,
                                memo,
                                booking,
                            )
                        )
        out = [t for t in out if not self._gone("txn", account, t.transaction_id, end)]
        out.sort(key=lambda t: (t.date, t.transaction_id))
        return out

    # ------------------------------------------------------------------ problems
    def _by_event(self, kind: str, account: str, start: int, end: int, now: int, attr: str) -> list[OrderPlan]:
        def compute() -> list[OrderPlan]:
            stop = min(end, now)
            hits = [
                p
                for p in self._scan(account, start, stop, now)
                if getattr(p, attr) is not None
                and start <= getattr(p, attr) <= stop
                and not self._gone(kind, account, (p.day, p.idx), stop)
            ]
            hits.sort(key=lambda p: (getattr(p, attr), p.day, p.idx))
            return hits

        return self._cached((kind, account, start, end, now), compute)

    def disputes(self, account: str, start: int, end: int, now: int) -> list[OrderPlan]:
        """Orders with a payment dispute opened within ``[start, end]``, by open date."""
        return self._by_event("disp", account, start, end, now, "disp_at")

    def inquiries(self, account: str, start: int, end: int, now: int) -> list[OrderPlan]:
        """Orders with an inquiry created within ``[start, end]``, by creation date."""
        return self._by_event("inq", account, start, end, now, "inq_at")

    def cases(self, account: str, start: int, end: int, now: int) -> list[OrderPlan]:
        """Orders with a case created within ``[start, end]``, by creation date."""
        return self._by_event("case", account, start, end, now, "case_at")

    def returns(self, account: str, start: int, end: int, now: int) -> list[OrderPlan]:
        """Orders with a return created within ``[start, end]``, by creation date."""
        return self._by_event("ret", account, start, end, now, "ret_at")

    # ------------------------------------------------------------------ trading
    def messages(self, account: str, start: int, end: int, now: int, folder_id: int | None = None) -> list[MessagePlan]:
        """Messages received (or, in Sent, sent) within ``[start, end)`` and not after now, by ReceiveDate then id.

        ``folder_id`` 0 is the Inbox, 1 the Sent folder; None is every folder (GetMyMessagesRequestType).
        """
        out: list[MessagePlan] = []
        stop = min(end, now + 1)
        if start >= stop:
            return out
        # A reply is sent at most MAX_MESSAGE_FLAG_LAG_MS after the message it answers.
        first = day_of(start - (0 if folder_id == 0 else MAX_MESSAGE_FLAG_LAG_MS))
        for day in range(max(self.gen.hist_day, first), day_of(stop - 1) + 1):
            n = self.gen.message_count(account, day)
            for j in range(n):
                found: list[MessagePlan | None] = []
                if folder_id in (None, 0):
                    found.append(self.gen.message(account, day, j, n))
                if folder_id in (None, 1):
                    found.append(self.gen.sent_message(account, day, j, n))
                for msg in found:
                    if (
                        msg is not None
                        and start <= msg.receive < stop
                        and msg.receive >= self.gen.hist_start
                        and not self._gone("msg", account, msg.message_id, stop - 1)
                    ):
                        out.append(msg)
        out.sort(key=lambda m: (m.receive, m.message_id))
        return out

    def find_message(self, account: str, message_id: str, now: int) -> MessagePlan | None:
        """The message (of any folder) with ``message_id`` if it has been received or sent by ``now``."""
        parsed = self.gen.parse_message_id(account, message_id)
        if parsed is None:
            return None
        day, j, folder_id = parsed
        n = self.gen.message_count(account, day)
        if j >= n:
            return None
        msg = self.gen.message(account, day, j, n) if folder_id == 0 else self.gen.sent_message(account, day, j, n)
        return msg if msg is not None and self.gen.hist_start <= msg.receive <= now else None

    def purchases(self, account: str, now: int, duration_days: int = 60) -> list[PurchasePlan]:
        """Purchases created within the last ``duration_days`` before now, oldest first."""
        start = max(self.gen.hist_start, now - duration_days * MS_DAY)
        out = []
        for day in range(day_of(start), day_of(now) + 1):
            for k in range(self.gen.purchase_count(account, day)):
                p = self.gen.purchase(account, day, k)
                if start <= p.created <= now:
                    out.append(p)
        out.sort(key=lambda p: (p.created, p.transaction_id))
        return out
