"""Data-quality queries behind the asset checks (plain SQL over the stored tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ebay_pipelines.store.tables import (
    ebay_disputes,
    ebay_finances_fees,
    ebay_finances_transactions,
    ebay_orders,
    ebay_refunds,
    ebay_sync_state,
    ebay_worker_run,
    metadata,
    natural_key,
    order_line_items,
)


@dataclass(frozen=True)
class CheckOutcome:
    """Whether a check passed, how many rows offend, and a few examples."""

    passed: bool
    failures: int
    examples: list[str]
    checked: int = 0


def _outcome(rows: Sequence[Sequence[object]], checked: int = 0) -> CheckOutcome:
    examples = [" ".join(str(v) for v in row) for row in rows[:10]]
    return CheckOutcome(passed=not rows, failures=len(rows), examples=examples, checked=checked)


def duplicate_keys_across_accounts(conn: Connection, table_name: str) -> CheckOutcome:
    """Rows whose eBay key is stored under more than one account (double counting in reports)."""
    table = metadata.tables[table_name]
    key = [table.c[c] for c in natural_key(table) if c != "ebay_account_id"]
    query = (
        sa.select(*key, sa.func.count(sa.distinct(table.c.ebay_account_id)).label("accounts"))
        .group_by(*key)
        .having(sa.func.count(sa.distinct(table.c.ebay_account_id)) > 1)
        .limit(1000)
    )
    checked = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0
    return _outcome(conn.execute(query).all(), checked)


def order_total_mismatches(conn: Connection) -> CheckOutcome:
    """Orders whose total differs from line-item costs + delivery + tax - discounts (eBay's pricingSummary)."""
    li = (
        sa.select(
            order_line_items.c.ebay_account_id,
            order_line_items.c.order_id,
            sa.func.sum(order_line_items.c.line_item_cost_value).label("items_cost"),
        )
        .group_by(order_line_items.c.ebay_account_id, order_line_items.c.order_id)
        .subquery()
    )
    o = ebay_orders
    expected = (
        sa.func.coalesce(li.c.items_cost, 0)
        + sa.func.coalesce(o.c.delivery_cost_value, 0)
        + sa.func.coalesce(o.c.tax_value, 0)
        - sa.func.abs(sa.func.coalesce(o.c.price_discount_value, 0))
    )
    query = (
        sa.select(o.c.ebay_account_id, o.c.order_id, o.c.total_value, expected.label("expected"))
        .select_from(
            o.outerjoin(li, sa.and_(li.c.ebay_account_id == o.c.ebay_account_id, li.c.order_id == o.c.order_id))
        )
        .where(o.c.total_value.is_not(None), o.c.total_value != expected)
        .limit(1000)
    )
    checked = conn.execute(sa.select(sa.func.count()).select_from(o)).scalar() or 0
    return _outcome(conn.execute(query).all(), checked)


def orphan_fees(conn: Connection) -> CheckOutcome:
    """Finance fees whose transaction is not stored."""
    f, t = ebay_finances_fees, ebay_finances_transactions
    match = sa.and_(
        t.c.ebay_account_id == f.c.ebay_account_id,
        t.c.transaction_id == f.c.transaction_id,
        t.c.transaction_type == f.c.transaction_type,
    )
    query = (
        sa.select(f.c.ebay_account_id, f.c.transaction_id, f.c.line_item_id, f.c.fee_type)
        .where(~sa.exists(sa.select(sa.literal(1)).select_from(t).where(match)))
        .limit(1000)
    )
    checked = conn.execute(sa.select(sa.func.count()).select_from(f)).scalar() or 0
    return _outcome(conn.execute(query).all(), checked)


def synced_range(conn: Connection, account_id: str, family: str) -> tuple[datetime, datetime] | None:
    """The contiguous span of completed windows that ends at the family's newest synced window."""
    rows = conn.execute(
        sa.select(
            ebay_worker_run.c.summary_json["window_from"].astext, ebay_worker_run.c.summary_json["window_to"].astext
        ).where(
            ebay_worker_run.c.ebay_account_id == account_id,
            ebay_worker_run.c.api_family == family,
            ebay_worker_run.c.status == "completed",
        )
    ).all()
    spans = sorted((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in rows if a and b)
    if not spans:
        return None
    merged: list[list[datetime]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + timedelta(seconds=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    last = max(merged, key=lambda span: span[1])
    return last[0], last[1]


def references_without_orders(conn: Connection, kind: str) -> CheckOutcome:
    """Refunds or disputes whose order should be stored (sold and referenced inside the synced orders range) but is not."""
    table, date_column = (
        (ebay_refunds, ebay_refunds.c.refund_date) if kind == "refunds" else (ebay_disputes, ebay_disputes.c.open_date)
    )
    ident = table.c.refund_id if kind == "refunds" else table.c.payment_dispute_id
    accounts = [r[0] for r in conn.execute(sa.select(table.c.ebay_account_id).distinct())]
    offenders: list = []
    checked = 0
    sale = ebay_finances_transactions
    for account_id in accounts:
        span = synced_range(conn, account_id, "orders")
        if span is None:
            continue
        start, end = span
        sold = (
            sa.select(sale.c.order_id, sa.func.min(sale.c.transaction_date).label("sold_at"))
            .where(sale.c.ebay_account_id == account_id, sale.c.transaction_type == "SALE")
            .group_by(sale.c.order_id)
            .subquery()
        )
        order_exists = sa.exists(
            sa.select(sa.literal(1)).where(
                ebay_orders.c.ebay_account_id == account_id, ebay_orders.c.order_id == table.c.order_id
            )
        )
        eligible = (
            sa.select(table.c.ebay_account_id, ident, table.c.order_id, order_exists.label("found"))
            .select_from(table.join(sold, sold.c.order_id == table.c.order_id))
            .where(
                table.c.ebay_account_id == account_id,
                date_column.between(start, end),
                sold.c.sold_at.between(start, end),
            )
        )
        rows = conn.execute(eligible).all()
        checked += len(rows)
        offenders.extend(r[:3] for r in rows if not r.found)
    return _outcome(offenders, checked)


def stale_accounts(conn: Connection, family: str, max_lag: timedelta, now: datetime) -> CheckOutcome:
    """Enabled accounts whose family has not completed a sync within ``max_lag``."""
    from ebay_pipelines.store.tables import ebay_accounts

    query = (
        sa.select(ebay_accounts.c.ebay_account_id, ebay_sync_state.c.last_run_at, ebay_sync_state.c.last_error)
        .select_from(
            ebay_accounts.outerjoin(
                ebay_sync_state,
                sa.and_(
                    ebay_sync_state.c.ebay_account_id == ebay_accounts.c.ebay_account_id,
                    ebay_sync_state.c.api_family == family,
                ),
            )
        )
        .where(ebay_accounts.c.enabled.is_(True), sa.func.coalesce(ebay_sync_state.c.enabled, True).is_(True))
    )
    rows = conn.execute(query).all()
    stale = [r for r in rows if r.last_run_at is None or r.last_error is not None or now - r.last_run_at > max_lag]
    return _outcome(stale, len(rows))
