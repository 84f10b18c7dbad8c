"""Fulfillment, Finances and Inventory endpoints (answers for an authenticated account)."""

from __future__ import annotations

from .funds import TRANSACTION_STATUSES
from .payouts import PAYOUT_STATUSES
from .queries import TRANSACTION_TYPES
from .responses import Request, Response, json_response, page_links, parse_int, rest_error
from .services import Services
from .util import MS_DAY, months_back_ms, parse_iso

FULFILLMENT = "API_FULFILLMENT"
#: How far back getPaymentDisputeSummaries' open_date_from may reach, in calendar months.
DISPUTE_REACH_MONTHS = 18
FINANCES = "API_FINANCES"
INVENTORY = "API_INVENTORY"


class FilterError(Exception):
    """A bad filter: carries the eBay error id and message."""

    def __init__(self, error_id: int, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


def split_criteria(text: str) -> list[tuple[str, str]]:
    """Split ``name:value,name:value`` at commas outside ``[]``/``{}``."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    out = []
    for part in parts:
        name, sep, value = part.strip().partition(":")
        if not sep:
            raise FilterError(30700, f"Invalid filter name: {part}")
        out.append((name.strip(), value.strip()))
    return out


def parse_range(value: str, bad_format: int, missing_start: int, start_after_end: int) -> tuple[int, int | None]:
    """Parse ``[a..b]`` / ``[a..]`` into epoch ms (end None when open)."""
    if not (value.startswith("[") and value.endswith("]")) or ".." not in value:
        raise FilterError(bad_format, "Invalid date format")
    a, _, b = value[1:-1].partition("..")
    if not a.strip():
        raise FilterError(missing_start, "Start date is missing")
    try:
        start = parse_iso(a)
        end = parse_iso(b) if b.strip() else None
    except ValueError as exc:
        raise FilterError(bad_format, "Invalid date format") from exc
    if end is not None and start > end:
        raise FilterError(start_after_end, "Start date should be before end date")
    return start, end


def parse_set(value: str) -> set[str]:
    """Parse ``{A|B}`` into a set."""
    if not (value.startswith("{") and value.endswith("}")):
        raise FilterError(30800, f"Invalid filter value {value}")
    return {v.strip() for v in value[1:-1].split("|") if v.strip()}


# ---------------------------------------------------------------------- Fulfillment
def get_orders(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /sell/fulfillment/v1/order."""
    limit = parse_int(req.q("limit"), 50)
    if limit is None or not 1 <= limit <= 200:
        return rest_error(400, 31100, FULFILLMENT, "REQUEST", f"Invalid limit: {req.q('limit')}")
    offset = parse_int(req.q("offset"), 0)
    if offset is None or offset < 0:
        return rest_error(400, 31000, FULFILLMENT, "REQUEST", f"Invalid offset: {req.q('offset')}")
    field_groups = req.q("fieldGroups")
    if field_groups and any(g.strip() not in ("TAX_BREAKDOWN",) for g in field_groups.split(",")):
        return rest_error(400, 32800, FULFILLMENT, "REQUEST", f"Invalid field group: {field_groups}")
    tax_breakdown = bool(field_groups)
    world = svc.world
    order_ids = req.q("orderIds")
    if order_ids:
        ids = [i.strip() for i in order_ids.split(",") if i.strip()]
        if len(ids) > 50:
            return rest_error(
                400, 30900, FULFILLMENT, "REQUEST", "Exceeded maximum number of order IDs (the current limit is 50)"
            )
        plans = [p for p in (world.find_order(account, i, now) for i in ids) if p is not None]
        orders = [svc.rest.order(account, p, now, tax_breakdown=tax_breakdown) for p in plans]
        return json_response({"href": req.url(), "limit": limit, "offset": 0, "total": len(orders), "orders": orders})
    try:
        created = modified = None
        statuses: set[str] | None = None
        for name, value in split_criteria(req.q("filter") or ""):
            key = name.lower()
            if key == "creationdate":
                created = parse_range(value, 30810, 30820, 30840)
            elif key == "lastmodifieddate":
                modified = parse_range(value, 30810, 30820, 30840)
            elif key == "orderfulfillmentstatus":
                statuses = parse_set(value)
                if not statuses <= {"NOT_STARTED", "IN_PROGRESS", "FULFILLED"}:
                    raise FilterError(30800, f"Invalid filter value {value} for filter {name}")
            else:
                raise FilterError(30700, f"Invalid filter name: {name}")
    except FilterError as exc:
        return rest_error(400, exc.error_id, FULFILLMENT, "REQUEST", exc.message)
    if created is not None:
        rows = world.orders_by_creation(account, created[0], created[1] if created[1] is not None else now, now)
    elif modified is not None:
        rows = world.orders_by_lmd(account, modified[0], modified[1] if modified[1] is not None else now, now)
    else:
        rows = world.orders_by_creation(account, now - 90 * MS_DAY, now, now)
    if statuses is not None:
        rows = [r for r in rows if svc.rest.fulfillment_status(r[1], now) in statuses]
    total = len(rows)
    page = [
        svc.rest.order(account, plan, now, tax_breakdown=tax_breakdown) for _, plan in rows[offset : offset + limit]
    ]
    body = {**page_links(req, offset, limit, total), "limit": limit, "offset": offset, "total": total, "orders": page}
    return json_response(body)


def get_order(svc: Services, req: Request, account: str, now: int, order_id: str) -> Response:
    """GET /sell/fulfillment/v1/order/{orderId}."""
    plan = svc.world.find_order(account, order_id, now)
    if plan is None:
        return rest_error(404, 32100, FULFILLMENT, "REQUEST", f"Invalid order ID: {order_id}")
    tax_breakdown = (req.q("fieldGroups") or "").strip() == "TAX_BREAKDOWN"
    return json_response(svc.rest.order(account, plan, now, tax_breakdown=tax_breakdown))


def get_dispute_summaries(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /sell/fulfillment/v1/payment_dispute_summary."""
    limit = parse_int(req.q("limit"), 200)
    offset = parse_int(req.q("offset"), 0)
    if limit is None or not 1 <= limit <= 200 or offset is None or offset < 0:
        return rest_error(400, 33001, FULFILLMENT, "REQUEST", "Invalid input request")
    world = svc.world
    order_id = req.q("order_id")
    if order_id:
        plan = world.find_order(account, order_id, now)
        plans = [plan] if plan is not None and plan.disp_at is not None and plan.disp_at <= now else []
    else:
        raw_from, raw_to = req.q("open_date_from"), req.q("open_date_to")
        try:
            start = parse_iso(raw_from) if raw_from else None
            end = parse_iso(raw_to) if raw_to else None
        except ValueError:
            return rest_error(400, 33001, FULFILLMENT, "REQUEST", "Invalid input request")
        # open_date_from "can be set as far back as 18 months from the present time" (the contract);
        # its one declared 400 is 33001.
        oldest = months_back_ms(now, DISPUTE_REACH_MONTHS)
        if start is not None and start < oldest:
            return rest_error(400, 33001, FULFILLMENT, "REQUEST", "Invalid input request")
        if start is None:
            start = max(world.gen.hist_start, oldest) if end is None else end - 90 * MS_DAY
        if end is None:
            end = start + 90 * MS_DAY if req.q("open_date_from") else now
        if start > end:
            return rest_error(400, 33001, FULFILLMENT, "REQUEST", "Invalid input request")
        plans = world.disputes(account, start, end, now)
    summaries = [svc.rest.dispute_summary(account, p, now) for p in plans]
    buyer = req.q("buyer_username")
    if buyer:
        summaries = [s for s in summaries if s["buyerUsername"] == buyer]
    wanted = set(req.query.get("payment_dispute_status", []))
    if wanted:
        summaries = [s for s in summaries if s["paymentDisputeStatus"] in wanted]
    total = len(summaries)
    body = {
        **page_links(req, offset, limit, total),
        "limit": limit,
        "offset": offset,
        "total": total,
        "paymentDisputeSummaries": summaries[offset : offset + limit],
    }
    return json_response(body)


def get_dispute(svc: Services, req: Request, account: str, now: int, dispute_id: str) -> Response:
    """GET /sell/fulfillment/v1/payment_dispute/{payment_dispute_id}."""
    plan = svc.world.find_by_prefixed_id(account, "6", dispute_id, now)
    if plan is None or plan.disp_at is None or plan.disp_at > now:
        return rest_error(404, 33001, FULFILLMENT, "REQUEST", "Invalid Payment Dispute Id")
    return json_response(svc.rest.dispute(account, plan, now))


# ---------------------------------------------------------------------- Finances
def get_transactions(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /sell/finances/v1/transaction."""
    limit = parse_int(req.q("limit"), 20)
    offset = parse_int(req.q("offset"), 0)
    if limit is None or not 1 <= limit <= 1000 or offset is None or offset < 0:
        return rest_error(400, 135003, FINANCES, "REQUEST", "The value of pagination is invalid.")
    sort = req.q("sort")
    if sort not in (None, "transactionDate", "-transactionDate"):
        return rest_error(400, 135005, FINANCES, "REQUEST", "The value of sorting is invalid.")
    start, end = svc.world.gen.hist_start, now
    types: frozenset[str] | None = None
    statuses: set[str] | None = None
    order_id: str | None = None
    try:
        for raw in req.query.get("filter", []):
            for name, value in split_criteria(raw):
                if name == "transactionDate":
                    start, open_end = parse_range(value, 135008, 135008, 135008)
                    end = open_end if open_end is not None else now
                elif name == "transactionType":
                    wanted = parse_set(value)
                    if not wanted <= TRANSACTION_TYPES:
                        raise FilterError(135006, "The value of transaction type filter is invalid.")
                    types = frozenset(wanted)
                elif name == "transactionStatus":
                    statuses = parse_set(value)
                    if not statuses <= TRANSACTION_STATUSES:
                        raise FilterError(135007, "The value of transaction status filter is invalid.")
                elif name == "orderId":
                    order_id = value.strip("{}")
                elif name in ("buyerUsername", "payoutId", "transactionId", "payoutReference"):
                    continue
                else:
                    raise FilterError(135008, f"Invalid filter name: {name}")
    except FilterError as exc:
        error_id = 135008 if exc.error_id in (30700, 30800) else exc.error_id
        return rest_error(400, error_id, FINANCES, "REQUEST", exc.message)
    if end - start > 3 * 366 * MS_DAY:
        return rest_error(
            400,
            135016,
            FINANCES,
            "REQUEST",
            "The supplied date range is invalid, as the date range cannot exceed 36 months.",
        )
    refs = svc.world.transactions(account, start, end, now, types)
    if order_id is not None:
        refs = [
            r
            for r in refs
            if r.plan is not None and svc.world.gen.order_id(account, r.plan.day, r.plan.idx) == order_id
        ]
    if statuses is not None:
        refs = [r for r in refs if svc.rest.transaction_status(account, r, now) in statuses]
    if sort == "-transactionDate":
        refs = list(reversed(refs))
    total = len(refs)
    if total == 0:
        return Response(204)
    page = [svc.rest.transaction(account, r, now) for r in refs[offset : offset + limit]]
    body = {
        **page_links(req, offset, limit, total),
        "limit": limit,
        "offset": offset,
        "total": total,
        "transactions": page,
    }
    return json_response(body)


# ---------------------------------------------------------------------- Inventory
def _inventory_paging(req: Request, default_limit: int) -> tuple[int, int] | Response:
    limit = parse_int(req.q("limit"), default_limit)
    offset = parse_int(req.q("offset"), 0)
    if limit is None or not 1 <= limit <= 200 or offset is None or offset < 0:
        return rest_error(400, 25706, INVENTORY, "REQUEST", "You have provided invalid pagination values.")
    return limit, offset


def get_inventory_items(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /sell/inventory/v1/inventory_item (offset = record offset)."""
    paging = _inventory_paging(req, 25)
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    indexes = svc.world.sku_indexes(account)
    total = len(indexes)
    items = [svc.rest.inventory_item(account, i) for i in indexes[offset : offset + limit]]
    body = {
        **page_links(req, offset, limit, total),
        "limit": limit,
        "size": len(items),
        "total": total,
        "inventoryItems": items,
    }
    return json_response(body)


def get_offers(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /sell/inventory/v1/offer?sku=."""
    paging = _inventory_paging(req, 100)
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    sku = req.q("sku")
    if not sku:
        return rest_error(
            400,
            25709,
            INVENTORY,
            "REQUEST",
            "Invalid value for sku.",
            parameters=[{"name": "fieldName", "value": "sku"}],
        )
    index = svc.world.sku_index(account, sku)
    if index is None:
        return rest_error(404, 25713, INVENTORY, "REQUEST", "This Offer is not available.")
    offers = svc.rest.offers(account, index)
    total = len(offers)
    page = offers[offset : offset + limit]
    body = {**page_links(req, offset, limit, total), "limit": limit, "size": len(page), "total": total, "offers": page}
    return json_response(body)


# ---------------------------------------------------------------------- Finances payouts
#: getPayouts ``sort`` values: ``payoutDate`` / ``lastAttemptedPayoutDate`` ascending, ``-`` descending.
PAYOUT_SORTS = frozenset({"payoutDate", "-payoutDate", "lastAttemptedPayoutDate", "-lastAttemptedPayoutDate"})


def _payout_filter(svc: Services, req: Request, now: int) -> tuple[int, int, str | None, tuple[int, int] | None]:
    """``(start, end, payoutStatus, lastAttemptedPayoutDate range)`` of a getPayouts ``filter``."""
    start, end = svc.world.gen.hist_start, now
    status: str | None = None
    attempted: tuple[int, int] | None = None
    for raw in req.query.get("filter", []):
        for name, value in split_criteria(raw):
            if name == "payoutDate":
                start, open_end = parse_range(value, 135004, 135004, 135004)
                end = open_end if open_end is not None else now
                if start < now - (5 * 365 + 2) * MS_DAY:
                    raise FilterError(
                        135013,
                        "The supplied start date is invalid, as payouts older than five years cannot be retrieved.",
                    )
                if end - start > 3 * 366 * MS_DAY:
                    raise FilterError(
                        135014, "The supplied date range is invalid, as the date range cannot exceed 36 months."
                    )
            elif name == "lastAttemptedPayoutDate":
                a, b = parse_range(value, 135004, 135004, 135004)
                attempted = (a, b if b is not None else now)
            elif name == "payoutStatus":
                wanted = parse_set(value)
                if len(wanted) != 1 or not wanted <= PAYOUT_STATUSES:
                    raise FilterError(135002, "The value of payout status filter is invalid.")
                status = next(iter(wanted))
            elif name == "payoutReference":
                continue  # mainland China split payouts only: none here
            else:
                raise FilterError(135004, f"Invalid filter name: {name}")
    return start, end, status, attempted


def get_payouts(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /sell/finances/v1/payout (Finances getPayouts): newest first unless ``sort=payoutDate``."""
    limit = parse_int(req.q("limit"), 20)
    offset = parse_int(req.q("offset"), 0)
    if limit is None or not 1 <= limit <= 200 or offset is None or offset < 0:
        return rest_error(400, 135003, FINANCES, "REQUEST", "The value of pagination is invalid.")
    sort = req.q("sort")
    if sort is not None and sort not in PAYOUT_SORTS:
        return rest_error(400, 135005, FINANCES, "REQUEST", "The value of sorting is invalid.")
    try:
        start, end, status, attempted = _payout_filter(svc, req, now)
    except FilterError as exc:
        error_id = 135004 if exc.error_id in (30700, 30800) else exc.error_id
        return rest_error(400, error_id, FINANCES, "REQUEST", exc.message)
    payouts = svc.rest.payouts(account, start, end, now)
    if status is not None:
        payouts = [p for p in payouts if p["payoutStatus"] == status]
    if attempted is not None:  # only failed payouts carry lastAttemptedPayoutDate; none fail here
        payouts = [p for p in payouts if "lastAttemptedPayoutDate" in p]
    if sort is None or sort.startswith("-"):
        payouts = list(reversed(payouts))
    total = len(payouts)
    if total == 0:
        return Response(204)
    body = {
        **page_links(req, offset, limit, total),
        "limit": limit,
        "offset": offset,
        "total": total,
        "payouts": payouts[offset : offset + limit],
    }
    return json_response(body)
