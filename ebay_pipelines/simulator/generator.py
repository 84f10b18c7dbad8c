"""Deterministic data of the simulated eBay.

Every record is a pure function of ``(seed, account, ...)``: orders of ``(day, index)``,
catalogue entries of their index, messages of ``(day, index)``. Nothing is stored as a whole;
callers cache what they need. Times are epoch milliseconds (UTC).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from .config import SimulatorConfig
from .util import (
    MS_DAY,
    MS_HOUR,
    MS_MINUTE,
    day_of,
    digest,
    money,
    rng,
    stochastic_round,
    uniforms,
)

MAX_EVENT_LAG_MS = 7 * MS_DAY
"""Every order event (and every record derived from an order) happens within this span after creation."""

MESSAGE_READ_SHARE = 0.9
MESSAGE_REPLY_SHARE = 0.4 / MESSAGE_READ_SHARE
MESSAGE_FLAG_SHARE = 0.1
MAX_MESSAGE_FLAG_LAG_MS = 2 * MS_DAY + 5 * MS_MINUTE
"""A message's Read, Flagged and Replied stop changing within this span after its ReceiveDate."""

FVF_RATE = Decimal("0.1325")
FIXED_FEE = Decimal("0.30")
ZERO = Decimal("0.00")

FIRST_NAMES = (
    "Alex",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Harper",
    "Rowan",
    "Emerson",
    "Dakota",
    "Skyler",
    "Parker",
    "Reese",
    "Logan",
    "Sam",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Lee",
    "Garcia",
    "Brown",
    "Miller",
    "Davis",
    "Wilson",
    "Moore",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
)
CITIES = (
    ("Austin", "TX", "78701", "0.0825"),
    ("Denver", "CO", "80202", "0.0881"),
    ("Portland", "OR", "97201", "0"),
    ("Chicago", "IL", "60601", "0.1025"),
    ("Seattle", "WA", "98101", "0.1025"),
    ("Miami", "FL", "33101", "0.07"),
    ("Boston", "MA", "02108", "0.0625"),
    ("Phoenix", "AZ", "85001", "0.086"),
    ("Columbus", "OH", "43004", "0.075"),
    ("Wilmington", "DE", "19801", "0"),
    ("Atlanta", "GA", "30301", "0.089"),
    ("Nashville", "TN", "37201", "0.0925"),
)
FOREIGN = (("London", "", "SW1A 1AA", "GB"), ("Toronto", "ON", "M5H 2N2", "CA"), ("Berlin", "", "10115", "DE"))
#: Tax eBay collects and remits on an import to each foreign buyer's country (Fulfillment
#: EbayCollectAndRemitTax: VAT for the UK and EU, GST for Canada), and the rate.
FOREIGN_TAX = {"GB": ("VAT", "0.20"), "CA": ("GST", "0.05"), "DE": ("VAT", "0.19")}
#: Tax eBay collects and remits on a US buyer's order (Fulfillment TaxTypeEnum STATE_SALES_TAX).
US_TAX_TYPE = "STATE_SALES_TAX"
#: A foreign buyer pays in their own currency: how many units of it one unit of the seller's currency buys.
BUYER_CURRENCY = {"GB": ("GBP", Decimal("0.79")), "CA": ("CAD", Decimal("1.37")), "DE": ("EUR", Decimal("0.92"))}
#: Share of NON_SALE_CHARGE transactions that are fee reversals credited back to the seller.
FEE_CREDIT_SHARE = 0.15
STREETS = ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Lake Rd", "Hill Ct")
BRANDS = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Aperture",
    "Wonka",
    "Gringotts",
)
NOUNS = (
    "Headphones",
    "Desk Lamp",
    "Backpack",
    "Water Bottle",
    "Keyboard",
    "Camera Strap",
    "Phone Case",
    "Watch Band",
    "Coffee Grinder",
    "Knife Set",
    "Yoga Mat",
    "Bike Light",
    "Tool Kit",
    "Board Game",
    "Sneakers",
    "Jacket",
    "Lego Set",
    "Vinyl Record",
)
ADJECTIVES = (
    "Vintage",
    "Wireless",
    "Compact",
    "Deluxe",
    "Classic",
    "Pro",
    "Ultra",
    "Rugged",
    "Premium",
    "Portable",
    "Limited Edition",
    "Eco",
)
COLORS = ("Black", "White", "Red", "Blue", "Green", "Silver", "Gray", "Navy")
CONDITIONS = (("NEW", 0.7), ("USED_EXCELLENT", 0.85), ("USED_VERY_GOOD", 0.93), ("LIKE_NEW", 1.0))
SHIPPING_COSTS = ("3.99", "4.99", "5.99", "7.49", "8.99", "12.99")
CARRIERS = (("USPS", "USPSPriority"), ("UPS", "UPSGround"), ("FEDEX", "FedExHomeDelivery"))


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """Timeline of one order: creation, payment, shipping and the problems derived from it."""

    day: int
    idx: int
    created: int
    n_lines: int
    paid: int | None
    ship_start: int | None
    fulfilled: int | None
    cancel_at: int | None
    ret_at: int | None
    refund_at: int | None
    ret_line: int
    inq_at: int | None
    case_at: int | None
    case_type: str | None
    disp_at: int | None
    disp_close: int | None
    label: bool
    u_extra: float
    events: tuple[int, ...]

    def natural_lmd(self, now: int) -> int:
        """Latest natural event at or before ``now`` (the creation time at least)."""
        best = self.created
        for e in self.events:
            if best < e <= now:
                best = e
        return best


@dataclass(frozen=True, slots=True)
class Buyer:
    """A buyer: username, name, and the ship-to address."""

    username: str
    full_name: str
    email: str
    phone: str
    street: str
    city: str
    state: str
    postal: str
    country: str
    tax_rate: Decimal
    tax_type: str


@dataclass(frozen=True, slots=True)
class LineDetail:
    """Amounts and identities of one order line item."""

    j: int
    line_item_id: str
    listing: int
    item_id: str
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    cost: Decimal
    shipping: Decimal
    discount: Decimal
    promotion_id: str | None
    tax: Decimal
    total: Decimal
    fvf: Decimal
    fixed_fee: Decimal

    @property
    def fees(self) -> Decimal:
        """Sum of this line's marketplace fees."""
        return self.fvf + self.fixed_fee


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """Static content of one order (independent of the clock)."""

    order_id: str
    buyer: Buyer
    lines: tuple[LineDetail, ...]
    subtotal: Decimal
    delivery: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    fees: Decimal
    sales_record: int
    carrier: tuple[str, str]
    payment_ref: str
    refund_id: str
    refund_amount: Decimal
    dispute_reason: str
    return_reason: str


@dataclass(frozen=True, slots=True)
class Product:
    """One inventory item (SKU) of the seller's catalogue."""

    index: int
    sku: str
    title: str
    brand: str
    color: str
    mpn: str
    price: Decimal
    quantity: int
    condition: str
    image_count: int
    offers: int
    category_id: str


@dataclass(frozen=True, slots=True)
class Listing:
    """One active listing (Trading Item)."""

    index: int
    item_id: str
    product: Product
    listing_type: str
    quantity_sold: int
    quantity: int
    start: int
    watch_count: int


@dataclass(frozen=True, slots=True)
class MessagePlan:
    """One message in the seller's inbox (``folder_id`` 0) or Sent folder (1, the seller's reply).

    ``read_at``, ``flagged_at`` and ``replied_at`` are when the seller reads, flags and answers it
    (None: never); ``ReceiveDate`` (``receive``) never moves. ``recipient`` is the RecipientUserID
    (None: the seller).
    """

    day: int
    j: int
    message_id: str
    external_id: str
    receive: int
    sender: str
    subject: str
    text: str
    item_id: str
    item_title: str
    item_end: int
    message_type: str
    question_type: str
    read_at: int | None
    flagged_at: int | None
    replied_at: int | None
    high_priority: bool
    folder_id: int = 0
    recipient: str | None = None

    def is_read(self, now: int) -> bool:
        """``Read`` as of ``now``."""
        return self.read_at is not None and self.read_at <= now

    def is_flagged(self, now: int) -> bool:
        """``Flagged`` as of ``now``."""
        return self.flagged_at is not None and self.flagged_at <= now

    def is_replied(self, now: int) -> bool:
        """``Replied`` as of ``now``."""
        return self.replied_at is not None and self.replied_at <= now


@dataclass(frozen=True, slots=True)
class PurchasePlan:
    """One item the account bought (GetMyeBayBuying WonList)."""

    day: int
    k: int
    transaction_id: str
    item_id: str
    order_id: str
    title: str
    seller: str
    quantity: int
    price: Decimal
    created: int
    paid: int
    shipped: int


def pick(seq, u: float):
    """The element of ``seq`` selected by uniform ``u``."""
    return seq[int(u * len(seq))]


def randint(low: int, high: int, u: float) -> int:
    """An integer in ``[low, high]`` selected by uniform ``u``."""
    return low + int(u * (high - low + 1))


_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class _WeightedLRU(Generic[_K, _V]):
    """A thread-safe LRU bounded by the summed weight of its values."""

    def __init__(self, capacity: int) -> None:
        self._data: OrderedDict[_K, tuple[int, _V]] = OrderedDict()
        self._weight = 0
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key: _K, value: _V, weight: int) -> None:
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._weight -= old[0]
            self._data[key] = (weight, value)
            self._weight += weight
            while self._weight > self._capacity and len(self._data) > 1:
                _, (w, _) = self._data.popitem(last=False)
                self._weight -= w


def _shift(ms: float) -> int:
    return int(ms)


class Generator:
    """Computes every simulated record from the seed, the account and an index."""

    def __init__(self, cfg: SimulatorConfig, anchor_ms: int) -> None:
        self.cfg = cfg
        self.seed = cfg.seed
        self.hist_start = anchor_ms - cfg.history_days * MS_DAY
        self.hist_day = day_of(self.hist_start)
        self._plans: _WeightedLRU[tuple[str, int], tuple[OrderPlan, ...]] = _WeightedLRU(cfg.plan_cache_orders)
        self._details: _WeightedLRU[tuple[str, int, int], OrderDetail] = _WeightedLRU(20_000)
        self._products: _WeightedLRU[tuple[str, int], Product] = _WeightedLRU(65_536)
        self._acodes: dict[str, int] = {}
        total_case = cfg.case_rate
        self._escalate_p = min(1.0, 0.75 * total_case / cfg.inquiry_rate) if cfg.inquiry_rate > 0 else 0.0
        self._ret_case_band = 0.25 * total_case if cfg.inquiry_rate > 0 else total_case

    # ------------------------------------------------------------------ identities
    def acode(self, account: str) -> int:
        """Two-digit code of ``account`` used inside its ids (10..99)."""
        code = self._acodes.get(account)
        if code is None:
            code = 10 + int.from_bytes(digest(self.seed, "acct", account)[:4], "big") % 90
            self._acodes[account] = code
        return code

    def seller_id(self, account: str) -> str:
        """The seller's eBay user id for ``account``."""
        slug = "".join(ch for ch in account.lower() if ch.isalnum()) or "acct"
        return f"{slug}_store"

    def order_id(self, account: str, day: int, idx: int) -> str:
        """eBay-style order id ``NN-DDDDD-IIIII``."""
        return f"{self.acode(account)}-{day:05d}-{idx:05d}"

    def parse_order_id(self, account: str, order_id: str) -> tuple[int, int] | None:
        """Return ``(day, idx)`` of an order id of ``account`` or None."""
        parts = order_id.split("-")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        if int(parts[0]) != self.acode(account) or len(parts[1]) != 5 or len(parts[2]) != 5:
            return None
        return int(parts[1]), int(parts[2])

    def line_item_id(self, account: str, day: int, idx: int, j: int) -> str:
        """Fulfillment lineItemId, equal to the legacy Trading TransactionID."""
        return f"{self.acode(account)}{day:05d}{idx:05d}{j}"

    def refund_id(self, account: str, day: int, idx: int) -> str:
        """Id of the refund of an order (also the REFUND finance transactionId)."""
        return f"5{self.acode(account)}{day:05d}{idx:05d}"

    def label_txn_id(self, account: str, day: int, idx: int) -> str:
        """transactionId of the SHIPPING_LABEL finance transaction of an order."""
        return f"7{self.acode(account)}{day:05d}{idx:05d}"

    def charge_txn_id(self, account: str, day: int, k: int) -> str:
        """transactionId of the k-th NON_SALE_CHARGE finance transaction of a day."""
        return f"8{self.acode(account)}{day:05d}{k:05d}"

    def dispute_id(self, account: str, day: int, idx: int) -> str:
        """paymentDisputeId of an order's dispute."""
        return f"6{self.acode(account)}{day:05d}{idx:05d}"

    def inquiry_id(self, account: str, day: int, idx: int) -> str:
        """Post-Order inquiryId of an order's inquiry."""
        return f"1{self.acode(account)}{day:05d}{idx:05d}"

    def case_id(self, account: str, day: int, idx: int) -> str:
        """Post-Order caseId of an order's case."""
        return f"2{self.acode(account)}{day:05d}{idx:05d}"

    def return_id(self, account: str, day: int, idx: int) -> str:
        """Post-Order returnId of an order's return."""
        return f"3{self.acode(account)}{day:05d}{idx:05d}"

    def parse_prefixed_id(self, account: str, prefix: str, value: str) -> tuple[int, int] | None:
        """Parse ids built as ``prefix + acode + day(5) + idx(5)`` back to ``(day, idx)``."""
        if not value.isdigit() or len(value) != len(prefix) + 12 or not value.startswith(prefix):
            return None
        body = value[len(prefix) :]
        if int(body[:2]) != self.acode(account):
            return None
        return int(body[2:7]), int(body[7:12])

    def sku(self, account: str, i: int) -> str:
        """SKU of inventory item ``i``."""
        return f"SK{self.acode(account)}-{i:06d}"

    def parse_sku(self, account: str, sku: str) -> int | None:
        """Index of an inventory SKU of ``account`` or None."""
        head, _, tail = sku.partition("-")
        if head != f"SK{self.acode(account)}" or len(tail) != 6 or not tail.isdigit():
            return None
        i = int(tail)
        return i if i < self.cfg.inventory_skus else None

    def item_id(self, account: str, k: int) -> str:
        """ItemID (legacy listing id) of active listing ``k``."""
        return f"{self.acode(account)}{k:010d}"

    def offer_id(self, account: str, i: int, j: int) -> str:
        """offerId of the j-th offer of SKU ``i``."""
        return f"{self.acode(account)}{i:07d}{j}"

    # ------------------------------------------------------------------ orders
    def order_count(self, account: str, day: int) -> int:
        """Number of orders created on ``day`` (0 before the history starts)."""
        if day < self.hist_day or self.cfg.orders_per_day == 0:
            return 0
        u = uniforms(self.seed, account, "n", day)
        return stochastic_round(self.cfg.orders_per_day * (0.85 + 0.3 * u[0]), u[1])

    def plan(self, account: str, day: int, idx: int, n: int | None = None) -> OrderPlan:
        """Timeline of order ``idx`` of ``day`` (``n`` = that day's order count if known)."""
        if n is None:
            n = self.order_count(account, day)
        u = uniforms(self.seed, account, "o", day, idx)
        cfg = self.cfg
        created = day * MS_DAY + int((idx + u[0]) * MS_DAY / n)
        n_lines = 1 + (u[1] < 0.22) + (u[1] < 0.06)
        paid = ship = fulfilled = cancel = ret_at = refund_at = inq_at = case_at = None
        disp_at = disp_close = None
        case_type = None
        label = False
        if u[2] < 0.02:
            cancel = created + 2 * MS_DAY + int(u[3] * MS_DAY)
        else:
            paid = created + MS_MINUTE + int(u[3] * 30 * MS_MINUTE)
            ship = paid + 2 * MS_HOUR + int(u[4] * 46 * MS_HOUR)
            fulfilled = ship if n_lines == 1 else ship + MS_HOUR + int(u[5] * 29 * MS_HOUR)
            band = u[6]
            if band < cfg.return_rate:
                ret_at = fulfilled + 6 * MS_HOUR + int(u[7] * 36 * MS_HOUR)
                refund_at = ret_at + 6 * MS_HOUR + int(u[8] * 30 * MS_HOUR)
            elif band < cfg.return_rate + cfg.inquiry_rate:
                inq_at = paid + 3 * MS_DAY + int(u[7] * 1.5 * MS_DAY)
                if u[8] < self._escalate_p:
                    case_at = inq_at + MS_DAY + int(u[9] * MS_DAY)
                    case_type = "ITEM_NOT_RECEIVED"
            elif band < cfg.return_rate + cfg.inquiry_rate + self._ret_case_band:
                ret_at = fulfilled + 6 * MS_HOUR + int(u[7] * 36 * MS_HOUR)
                case_at = ret_at + 12 * MS_HOUR + int(u[9] * 24 * MS_HOUR)
                case_type = "RETURN"
            if u[10] < cfg.dispute_rate:
                disp_at = paid + MS_DAY + int(u[11] * 4 * MS_DAY)
                if u[15] < 0.85:
                    disp_close = disp_at + 2 * MS_DAY + int(u[14] * 5 * MS_DAY)
                else:
                    # The seller never answers: eBay decides after respondByDate (7 days) and closes it
                    # (Fulfillment "Handling payment disputes": no response by respondByDate, buyer wins).
                    disp_close = disp_at + 7 * MS_DAY + int(u[14] * 3 * MS_DAY)
            label = u[13] < 0.35
        events = tuple(sorted(e for e in (paid, ship, fulfilled, cancel, refund_at) if e is not None))
        return OrderPlan(
            day,
            idx,
            created,
            n_lines,
            paid,
            ship,
            fulfilled,
            cancel,
            ret_at,
            refund_at,
            min(int(u[12] * n_lines), n_lines - 1),
            inq_at,
            case_at,
            case_type,
            disp_at,
            disp_close,
            label,
            u[14],
            events,
        )

    def day_plans(self, account: str, day: int) -> tuple[OrderPlan, ...]:
        """All order plans of ``day`` in creation order (cached in a bounded LRU)."""
        key = (account, day)
        hit = self._plans.get(key)
        if hit is not None:
            return hit
        n = self.order_count(account, day)
        plans = tuple(self.plan(account, day, i, n) for i in range(n))
        self._plans.put(key, plans, max(1, n))
        return plans

    def buyer(self, account: str, key: object) -> Buyer:
        """A deterministic buyer for ``key`` (an order or a day/index pair)."""
        u = uniforms(self.seed, account, "buyer", key)
        first, last = pick(FIRST_NAMES, u[0]), pick(LAST_NAMES, u[1])
        username = f"{first.lower()}_{last.lower()}{randint(10, 9999, u[2])}"
        street = f"{randint(1, 9999, u[3])} {pick(STREETS, u[4])}"
        if u[5] < 0.05:
            city, state, postal, country = pick(FOREIGN, u[6])
            tax_type, rate_s = FOREIGN_TAX[country]
        else:
            city, state, postal, rate_s = pick(CITIES, u[6])
            country, tax_type = "US", US_TAX_TYPE
        rate = Decimal(rate_s)
        return Buyer(
            username,
            f"{first} {last}",
            f"{username}@example.com",
            f"555{randint(1000000, 9999999, u[7])}",
            street,
            city,
            state,
            postal,
            country,
            rate,
            tax_type,
        )

    def order_detail(self, account: str, day: int, idx: int, plan: OrderPlan | None = None) -> OrderDetail:
        """Content and amounts of one order (cached)."""
        key = (account, day, idx)
        hit = self._details.get(key)
        if hit is not None:
            return hit
        if plan is None:
            plan = self.plan(account, day, idx)
        head = uniforms(self.seed, account, "od", day, idx)
        buyer = self.buyer(account, (day, idx))
        n_listings = max(1, self.cfg.active_listings)
        picks: list[int] = []
        lines = []
        for j in range(plan.n_lines):
            u = uniforms(self.seed, account, "ol", day, idx, j)
            k = int(u[0] * n_listings)
            while k in picks and n_listings > plan.n_lines:
                k = (k + 1) % n_listings
            picks.append(k)
            product = self.product(account, k % max(1, self.cfg.inventory_skus))
            qty = 1 if u[1] < 0.8 else (2 if u[2] < 0.75 else 3)
            cost = product.price * qty
            shipping = ZERO if u[3] < 0.45 else Decimal(pick(SHIPPING_COSTS, u[4]))
            discount, promo = ZERO, None
            if u[5] < 0.1:
                discount = money(cost * Decimal(randint(5, 15, u[6])) / 100)
                promo = str(randint(10**9, 10**10 - 1, u[7]))
            tax = money((cost - discount + shipping) * buyer.tax_rate)
            total = cost + shipping + tax - discount
            fvf = money(total * FVF_RATE)
            lines.append(
                LineDetail(
                    j,
                    self.line_item_id(account, day, idx, j),
                    k,
                    self.item_id(account, k),
                    product.sku,
                    product.title,
                    qty,
                    product.price,
                    cost,
                    shipping,
                    discount,
                    promo,
                    tax,
                    total,
                    fvf,
                    FIXED_FEE if j == 0 else ZERO,
                )
            )
        subtotal = sum((ln.cost for ln in lines), ZERO)
        delivery = sum((ln.shipping for ln in lines), ZERO)
        discount = sum((ln.discount for ln in lines), ZERO)
        tax = sum((ln.tax for ln in lines), ZERO)
        total = subtotal + delivery + tax - discount
        fees = sum((ln.fees for ln in lines), ZERO)
        refund_amount = lines[plan.ret_line].total if plan.refund_at is not None else ZERO
        detail = OrderDetail(
            order_id=self.order_id(account, day, idx),
            buyer=buyer,
            lines=tuple(lines),
            subtotal=subtotal,
            delivery=delivery,
            discount=discount,
            tax=tax,
            total=total,
            fees=fees,
            sales_record=1000 + (day - self.hist_day) * 100_000 + idx if day >= self.hist_day else 1000 + idx,
            carrier=pick(CARRIERS, head[0]),
            payment_ref=str(randint(10**15, 10**16 - 1, head[1])),
            refund_id=self.refund_id(account, day, idx),
            refund_amount=refund_amount,
            dispute_reason=pick(
                ("ITEM_NOT_RECEIVED", "SIGNIFICANTLY_NOT_AS_DESCRIBED", "UNAUTHORIZED_PAYMENT"), head[2]
            ),
            return_reason=pick(
                ("NOT_AS_DESCRIBED", "DEFECTIVE_ITEM", "ORDERED_WRONG_ITEM", "NO_LONGER_NEED_ITEM"), head[3]
            ),
        )
        self._details.put(key, detail, 1)
        return detail

    # ------------------------------------------------------------------ catalogue
    def product(self, account: str, i: int) -> Product:
        """Inventory item ``i`` (computed from its index, cached in a bounded LRU)."""
        key = (account, i)
        hit = self._products.get(key)
        if hit is None:
            hit = self._make_product(account, i)
            self._products.put(key, hit, 1)
        return hit

    def _make_product(self, account: str, i: int) -> Product:
        u = uniforms(self.seed, account, "sku", i)
        brand, noun, adj, color = pick(BRANDS, u[0]), pick(NOUNS, u[1]), pick(ADJECTIVES, u[2]), pick(COLORS, u[3])
        model = f"{pick('ABCDEFGHJKLMNPRSTUVWXYZ', u[4])}{randint(100, 9999, u[5])}"
        title = f"{brand} {adj} {noun} {color} {model}"[:80]
        condition = next(c for c, p in CONDITIONS if u[6] < p)
        return Product(
            index=i,
            sku=self.sku(account, i),
            title=title,
            brand=brand,
            color=color,
            mpn=f"{brand[:3].upper()}-{model}",
            price=Decimal(randint(499, 29999, u[7])) / 100,
            quantity=randint(0, 60, u[8]) if u[9] < 0.9 else 0,
            condition=condition,
            image_count=randint(1, 4, u[10]),
            offers=1 + (u[11] < 0.4),
            category_id=str(randint(100, 180000, u[12])),
        )

    def listing(self, account: str, k: int) -> Listing:
        """Active listing ``k`` (computed from its index)."""
        u = uniforms(self.seed, account, "listing", k)
        product = self.product(account, k % max(1, self.cfg.inventory_skus))
        sold = randint(0, 40, u[0])
        available = max(1, product.quantity)
        return Listing(
            index=k,
            item_id=self.item_id(account, k),
            product=product,
            listing_type="FixedPriceItem",
            quantity_sold=sold,
            quantity=available + sold,
            start=self.hist_start - int(u[1] * 60 * MS_DAY),
            watch_count=randint(0, 25, u[2]),
        )

    # ------------------------------------------------------------------ messages
    def message_count(self, account: str, day: int) -> int:
        """Number of messages received on ``day``."""
        if day < self.hist_day or self.cfg.messages_per_day <= 0:
            return 0
        u = uniforms(self.seed, account, "mn", day)
        return stochastic_round(self.cfg.messages_per_day * (0.5 + u[0]), u[1])

    def message_id(self, account: str, day: int, j: int) -> str:
        """MessageID of message ``j`` of ``day``."""
        return f"{self.acode(account)}{day:05d}{j:05d}"

    def sent_message_id(self, account: str, day: int, j: int) -> str:
        """MessageID of the seller's reply to message ``j`` of ``day`` (its id and a trailing 1)."""
        return f"{self.message_id(account, day, j)}1"

    def parse_message_id(self, account: str, value: str) -> tuple[int, int, int] | None:
        """``(day, j, folder_id)`` of a MessageID of ``account`` (folder 1: the reply to ``(day, j)``) or None."""
        if not value.isdigit() or len(value) not in (12, 13) or int(value[:2]) != self.acode(account):
            return None
        if len(value) == 13 and value[12] != "1":
            return None
        return int(value[2:7]), int(value[7:12]), 0 if len(value) == 12 else 1

    def message(self, account: str, day: int, j: int, n: int | None = None) -> MessagePlan:
        """Message ``j`` received on ``day``."""
        if n is None:
            n = self.message_count(account, day)
        r = rng(self.seed, account, "msg", day, j)
        receive = day * MS_DAY + int((j + r.random()) * MS_DAY / n)
        buyer = self.buyer(account, ("msg", day, j))
        k = r.randrange(max(1, self.cfg.active_listings))
        listing = self.listing(account, k)
        qtype = r.choice(("General", "Shipping", "Payment", "CustomizedSubject"))
        mtype = r.choice(("AskSellerQuestion", "AskSellerQuestion", "ContactTransactionPartner"))
        subject = {
            "General": f"Question about {listing.product.title}",
            "Shipping": f"When will my {listing.product.brand} item ship?",
            "Payment": "Question about payment",
            "CustomizedSubject": f"Re: {listing.product.title}",
        }[qtype]
        text = (
            f"Hi, this is {buyer.full_name}. "
            f"{r.choice(('Is this still available?', 'Can you combine shipping?', 'What is the exact size?', 'Do you ship to Canada?', 'Could you send more photos?'))} "
            f"Thanks! <b>&</b> regards"
        )
        item_end = receive + int(r.random() * 30 * MS_DAY)
        u_read, u_flag, u_reply = r.random(), r.random(), r.random()
        high_priority = r.random() < 0.05
        read_at, flagged_at, replied_at = self._message_flags(account, day, j, receive, u_read, u_flag, u_reply)
        return MessagePlan(
            day=day,
            j=j,
            message_id=self.message_id(account, day, j),
            external_id=f"9{self.acode(account)}{day:05d}{j:05d}",
            receive=receive,
            sender=buyer.username,
            subject=subject,
            text=text,
            item_id=listing.item_id,
            item_title=listing.product.title,
            item_end=item_end,
            message_type=mtype,
            question_type=qtype,
            read_at=read_at,
            flagged_at=flagged_at,
            replied_at=replied_at,
            high_priority=high_priority,
        )

    def sent_message(self, account: str, day: int, j: int, n: int | None = None) -> MessagePlan | None:
        """The seller's reply to message ``j`` of ``day``, in the Sent folder (None: never answered).

        GetMyMessagesRequestType: without a FolderID every folder comes back, Sent (FolderID 1)
        included; a sent message's Sender is the seller and its RecipientUserID the buyer. It is
        sent when the received message becomes ``Replied``, and its flags never change.
        """
        received = self.message(account, day, j, n)
        if received.replied_at is None:
            return None
        r = rng(self.seed, account, "msgsent", day, j)
        reply = r.choice(
            (
                "Yes, it is still available.",
                "I can combine shipping, please add both items to your cart.",
                "It ships within one business day.",
                "I have added more photos to the listing.",
            )
        )
        subject = received.subject if received.subject.startswith("Re: ") else f"Re: {received.subject}"
        mtype = "ResponseToASQQuestion" if received.message_type == "AskSellerQuestion" else received.message_type
        return MessagePlan(
            day=day,
            j=j,
            message_id=self.sent_message_id(account, day, j),
            external_id=f"8{self.acode(account)}{day:05d}{j:05d}",
            receive=received.replied_at,
            sender=self.seller_id(account),
            subject=subject,
            text=f"Hello {received.sender}, {reply} Best regards",
            item_id=received.item_id,
            item_title=received.item_title,
            item_end=received.item_end,
            message_type=mtype,
            question_type=received.question_type,
            read_at=received.replied_at,
            flagged_at=None,
            replied_at=None,
            high_priority=False,
            folder_id=1,
            recipient=received.sender,
        )

    def _message_flags(
        self, account: str, day: int, j: int, receive: int, u_read: float, u_flag: float, u_reply: float
    ) -> tuple[int | None, int | None, int | None]:
        """``(read_at, flagged_at, replied_at)`` of a message (None: never).

        The seller changes a message's read and flagged states after it arrives (Trading
        ``ReviseMyMessages``) and answers it (``MyMessagesMessageType.Replied``); retrieving a
        message with the API does not mark it read (``MyMessagesMessageType.Read``), so nothing
        here depends on calls. Most messages are read within minutes to a day, 40% are answered
        within about two days, always after being read, and 10% are flagged within two days.
        """
        u = uniforms(self.seed, account, "msgflags", day, j)
        read_at: int | None = None
        flagged_at: int | None = None
        replied_at: int | None = None
        if u_read < MESSAGE_READ_SHARE:
            read_at = receive + 2 * MS_MINUTE + int(u[0] * u[0] * (MS_DAY - 2 * MS_MINUTE))
            if u_reply < MESSAGE_REPLY_SHARE:
                replied_at = read_at + 5 * MS_MINUTE + int(u[1] * MS_DAY)
        if u_flag < MESSAGE_FLAG_SHARE:
            flagged_at = receive + MS_MINUTE + int(u[2] * 2 * MS_DAY)
        return read_at, flagged_at, replied_at

    # ------------------------------------------------------------------ purchases
    def purchase_count(self, account: str, day: int) -> int:
        """Number of purchases the account made on ``day``."""
        if day < self.hist_day or self.cfg.purchases <= 0:
            return 0
        u = uniforms(self.seed, account, "pn", day)
        return stochastic_round(self.cfg.purchases / 60.0, u[0])

    def purchase(self, account: str, day: int, k: int) -> PurchasePlan:
        """Purchase ``k`` made on ``day``."""
        r = rng(self.seed, account, "buy", day, k)
        created = day * MS_DAY + int(r.random() * MS_DAY)
        paid = created + 5 * MS_MINUTE + int(r.random() * 2 * MS_HOUR)
        item_id = f"2{r.randint(10**10, 10**11 - 1)}"
        txn = f"9{self.acode(account)}{day:05d}{k:04d}"
        return PurchasePlan(
            day=day,
            k=k,
            transaction_id=txn,
            item_id=item_id,
            order_id=f"{r.randint(10, 99)}-{r.randint(10000, 99999)}-{r.randint(10000, 99999)}",
            title=f"{r.choice(BRANDS)} {r.choice(ADJECTIVES)} {r.choice(NOUNS)}",
            seller=f"{r.choice(LAST_NAMES).lower()}_{r.choice(('deals', 'outlet', 'shop', 'goods'))}{r.randint(1, 999)}",
            quantity=1 if r.random() < 0.85 else 2,
            price=Decimal(r.randint(199, 15999)) / 100,
            created=created,
            paid=paid,
            shipped=paid + MS_DAY + int(r.random() * 2 * MS_DAY),
        )

    def non_sale_count(self, account: str, day: int) -> int:
        """Number of NON_SALE_CHARGE finance transactions on ``day``."""
        if day < self.hist_day:
            return 0
        u = uniforms(self.seed, account, "nsc", day)
        return 1 + stochastic_round(0.15 * self.cfg.orders_per_day, u[0])

    def non_sale(self, account: str, day: int, k: int, n: int) -> tuple[int, str, Decimal, str, str]:
        """``(date, feeType, amount, memo, bookingEntry)`` of NON_SALE_CHARGE ``k`` of ``day``.

        Most charge a fee (DEBIT); a share are fee reversals that credit it back (README "Wire
        facts": Fee credits, a NON_SALE_CHARGE with ``bookingEntry: CREDIT``).
        """
        r = rng(self.seed, account, "nsc", day, k)
        date = day * MS_DAY + int((k + r.random()) * MS_DAY / n)
        fee_type, memo = r.choice(
            (
                ("AD_FEE", "Promoted listings fee"),
                ("INSERTION_FEE", "Insertion fee"),
                ("INTERNATIONAL_FEE", "International fee"),
            )
        )
        amount = Decimal(r.randint(25, 4999)) / 100
        if r.random() < FEE_CREDIT_SHARE:
            return date, fee_type, amount, f"{memo} credit", "CREDIT"
        return date, fee_type, amount, memo, "DEBIT"
