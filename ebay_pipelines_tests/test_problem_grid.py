"""The problem grid: one row per problem and one per problem order, rebuilt in SQL per account.

First on hand-written rows (links through line items, flags, deadlines, other accounts untouched),
then end to end: simulator -> family syncs -> grid, before and after the simulated clock moves on.

Sources of the rules asserted here (each named again beside its rule in ``sync/problems.py``): the
status meanings follow eBay's type pages Post-Order InquiryStatusEnum, CaseStatusEnum and
ReturnStateEnum and Fulfillment DisputeStateEnum; return deadlines ReturnSummaryType
``sellerResponseDue.respondByDate``; the order link for inquiries and cases, which carry no
``orderId``, follows InquiryDetailsResponse / CaseDetailsResponse ("Wire facts the contracts miss"
in the shared eBay API notes: itemId + transactionId to the line item's legacy ids).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, register_account, run_family_range

from ebay_pipelines.defs.problem_orders import problem_orders, problem_orders_schedule
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store.problem_grid import stale_accounts
from ebay_pipelines.store.tables import (
    ebay_cases,
    ebay_disputes,
    ebay_inquiries,
    ebay_orders,
    ebay_refunds,
    order_line_items,
)
from ebay_pipelines.sync.problems import rebuild

ACCOUNT = "acct-1"
OTHER = "acct-2"


def _t(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def _items(engine: sa.Engine, account: str) -> dict[tuple[str, str], Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select * from problem_order_items where ebay_account_id = :a"), {"a": account}
        ).all()
    return {(r.problem_type, r.problem_id): r for r in rows}


def _orders(engine: sa.Engine, account: str) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select * from problem_orders where ebay_account_id = :a"), {"a": account}).all()
    return {r.order_id: r for r in rows}


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        conn.execute(sa.insert(table).values(**row))


def _seed(engine: sa.Engine) -> None:
    """Two orders of ACCOUNT with every kind of problem, and one order of OTHER with an inquiry."""
    with engine.begin() as conn:
        for account in (ACCOUNT, OTHER):
            _insert(
                conn,
                ebay_orders,
                [
                    {
                        "ebay_account_id": account,
                        "order_id": "O1",
                        "buyer_username": f"{account}-buyer",
                        "creation_date": _t(1),
                        "last_modified_date": _t(2),
                        "currency": "USD",
                        "total_value": Decimal("50.00"),
                        "raw": {},
                    },
                    {
                        "ebay_account_id": account,
                        "order_id": "O2",
                        "buyer_username": "b2",
                        "creation_date": _t(1),
                        "currency": "USD",
                        "total_value": Decimal("30.00"),
                        "raw": {},
                    },
                ],
            )
            _insert(
                conn,
                order_line_items,
                [
                    {
                        "ebay_account_id": account,
                        "line_item_id": "L1",
                        "order_id": "O1",
                        "legacy_item_id": "I1",
                        "legacy_transaction_id": "T1",
                        "raw": {},
                    },
                    {
                        "ebay_account_id": account,
                        "line_item_id": "L2",
                        "order_id": "O2",
                        "legacy_item_id": "I2",
                        "legacy_transaction_id": "T2",
                        "raw": {},
                    },
                ],
            )
        inquiry = {"order_id": None, "claim_amount_currency": "USD", "creation_date": _t(3), "raw": {}}
        _insert(
            conn,
            ebay_inquiries,
            [
                # No order id (as eBay's inquiry details): linked through item id + legacy transaction id.
                {
                    **inquiry,
                    "ebay_account_id": ACCOUNT,
                    "inquiry_id": "INQ1",
                    "item_id": "I1",
                    "transaction_id": "T1",
                    "inquiry_status": "OPEN",
                    "respond_by_date": _t(6),
                    "claim_amount_value": Decimal("50.00"),
                },
                # Its line item is not synced: kept, without an order.
                {
                    **inquiry,
                    "ebay_account_id": ACCOUNT,
                    "inquiry_id": "INQ2",
                    "item_id": "I9",
                    "transaction_id": "T9",
                    "inquiry_status": "CLOSED",
                    "last_modified_date": _t(5),
                },
                {
                    **inquiry,
                    "ebay_account_id": OTHER,
                    "inquiry_id": "INQ9",
                    "item_id": "I1",
                    "transaction_id": "T1",
                    "inquiry_status": "OPEN",
                },
            ],
        )
        # Linked through the line item id, which the simulator sends as transactionId.
        conn.execute(
            sa.insert(ebay_cases).values(
                ebay_account_id=ACCOUNT,
                case_id="C1",
                case_type="ITEM_NOT_RECEIVED",
                case_status="WAITING_CS",
                item_id="I2",
                transaction_id="L2",
                respond_by_date=_t(7),
                creation_date=_t(4),
                raw={},
            )
        )
        conn.execute(
            sa.insert(ebay_disputes).values(
                ebay_account_id=ACCOUNT,
                payment_dispute_id="D1",
                order_id="O1",
                payment_dispute_status="ACTION_NEEDED",
                reason="ITEM_NOT_RECEIVED",
                amount_value=Decimal("50.00"),
                amount_currency="USD",
                open_date=_t(4),
                respond_by_date=_t(5, 12),
                raw={},
            )
        )
        refund = {"ebay_account_id": ACCOUNT, "order_id": "O2", "refund_amount_currency": "USD"}
        _insert(
            conn,
            ebay_refunds,
            [
                # The seller's deadline is only in raw (sellerResponseDue), whatever the state says.
                {
                    **refund,
                    "refund_id": "RET-R1",
                    "refund_source": "return",
                    "return_id": "R1",
                    "refund_status": "ITEM_SHIPPED",
                    "refund_reason": "NOT_AS_DESCRIBED",
                    "refund_amount_value": Decimal("30.00"),
                    "raw": {
                        "returnId": "R1",
                        "sellerResponseDue": {
                            "activityDue": "SELLER_APPROVE_REQUEST",
                            "respondByDate": {"value": "2026-10-08T09:30:00.000Z"},
                        },
                        "creationInfo": {"creationDate": {"value": "2026-10-05T10:00:00.000Z"}},
                    },
                },
                {
                    **refund,
                    "refund_id": "FIN-X1",
                    "refund_source": "finances",
                    "refund_status": "PAYOUT",
                    "refund_amount_value": Decimal("12.50"),
                    "refund_date": _t(9),
                    "raw": {},
                },
            ],
        )


def test_grid_of_hand_written_rows(engine: sa.Engine) -> None:
    _seed(engine)
    with engine.connect() as conn:
        assert stale_accounts(conn, [ACCOUNT, OTHER, "acct-none"]) == [ACCOUNT, OTHER, "acct-none"]
    build = rebuild(engine, ACCOUNT)
    assert (build.problem_orders, build.problems, build.action_needed, build.open_problems) == (2, 6, 3, 4)
    assert build.by_type == {"inquiry": 2, "case": 1, "dispute": 1, "return": 1, "refund": 1}
    assert build.next_deadline == _t(5, 12)

    items = _items(engine, ACCOUNT)
    assert set(items) == {
        ("inquiry", "INQ1"),
        ("inquiry", "INQ2"),
        ("case", "C1"),
        ("dispute", "D1"),
        ("return", "R1"),
        ("refund", "FIN-X1"),
    }
    got = {k: (r.order_id, r.status, r.is_open, r.action_needed, r.respond_by, r.outcome) for k, r in items.items()}
    assert got == {
        ("inquiry", "INQ1"): ("O1", "OPEN", True, True, _t(6), None),
        ("inquiry", "INQ2"): (None, "CLOSED", False, False, None, "CLOSED"),
        ("case", "C1"): ("O2", "WAITING_CS", True, False, _t(7), None),
        ("dispute", "D1"): ("O1", "ACTION_NEEDED", True, True, _t(5, 12), None),
        ("return", "R1"): ("O2", "ITEM_SHIPPED", True, True, datetime(2026, 10, 8, 9, 30, tzinfo=UTC), None),
        ("refund", "FIN-X1"): ("O2", "PAYOUT", False, False, None, "REFUNDED"),
    }
    inq = items[("inquiry", "INQ1")]
    assert (inq.reason, inq.amount_value, inq.amount_currency, inq.opened_at) == (
        "ITEM_NOT_RECEIVED",
        Decimal("50.00"),
        "USD",
        _t(3),
    )
    assert (inq.buyer_username, inq.order_creation_date, inq.order_total_value) == (
        f"{ACCOUNT}-buyer",
        _t(1),
        Decimal("50.00"),
    )
    assert items[("return", "R1")].opened_at == datetime(2026, 10, 5, 10, tzinfo=UTC)
    assert items[("inquiry", "INQ2")].closed_at == _t(5)

    orders = _orders(engine, ACCOUNT)
    assert set(orders) == {"O1", "O2"}
    o1, o2 = orders["O1"], orders["O2"]
    assert (o1.problems, o1.open_problems, o1.action_needed, o1.next_deadline) == (
        "inquiry,dispute",
        2,
        True,
        _t(5, 12),
    )
    assert (o1.buyer_username, o1.order_total_value, o1.currency, o1.order_last_modified_date) == (
        f"{ACCOUNT}-buyer",
        Decimal("50.00"),
        "USD",
        _t(2),
    )
    assert [p["id"] for p in o1.inquiries] == ["INQ1"] and [p["id"] for p in o1.disputes] == ["D1"]
    assert o1.inquiries[0]["status"] == "OPEN" and o1.inquiries[0]["action_needed"] is True
    assert o1.cases == o1.returns == o1.refunds == []
    assert (o2.problems, o2.open_problems, o2.action_needed) == ("case,return,refund", 2, True)
    assert o2.next_deadline == datetime(2026, 10, 8, 9, 30, tzinfo=UTC)
    assert (o2.refunded_total_value, o2.refunded_total_currency) == (Decimal("12.50"), "USD")
    assert (o2.has_case, o2.has_return, o2.has_refund, o2.has_inquiry, o2.has_dispute) == (
        True,
        True,
        True,
        False,
        False,
    )

    # The other account's grid is its own: not built yet, then built without touching ACCOUNT's.
    assert _items(engine, OTHER) == {}
    with engine.connect() as conn:
        assert stale_accounts(conn, [ACCOUNT, OTHER]) == [OTHER]
    assert rebuild(engine, OTHER).problems == 1
    assert _items(engine, OTHER)[("inquiry", "INQ9")].order_id == "O1"
    assert set(_items(engine, ACCOUNT)) == set(items)

    # A status change upstream makes the account stale; the rebuild shows it, and is repeatable.
    with engine.begin() as conn:
        conn.execute(
            sa.update(ebay_inquiries)
            .where(ebay_inquiries.c.inquiry_id == "INQ1")
            .values(inquiry_status="CLOSED", last_modified_date=_t(8), synced_at=sa.func.clock_timestamp())
        )
        conn.execute(sa.delete(ebay_refunds).where(ebay_refunds.c.refund_id == "FIN-X1"))
    with engine.connect() as conn:
        assert stale_accounts(conn, [ACCOUNT, OTHER]) == [ACCOUNT]
    rebuild(engine, ACCOUNT)
    rebuild(engine, ACCOUNT)
    with engine.connect() as conn:
        assert stale_accounts(conn, [ACCOUNT, OTHER]) == []
    inq = _items(engine, ACCOUNT)[("inquiry", "INQ1")]
    assert (inq.status, inq.is_open, inq.action_needed, inq.outcome, inq.closed_at) == (
        "CLOSED",
        False,
        False,
        "CLOSED",
        _t(8),
    )
    orders = _orders(engine, ACCOUNT)
    assert (orders["O1"].open_problems, orders["O1"].next_deadline) == (1, _t(5, 12))
    assert (orders["O2"].problems, orders["O2"].refunded_total_value) == ("case,return", None)
    assert ("refund", "FIN-X1") not in _items(engine, ACCOUNT)


# ------------------------------------------------------------------------------------------
# End to end with the simulator
# ------------------------------------------------------------------------------------------

#: Whether the seller must act, per status the simulator produces (an unknown status fails the test).
SELLER_ACTS = {
    "inquiry": {"OPEN": True, "WAITING_BUYER_RESPONSE": False, "CLOSED": False, "CLOSED_WITH_ESCALATION": False},
    "case": {"OPEN": True, "WAITING_CS": False, "CLOSED": False},
    "dispute": {"OPEN": False, "ACTION_NEEDED": True, "CLOSED": False},
    "return": {"RETURN_REQUESTED": True, "ITEM_SHIPPED": False, "CLOSED": False, "ESCALATED": False},
    "refund": {},
}
FIRST_DAY, LAST_DAY = date(2026, 10, 11), date(2026, 10, 24)
FAMILIES = ("orders", "refunds", "disputes", "inquiries", "cases")


def _iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _value(obj: dict | None) -> str | None:
    return obj.get("value") if obj else None


def _truth(sim) -> dict[tuple[str, str], tuple[str | None, str, bool, datetime | None]]:
    """(type, id) -> (order id, status, seller must act, respond-by) of every problem the synced windows hold."""
    since = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) - timedelta(hours=1)
    until = min(sim.now, datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
    until -= timedelta(milliseconds=1)
    want: dict[tuple[str, str], tuple[str | None, str, bool, datetime | None]] = {}

    def add(kind: str, ident: str, order_id: str | None, status: str, respond_by: datetime | None) -> None:
        acts = SELLER_ACTS[kind][status] if kind != "refund" else False
        want[(kind, ident)] = (order_id, status, acts, respond_by)

    # Inquiries and cases name a line item, never their order (InquiryDetailsResponse, CaseDetailsResponse):
    # their order is the synced one whose line item has that legacyItemId and lineItemId (eBay's
    # TransactionID); one whose order the synced windows do not hold has none yet.
    order_of = {
        (li["legacyItemId"], li["lineItemId"]): o["orderId"]
        for o in sim.truth.orders(ACCOUNT, since, until)
        for li in o["lineItems"]
    }
    for i in sim.truth.inquiries(ACCOUNT, since, until):
        order_id = order_of.get((i["itemId"], i["transactionId"]))
        add("inquiry", i["inquiryId"], order_id, i["inquiryStatusEnum"], _iso(_value(i["respondByDate"])))
    for c in sim.truth.cases(ACCOUNT, since, until):
        order_id = order_of.get((c["itemId"], c["transactionId"]))
        add("case", c["caseId"], order_id, c["caseStatusEnum"], _iso(_value(c["respondByDate"])))
    for d in sim.truth.disputes(ACCOUNT, since, until):
        add("dispute", d["paymentDisputeId"], d["orderId"], d["paymentDisputeStatus"], _iso(d["respondByDate"]))
    for r in sim.truth.returns(ACCOUNT, since, until):
        due = (r.get("sellerResponseDue") or {}).get("respondByDate")
        add("return", r["returnId"], r["orderId"], r["state"], _iso(_value(due)))
    for t in sim.truth.finance_transactions(ACCOUNT, since, until, transaction_type="REFUND"):
        add("refund", f"FIN-{t['transactionId']}", t["orderId"], t["transactionStatus"], None)
    return want


def _sync(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    for family in FAMILIES:
        result = run_family_range(defs, instance, family, f"{ACCOUNT}|{FIRST_DAY}", f"{ACCOUNT}|{LAST_DAY}")
        assert result.success, family


def _build(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, Any]:
    """Materialize the grid of ACCOUNT; return each asset's materialization metadata."""
    job = dg.define_asset_job("grid", selection=[problem_orders], partitions_def=problem_orders.partitions_def)
    local = dg.Definitions(assets=defs.assets, jobs=[job], resources=defs.resources)
    result = local.get_job_def("grid").execute_in_process(instance=instance, partition_key=ACCOUNT)
    assert result.success
    out = {}
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    return out


def _assert_grid_matches(engine: sa.Engine, want: dict, metadata: dict[str, Any]) -> None:
    items = _items(engine, ACCOUNT)
    got = {k: (r.order_id, r.status, r.action_needed, r.respond_by) for k, r in items.items()}
    assert got == want
    orders = _orders(engine, ACCOUNT)
    by_order: dict[str, list[tuple[str, str]]] = {}
    for key, (order_id, *_rest) in want.items():
        if order_id is not None:  # a problem linked to no synced order is in no problem order
            by_order.setdefault(order_id, []).append(key)
    assert set(orders) == set(by_order)
    for order_id, keys in by_order.items():
        row = orders[order_id]
        acting = [want[k][3] for k in keys if want[k][2]]
        assert row.action_needed is bool(acting), order_id
        assert row.next_deadline == (min(d for d in acting if d is not None) if acting else None), order_id
        listed = {
            (p["type"], p["id"]): p["status"]
            for col in ("inquiries", "cases", "disputes", "returns", "refunds")
            for p in getattr(row, col)
        }
        assert listed == {k: want[k][1] for k in keys}, order_id
    items_meta = metadata["problem_order_items"]
    assert items_meta["rows"] == len(want) and metadata["problem_orders"]["rows"] == len(by_order)
    assert items_meta["action_needed"] == sum(1 for v in want.values() if v[2])
    assert items_meta["problems_by_type"] == {t: sum(1 for k in want if k[0] == t) for t in SELLER_ACTS}


class _Tick:
    """A schedule tick's outcome: run requests or a skip message."""

    def __init__(self, outcome: Any) -> None:
        self.run_requests = outcome if isinstance(outcome, list) else []
        self.skip_message = outcome.skip_message if isinstance(outcome, dg.SkipReason) else None


def _schedule_tick(instance: dg.DagsterInstance, database_url: str) -> _Tick:
    with dg.build_schedule_context(
        instance=instance,
        resources={"postgres": PostgresResource(database_url=database_url)},
        scheduled_execution_time=datetime(2026, 12, 1, 10, 40, tzinfo=UTC),
    ) as context:
        return _Tick(problem_orders_schedule(context))


@pytest.fixture
def setup(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    sim.set_now(datetime(2026, 10, 24, 18, tzinfo=UTC))
    register_account(engine, sim, ACCOUNT, dagster_instance)
    return fast_definitions(ebay_env), dagster_instance


def test_grid_follows_the_simulator_as_problems_change(setup, sim, ebay_env: str, engine: sa.Engine) -> None:
    defs, instance = setup
    assert [r.partition_key for r in _schedule_tick(instance, ebay_env).run_requests] == [ACCOUNT]

    before = _truth(sim)
    assert {k[0] for k in before} == set(SELLER_ACTS), "the simulated range holds every kind of problem"
    assert any(v[2] for v in before.values()), "some problem awaits the seller"
    _sync(defs, instance)
    _assert_grid_matches(engine, before, _build(defs, instance))
    tick = _schedule_tick(instance, ebay_env)
    assert not tick.run_requests and "nothing new" in (tick.skip_message or "")

    sim.advance(timedelta(days=3))
    after = _truth(sim)
    changed = [k for k in before if k in after and before[k][1] != after[k][1]]
    assert changed, "three days later some problems have a new status"
    _sync(defs, instance)
    assert [r.partition_key for r in _schedule_tick(instance, ebay_env).run_requests] == [ACCOUNT]
    _assert_grid_matches(engine, after, _build(defs, instance))
    assert not _schedule_tick(instance, ebay_env).run_requests
