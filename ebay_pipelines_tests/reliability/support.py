"""What the simulator says a correct sync holds, for any account, window or snapshot, and how to compare.

Keys and compared values per table follow the end-to-end family test; here every function takes the
account and the windows that landed, so a soak over many accounts and days can be checked exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import Window, day_window

Expected = dict[str, dict[str, Any]]  # table -> {key: compared value (None: presence only)}

WINDOW_FAMILIES = [s.name for s in FAMILIES_BY_NAME.values() if s.windowed]
SNAPSHOT_FAMILIES = [s.name for s in FAMILIES_BY_NAME.values() if not s.windowed]

# table -> (SQL expression of the key, compared column)
STORED: dict[str, tuple[str, str]] = {
    "ebay_orders": ("order_id", "total_value"),
    "order_line_items": ("line_item_id", "line_item_cost_value"),
    "ebay_transactions": ("transaction_id || '/' || transaction_type", "amount_value"),
    "ebay_finances_transactions": ("transaction_id || '/' || transaction_type", "amount_value"),
    "ebay_finances_fees": ("transaction_id || '/' || line_item_id || '/' || fee_seq", "amount_value"),
    "ebay_refunds": ("refund_id", "refund_amount_value"),
    "ebay_disputes": ("payment_dispute_id", "amount_value"),
    "ebay_offers": ("offer_id", "price_value"),
    "ebay_inventory": ("sku", "available_quantity"),
    "ebay_active_inventory": ("item_id", "current_price_value"),
    "ebay_messages": ("message_id", "body"),
    "ebay_buyer": ("order_line_item_id", "transaction_price_value"),
    "ebay_inquiries": ("inquiry_id", "claim_amount_value"),
    "ebay_cases": ("case_id", "claim_amount_value"),
}


def dec(value: Any) -> Decimal:
    """An exact decimal of an eBay amount value."""
    return Decimal(str(value))


def window_of(sim: Any, family: str, day: date) -> Window:
    """The window a day partition of ``family`` fetches: the project cuts it at the wall clock's now
    (the simulator's data ends at its own, earlier, now)."""
    return day_window(day, FAMILIES_BY_NAME[family].overlap, max(sim.now, datetime.now(timezone.utc)))


def _finances(sim: Any, account: str, w: Window) -> Expected:
    txs = sim.truth.finance_transactions(account, w.start, w.end)
    fees: dict[str, Any] = {}
    for t in txs:
        for line in t.get("orderLineItems") or []:
            for seq, fee in enumerate(line.get("marketplaceFees") or []):
                fees[f"{t['transactionId']}/{line['lineItemId']}/{seq}"] = dec(fee["amount"]["value"])
        if t.get("feeType"):
            fees[f"{t['transactionId']}//0"] = dec(t["amount"]["value"])
    return {"ebay_finances_transactions": {f"{t['transactionId']}/{t['transactionType']}": dec(t["amount"]["value"]) for t in txs},
            "ebay_finances_fees": fees}


WINDOW_TRUTH: dict[str, Callable[[Any, str, Window], Expected]] = {
    "orders": lambda sim, a, w: {
        "ebay_orders": {o["orderId"]: dec(o["pricingSummary"]["total"]["value"]) for o in sim.truth.orders(a, w.start, w.end)},
        "order_line_items": {li["lineItemId"]: dec(li["lineItemCost"]["value"])
                             for o in sim.truth.orders(a, w.start, w.end) for li in o["lineItems"]},
    },
    "transactions": lambda sim, a, w: {"ebay_transactions": {
        f"{t['transactionId']}/{t['transactionType']}": dec(t["amount"]["value"])
        for t in sim.truth.finance_transactions(a, w.start, w.end)}},
    "finances": _finances,
    "refunds": lambda sim, a, w: {"ebay_refunds": {
        **{f"FIN-{t['transactionId']}": dec(t["amount"]["value"])
           for t in sim.truth.finance_transactions(a, w.start, w.end, transaction_type="REFUND")},
        **{f"RET-{r['returnId']}": None for r in sim.truth.returns(a, w.start, w.end)}}},
    "disputes": lambda sim, a, w: {"ebay_disputes": {
        d["paymentDisputeId"]: dec(d["amount"]["value"]) for d in sim.truth.disputes(a, w.start, w.end)}},
    "messages": lambda sim, a, w: {"ebay_messages": {
        str(m["MessageID"]): m["Text"] for m in sim.truth.messages(a, w.start, w.end)}},
    "inquiries": lambda sim, a, w: {"ebay_inquiries": {
        i["inquiryId"]: dec(i["claimAmount"]["value"]) for i in sim.truth.inquiries(a, w.start, w.end)}},
    "cases": lambda sim, a, w: {"ebay_cases": {
        c["caseId"]: dec(c["claimAmount"]["value"]) for c in sim.truth.cases(a, w.start, w.end)}},
}

SNAPSHOT_TRUTH: dict[str, Callable[[Any, str], Expected]] = {
    "offers": lambda sim, a: {"ebay_offers": {o["offerId"]: dec(o["pricingSummary"]["price"]["value"]) for o in sim.truth.offers(a)}},
    "inventory": lambda sim, a: {"ebay_inventory": {
        i["sku"]: i["availability"]["shipToLocationAvailability"]["quantity"] for i in sim.truth.inventory_items(a)}},
    "active_inventory": lambda sim, a: {"ebay_active_inventory": {
        str(i["ItemID"]): dec(i["CurrentPrice"]) for i in sim.truth.active_listings(a)}},
    "buyer": lambda sim, a: {"ebay_buyer": {str(p["OrderLineItemID"]): dec(p["TransactionPrice"]) for p in sim.truth.purchases(a)}},
}


def expected_for(sim: Any, family: str, account: str, days: Iterable[date]) -> Expected:
    """The union of what the landed day partitions (or the snapshot) of ``family`` must hold."""
    spec = FAMILIES_BY_NAME[family]
    if not spec.windowed:
        return SNAPSHOT_TRUTH[family](sim, account)
    union: Expected = {t: {} for t in spec.tables}
    for day in days:
        for table, rows in WINDOW_TRUTH[family](sim, account, window_of(sim, family, day)).items():
            union[table].update(rows)
    return union


@dataclass
class Mismatch:
    """One difference between a table and the simulator's truth."""

    table: str
    account: str
    kind: str  # missing | unexpected | value | duplicate
    key: str
    detail: str = ""


def stored_rows(engine: sa.Engine, table: str, account: str) -> tuple[dict[str, Any], list[str]]:
    """The stored (key -> compared value) of one account's rows, and keys that occur more than once."""
    key, column = STORED[table]
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"select {key} as k, {column} as v from {table} where ebay_account_id = :a"),
                            {"a": account}).all()
    seen: dict[str, Any] = {}
    duplicates = []
    for r in rows:
        if r.k in seen:
            duplicates.append(r.k)
        seen[r.k] = r.v
    return seen, duplicates


def compare(engine: sa.Engine, account: str, expected: Expected) -> list[Mismatch]:
    """Every difference between the account's stored rows and ``expected`` (empty when exact)."""
    found: list[Mismatch] = []
    for table, want in expected.items():
        got, duplicates = stored_rows(engine, table, account)
        found += [Mismatch(table, account, "duplicate", k) for k in duplicates]
        found += [Mismatch(table, account, "missing", k) for k in sorted(set(want) - set(got))]
        found += [Mismatch(table, account, "unexpected", k) for k in sorted(set(got) - set(want))]
        for k, value in want.items():
            if k in got and value is not None and got[k] != value:
                found.append(Mismatch(table, account, "value", k, f"stored {got[k]!r}, eBay says {value!r}"))
    return found


def step_retries(result: dg.ExecuteInProcessResult) -> int:
    """How many times Dagster's RetryPolicy re-ran a step of this run."""
    return sum(1 for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY")


def parse_ts(value: str) -> datetime:
    """Parse an ISO 8601 cursor or window bound."""
    return datetime.fromisoformat(value)


def retrying_definitions(database_url: str, max_retries: int = 3, delay: float = 0.05, **ebay_options: Any) -> dg.Definitions:
    """The project's definitions with a fast step RetryPolicy and quick HTTP retries, on the test's database.

    The family assets normally retry transient failures 30 s apart (``EBAY_PIPELINES_STEP_RETRIES``,
    read at import); tests build them again with ``delay`` seconds instead.
    """
    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource

    options = {"retry_max_attempts": 3, "retry_initial_delay_s": 0.01, "retry_max_total_s": 10.0,
               "retry_jitter_s": 0.01, "request_timeout_s": 5.0, **ebay_options}
    return build_definitions(PostgresResource(database_url=database_url), EbayApiResource(**options),
                             step_retry_policy=dg.RetryPolicy(max_retries=max_retries, delay=delay))


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step-failure message of a run, causes included (what a person reads in the Dagster UI)."""
    parts = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.step_failure_data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)
