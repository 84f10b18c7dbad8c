"""Rebuild the problem grid of one account in SQL: ``problem_order_items`` and ``problem_orders``.

One transaction per account: lock the account's ``problem_grid_builds`` row (and note the newest
``synced_at`` of the upstream rows), replace the account's problems with one ``INSERT … SELECT``
over the synced tables, replace its problem orders with one ``INSERT … SELECT`` grouping those
problems by order, and record the counts. Readers see the old grid or the new one, never a mix.

The store knows the tables, not eBay: which statuses are open or await the seller, and where a
field sits in ``raw``, come from the caller's :class:`GridRules` (see ``sync.problems``).
Post-Order rows without an ``order_id`` are linked to their order through ``order_line_items``
(``item_id`` = ``legacy_item_id`` and ``transaction_id`` = ``legacy_transaction_id`` or
``line_item_id``); problems that link to no synced order stay in ``problem_order_items`` with a
NULL ``order_id`` and are left out of ``problem_orders``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

PROBLEM_TYPES = ("inquiry", "case", "dispute", "return", "refund")

#: The account's upstream tables: a grid is stale when one of them changed after its build.
UPSTREAM_TABLES = ("ebay_orders", "order_line_items", "ebay_inquiries", "ebay_cases", "ebay_disputes", "ebay_refunds")

#: ``ebay_refunds.refund_source`` of Post-Order returns (the other rows are finance refunds).
RETURN_SOURCE = "return"


@dataclass(frozen=True)
class GridRules:
    """Which statuses are closed or await the seller, and the ``raw`` paths of fields without a column."""

    inquiry_reason: str
    inquiry_closed: Sequence[str]
    inquiry_action: Sequence[str]
    case_closed: Sequence[str]
    case_action: Sequence[str]
    dispute_closed: Sequence[str]
    dispute_action: Sequence[str]
    return_closed: Sequence[str]
    return_action: Sequence[str]
    refund_outcome: str
    #: Present in a return's ``raw`` while the seller has something to do.
    return_seller_due: Sequence[str]
    return_respond_by: Sequence[str]
    return_opened_at: Sequence[str]
    return_closed_at: Sequence[str]
    return_close_reason: Sequence[str]

    def params(self) -> dict[str, Any]:
        """The rules as bind parameters (lists become PostgreSQL arrays)."""
        return {name: value if isinstance(value, str) else list(value) for name, value in vars(self).items()}


@dataclass(frozen=True)
class GridBuild:
    """What one rebuild wrote for an account."""

    account_id: str
    problem_orders: int
    problems: int
    by_type: dict[str, int]
    open_problems: int
    action_needed: int
    next_deadline: datetime | None
    source_synced_at: datetime | None


def _watermark(account: str) -> str:
    """SQL of the newest ``synced_at`` among the account's upstream rows."""
    parts = " UNION ALL ".join(
        f"SELECT max(synced_at) AS m FROM {t} WHERE ebay_account_id = {account}" for t in UPSTREAM_TABLES
    )
    return f"(SELECT max(m) FROM ({parts}) AS upstream)"


def _ts(path: str) -> str:
    """SQL of a timestamp read from ``raw`` at the bound path, NULL unless it looks like ISO 8601."""
    value = f"(raw #>> :{path})"
    return rf"CASE WHEN {value} ~ '^\d{{4}}-\d{{2}}-\d{{2}}[T ]\d{{2}}:\d{{2}}' THEN {value}::timestamptz END"


# Rows get ``synced_at = now()``, their transaction's start: a sync still open while the grid is built
# commits rows older than what the build saw. The build's mark therefore stays before the start of
# every transaction open on this database, so those rows make the account stale once committed.
_IN_FLIGHT = """(SELECT min(xact_start) - interval '1 microsecond' FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL)"""

_LOCK = sa.text(
    f"""
    INSERT INTO problem_grid_builds AS b (ebay_account_id, built_at, source_synced_at)
    VALUES (:account, now(), least({_watermark(":account")}, {_IN_FLIGHT}))
    ON CONFLICT (ebay_account_id) DO UPDATE
        SET built_at = EXCLUDED.built_at, source_synced_at = EXCLUDED.source_synced_at
    RETURNING source_synced_at
    """
)

# Every source row becomes one problem: (type, id, direct order id, item, transaction, reason,
# status, is_open, action_needed, respond_by, amount, currency, outcome, opened_at, closed_at,
# buyer, source_updated_at).
_PROBLEMS = f"""
    SELECT 'inquiry' AS problem_type, inquiry_id AS problem_id, order_id, item_id, transaction_id,
           :inquiry_reason AS reason, inquiry_status AS status,
           NOT coalesce(inquiry_status = ANY(:inquiry_closed), false) AS is_open,
           coalesce(inquiry_status = ANY(:inquiry_action), false) AS action_needed,
           respond_by_date AS respond_by, claim_amount_value AS amount_value, claim_amount_currency AS amount_currency,
           CASE WHEN inquiry_status = ANY(:inquiry_closed) THEN inquiry_status END AS outcome,
           creation_date AS opened_at,
           CASE WHEN inquiry_status = ANY(:inquiry_closed) THEN last_modified_date END AS closed_at,
           buyer AS buyer_username, source_updated_at
    FROM ebay_inquiries WHERE ebay_account_id = :account
    UNION ALL
    SELECT 'case', case_id, order_id, item_id, transaction_id, case_type, case_status,
           NOT coalesce(case_status = ANY(:case_closed), false),
           coalesce(case_status = ANY(:case_action), false),
           respond_by_date, claim_amount_value, claim_amount_currency,
           CASE WHEN case_status = ANY(:case_closed) THEN case_status END,
           creation_date,
           CASE WHEN case_status = ANY(:case_closed) THEN last_modified_date END,
           buyer, source_updated_at
    FROM ebay_cases WHERE ebay_account_id = :account
    UNION ALL
    SELECT 'dispute', payment_dispute_id, order_id, NULL, NULL, reason, payment_dispute_status,
           NOT coalesce(payment_dispute_status = ANY(:dispute_closed), false),
           coalesce(payment_dispute_status = ANY(:dispute_action), false),
           respond_by_date, amount_value, amount_currency,
           CASE WHEN payment_dispute_status = ANY(:dispute_closed) THEN coalesce(outcome, seller_response) END,
           open_date, closed_date, buyer_username, source_updated_at
    FROM ebay_disputes WHERE ebay_account_id = :account
    UNION ALL
    -- A return: its deadline, creation and close details live in raw only (paths from the rules); its
    -- amount is the refund once issued, the estimated refund before.
    SELECT 'return', coalesce(return_id, refund_id), order_id, item_id, transaction_id, refund_reason, refund_status,
           NOT coalesce(refund_status = ANY(:return_closed), false),
           coalesce(refund_status = ANY(:return_action), false) OR (raw #> :return_seller_due) IS NOT NULL,
           {_ts("return_respond_by")},
           CASE WHEN refund_amount_value IS NOT NULL THEN refund_amount_value ELSE estimated_refund_value END,
           CASE WHEN refund_amount_value IS NOT NULL THEN refund_amount_currency ELSE estimated_refund_currency END,
           CASE WHEN refund_status = ANY(:return_closed) THEN coalesce(raw #>> :return_close_reason, refund_status) END,
           {_ts("return_opened_at")},
           CASE WHEN refund_status = ANY(:return_closed) THEN coalesce({_ts("return_closed_at")}, refund_date) END,
           buyer_username, source_updated_at
    FROM ebay_refunds WHERE ebay_account_id = :account AND refund_source = '{RETURN_SOURCE}'
    UNION ALL
    SELECT 'refund', refund_id, order_id, item_id, transaction_id, refund_reason, refund_status, false, false,
           NULL, refund_amount_value, refund_amount_currency, :refund_outcome, refund_date, refund_date,
           buyer_username, source_updated_at
    FROM ebay_refunds WHERE ebay_account_id = :account AND refund_source <> '{RETURN_SOURCE}'
"""

_ITEM_COLUMNS = (
    "ebay_account_id, problem_type, problem_id, order_id, item_id, transaction_id, reason, status, is_open, "
    "action_needed, respond_by, amount_value, amount_currency, outcome, opened_at, closed_at, buyer_username, "
    "order_creation_date, order_total_value, order_total_currency, source_updated_at"
)

_INSERT_ITEMS = sa.text(
    f"""
    INSERT INTO problem_order_items ({_ITEM_COLUMNS})
    SELECT :account, p.problem_type, p.problem_id, linked.order_id, p.item_id, p.transaction_id, p.reason, p.status,
           p.is_open, p.action_needed, p.respond_by, p.amount_value, p.amount_currency, p.outcome, p.opened_at,
           p.closed_at, coalesce(p.buyer_username, o.buyer_username), o.creation_date, o.total_value, o.currency,
           p.source_updated_at
    FROM ({_PROBLEMS}) AS p
    CROSS JOIN LATERAL (
        SELECT coalesce(p.order_id, (
            SELECT l.order_id FROM order_line_items AS l
            WHERE l.ebay_account_id = :account AND l.legacy_item_id = p.item_id
              AND p.transaction_id IN (l.legacy_transaction_id, l.line_item_id)
            ORDER BY l.order_id LIMIT 1
        )) AS order_id
    ) AS linked
    LEFT JOIN ebay_orders AS o ON o.ebay_account_id = :account AND o.order_id = linked.order_id
    """
)


_PROBLEM_OBJECT = """jsonb_build_object(
    'type', problem_type, 'id', problem_id, 'reason', reason, 'status', status, 'is_open', is_open,
    'action_needed', action_needed, 'respond_by', respond_by, 'amount', amount_value, 'currency', amount_currency,
    'outcome', outcome, 'opened_at', opened_at, 'closed_at', closed_at)"""

#: The problem_orders column holding each type's problems.
LIST_COLUMN = {"inquiry": "inquiries", "case": "cases", "dispute": "disputes", "return": "returns", "refund": "refunds"}
_LISTS = ", ".join(LIST_COLUMN[t] for t in PROBLEM_TYPES)
_FLAGS = ", ".join(f"has_{t}" for t in PROBLEM_TYPES)
_FLAG_AGGS = ", ".join(f"bool_or(problem_type = '{t}') AS has_{t}" for t in PROBLEM_TYPES)
_TYPES_PRESENT = ", ".join(f"CASE WHEN bool_or(problem_type = '{t}') THEN '{t}' END" for t in PROBLEM_TYPES)
_LIST_AGGS = ", ".join(
    f"coalesce(jsonb_agg(problem ORDER BY opened_at, problem_id) FILTER (WHERE problem_type = '{t}'), "
    f"'[]'::jsonb) AS {LIST_COLUMN[t]}"
    for t in PROBLEM_TYPES
)

_INSERT_ORDERS = sa.text(
    f"""
    INSERT INTO problem_orders (
        ebay_account_id, order_id, order_creation_date, order_last_modified_date, buyer_username,
        order_payment_status, order_fulfillment_status, currency, order_total_value,
        refunded_total_value, refunded_total_currency, {_FLAGS}, problems, open_problems, action_needed,
        next_deadline, {_LISTS}, first_problem_at, last_problem_at, source_updated_at)
    SELECT :account, g.order_id, o.creation_date, o.last_modified_date, coalesce(o.buyer_username, g.buyer_username),
           o.order_payment_status, o.order_fulfillment_status, o.currency, o.total_value,
           g.refunded_total_value, g.refunded_total_currency, {_FLAGS}, g.problems, g.open_problems, g.action_needed,
           g.next_deadline, {_LISTS}, g.first_problem_at, g.last_problem_at, g.source_updated_at
    FROM (
        SELECT order_id,
               sum(abs(amount_value)) FILTER (WHERE problem_type = 'refund') AS refunded_total_value,
               min(amount_currency) FILTER (WHERE problem_type = 'refund') AS refunded_total_currency,
               {_FLAG_AGGS},
               concat_ws(',', {_TYPES_PRESENT}) AS problems,
               count(*) FILTER (WHERE is_open) AS open_problems,
               bool_or(action_needed) AS action_needed,
               -- The soonest deadline among the problems awaiting the seller.
               min(respond_by) FILTER (WHERE action_needed) AS next_deadline,
               {_LIST_AGGS},
               min(buyer_username) AS buyer_username,
               min(opened_at) AS first_problem_at,
               max(greatest(opened_at, closed_at)) AS last_problem_at,
               max(source_updated_at) AS source_updated_at
        FROM (SELECT *, {_PROBLEM_OBJECT} AS problem FROM problem_order_items
              WHERE ebay_account_id = :account AND order_id IS NOT NULL) AS i
        GROUP BY order_id
    ) AS g
    LEFT JOIN ebay_orders AS o ON o.ebay_account_id = :account AND o.order_id = g.order_id
    """
)

_SUMMARY = sa.text(
    """
    SELECT problem_type, count(*) AS problems, count(*) FILTER (WHERE is_open) AS open_problems,
           count(*) FILTER (WHERE action_needed) AS action_needed,
           min(respond_by) FILTER (WHERE action_needed) AS next_deadline
    FROM problem_order_items WHERE ebay_account_id = :account GROUP BY problem_type
    """
)

_RECORD = sa.text(
    """
    UPDATE problem_grid_builds SET problem_orders = :orders, problems = :problems, action_needed = :action
    WHERE ebay_account_id = :account
    """
)


def rebuild_problem_grid(engine: sa.Engine, account_id: str, rules: GridRules) -> GridBuild:
    """Replace ``account_id``'s problem grid with one built from its synced tables, in one transaction."""
    params = {"account": account_id, **rules.params()}
    with engine.begin() as conn:
        # Locks the account's build row first, so two rebuilds of one account run one after the other.
        watermark = conn.execute(_LOCK, {"account": account_id}).scalar()
        conn.execute(sa.text("DELETE FROM problem_order_items WHERE ebay_account_id = :account"), params)
        conn.execute(_INSERT_ITEMS, params)
        conn.execute(sa.text("DELETE FROM problem_orders WHERE ebay_account_id = :account"), params)
        orders = conn.execute(_INSERT_ORDERS, params).rowcount
        rows = conn.execute(_SUMMARY, params).all()
        by_type = {t: 0 for t in PROBLEM_TYPES} | {r.problem_type: r.problems for r in rows}
        action = sum(r.action_needed for r in rows)
        conn.execute(
            _RECORD, {"account": account_id, "orders": orders, "problems": sum(by_type.values()), "action": action}
        )
    deadlines = [r.next_deadline for r in rows if r.next_deadline is not None]
    return GridBuild(
        account_id=account_id,
        problem_orders=orders,
        problems=sum(by_type.values()),
        by_type=by_type,
        open_problems=sum(r.open_problems for r in rows),
        action_needed=action,
        next_deadline=min(deadlines) if deadlines else None,
        source_synced_at=watermark,
    )


_STALE = sa.text(
    f"""
    SELECT a.id FROM unnest(CAST(:accounts AS text[])) AS a(id)
    LEFT JOIN problem_grid_builds AS b ON b.ebay_account_id = a.id
    WHERE b.ebay_account_id IS NULL OR {_watermark("a.id")} > coalesce(b.source_synced_at, '-infinity')
    ORDER BY a.id
    """
)


def stale_accounts(conn: sa.Connection, account_ids: Sequence[str]) -> list[str]:
    """The accounts among ``account_ids`` never built, or with upstream rows written since their last build."""
    return [row.id for row in conn.execute(_STALE, {"accounts": list(account_ids)})]
