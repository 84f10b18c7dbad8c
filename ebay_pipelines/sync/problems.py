"""Build ``problem_orders``: one row per order with any inquiry, case, dispute, return or refund."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

PROBLEM_KINDS = ("inquiry", "case", "dispute", "return", "refund")


@dataclass
class _Facts:
    ids: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in PROBLEM_KINDS})
    times: list[datetime] = field(default_factory=list)
    refunded: Decimal = Decimal("0")

    def add(self, kind: str, ident: Any, when: Any) -> None:
        if ident is not None and str(ident) not in self.ids[kind]:
            self.ids[kind].append(str(ident))
        if when is not None and not pd.isna(when):
            self.times.append(pd.Timestamp(when).to_pydatetime())


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value is not pd.NaT


def _line_item_index(line_items: pd.DataFrame) -> dict[tuple[str, str], str]:
    """Map (legacy item id, legacy transaction id) to the order id, for Post-Order joins."""
    index: dict[tuple[str, str], str] = {}
    for row in line_items.itertuples(index=False):
        if _present(row.legacy_item_id) and _present(row.line_item_id):
            index[(str(row.legacy_item_id), str(row.line_item_id))] = str(row.order_id)
            if _present(getattr(row, "legacy_transaction_id", None)):
                index[(str(row.legacy_item_id), str(row.legacy_transaction_id))] = str(row.order_id)
    return index


def build_problem_orders(
    account_id: str,
    orders: pd.DataFrame,
    line_items: pd.DataFrame,
    inquiries: pd.DataFrame,
    cases: pd.DataFrame,
    disputes: pd.DataFrame,
    refunds: pd.DataFrame,
) -> pd.DataFrame:
    """Return one row per problem order of ``account_id`` with what happened to it."""
    by_order: dict[str, _Facts] = {}
    index = _line_item_index(line_items)

    def order_of(row: Any) -> str | None:
        if _present(getattr(row, "order_id", None)):
            return str(row.order_id)
        if _present(row.item_id) and _present(row.transaction_id):
            return index.get((str(row.item_id), str(row.transaction_id)))
        return None

    for row in inquiries.itertuples(index=False):
        if (order_id := order_of(row)) is not None:
            by_order.setdefault(order_id, _Facts()).add("inquiry", row.inquiry_id, row.creation_date)
    for row in cases.itertuples(index=False):
        if (order_id := order_of(row)) is not None:
            by_order.setdefault(order_id, _Facts()).add("case", row.case_id, row.creation_date)
    for row in disputes.itertuples(index=False):
        if _present(row.order_id):
            by_order.setdefault(str(row.order_id), _Facts()).add("dispute", row.payment_dispute_id, row.open_date)
    for row in refunds.itertuples(index=False):
        if not _present(row.order_id):
            continue
        facts = by_order.setdefault(str(row.order_id), _Facts())
        if row.refund_source == "return":
            facts.add("return", row.return_id if _present(row.return_id) else row.refund_id, row.refund_date)
        else:
            facts.add("refund", row.refund_id, row.refund_date)
            if _present(row.refund_amount_value):
                facts.refunded += abs(Decimal(str(row.refund_amount_value)))

    known = {str(r.order_id): r for r in orders.itertuples(index=False)} if len(orders) else {}
    rows = []
    for order_id in sorted(by_order):
        facts = by_order[order_id]
        order = known.get(order_id)
        problems = [k for k in PROBLEM_KINDS if facts.ids[k]]
        first = min(facts.times) if facts.times else None
        last = max(facts.times) if facts.times else None
        rows.append(
            {
                "ebay_account_id": account_id,
                "order_id": order_id,
                "order_creation_date": getattr(order, "creation_date", None),
                "buyer_username": getattr(order, "buyer_username", None),
                "order_payment_status": getattr(order, "order_payment_status", None),
                "order_fulfillment_status": getattr(order, "order_fulfillment_status", None),
                "currency": getattr(order, "currency", None),
                "order_total_value": getattr(order, "total_value", None),
                "refunded_total_value": facts.refunded if facts.ids["refund"] else None,
                **{f"has_{k}": bool(facts.ids[k]) for k in PROBLEM_KINDS},
                "problems": ",".join(problems),
                **{f"{k}_ids": facts.ids[k] or None for k in PROBLEM_KINDS},
                "first_problem_at": first,
                "last_problem_at": last,
                "raw": {
                    "order_id": order_id,
                    "problems": problems,
                    **{f"{k}_ids": facts.ids[k] for k in PROBLEM_KINDS},
                    "order_in_synced_range": order is not None,
                },
                "source_updated_at": last,
            }
        )
    return pd.DataFrame(rows)
