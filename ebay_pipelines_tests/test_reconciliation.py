"""Payouts and sales reconcile on synced simulator data, and the checks go red on a corrupted row.

Days of orders, finance transactions and payouts are synced through the real fetch and write path
(simulator over HTTP -> client -> row functions -> PostgreSQL); the Dagster asset checks then judge
the stored rows (``ebay_pipelines.store.reconcile`` holds the equations and eBay's sources).
"""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, register_account, run_family_range

from ebay_pipelines.defs.partitions import range_label

ACCOUNT = "acct-1"
PAYOUT_CHECK = "payouts_match_transactions"
SALE_CHECK = "sales_match_orders"


def _sync(defs: dg.Definitions, instance: dg.DagsterInstance, family: str, first: date, last: date) -> None:
    result = run_family_range(defs, instance, family, range_label(ACCOUNT, first), range_label(ACCOUNT, last))
    assert result.success, family


def _checks(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, dg.AssetCheckEvaluation]:
    result = defs.resolve_job_def("ebay_quality_checks_job").execute_in_process(instance=instance)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _meta(evaluation: dg.AssetCheckEvaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}


@pytest.fixture
def synced(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    """Six weeks of orders and finance transactions, and the payouts of the last ten days of October."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    defs = fast_definitions(ebay_env)
    _sync(defs, dagster_instance, "orders", date(2026, 9, 10), date(2026, 11, 1))
    _sync(defs, dagster_instance, "finances", date(2026, 9, 20), date(2026, 11, 1))
    _sync(defs, dagster_instance, "payouts", date(2026, 10, 20), date(2026, 10, 31))
    return defs, dagster_instance


def _judged_payout(engine: sa.Engine) -> tuple[str, str]:
    """A payout whose transactions are all stored, and one SALE it pays out."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select p.payout_id, min(t.transaction_id) sale from ebay_payouts p "
                "join ebay_finances_transactions t on t.ebay_account_id = p.ebay_account_id "
                "and t.payout_id = p.payout_id "
                "group by p.payout_id, p.transaction_count "
                "having count(*) = p.transaction_count and count(*) filter (where t.transaction_type = 'SALE') > 0 "
                "order by p.payout_id limit 1"
            )
        ).one()
    return row.payout_id, row.sale


def test_checks_pass_on_synced_data(synced, engine: sa.Engine) -> None:
    """Finances Payout.amount / transactionCount against Transaction.bookingEntry and payoutId; a SALE against
    its order (production getTransactions SALE: amount = totalFeeBasisAmount - totalFeeAmount)."""
    defs, instance = synced
    checks = _checks(defs, instance)
    payouts, sales = checks[PAYOUT_CHECK], checks[SALE_CHECK]
    assert payouts.passed and sales.passed, (_meta(payouts), _meta(sales))
    with engine.connect() as conn:
        stored = conn.execute(sa.text("select count(*) from ebay_payouts")).scalar()
        sale_rows = conn.execute(
            sa.text("select count(*) from ebay_finances_transactions where transaction_type = 'SALE'")
        ).scalar()
    # Ten days of daily payouts; the oldest of their transactions may predate the synced finances.
    assert stored >= 10 and _meta(payouts)["rows_checked"] >= stored // 2
    assert _meta(payouts)["failures"] == 0
    assert 0 < _meta(sales)["rows_checked"] <= sale_rows and _meta(sales)["failures"] == 0
    spec = defs.resolve_asset_graph().get_check_spec(dg.AssetCheckKey(dg.AssetKey("ebay_payouts"), PAYOUT_CHECK))
    assert "transactionCount" in (spec.description or "")


def test_a_corrupted_payout_or_transaction_turns_the_payout_check_red(synced, engine: sa.Engine) -> None:
    """Payout.amount is the signed sum of its transactions (README "Wire facts: Fee credits")."""
    defs, instance = synced
    payout_id, sale_id = _judged_payout(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_payouts set amount_value = amount_value + 0.01 where payout_id = :p"), {"p": payout_id}
        )
    check = _checks(defs, instance)[PAYOUT_CHECK]
    assert not check.passed and _meta(check)["failures"] == 1
    assert payout_id in _meta(check)["examples"] and "off by 0.01" in _meta(check)["examples"]

    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_payouts set amount_value = amount_value - 0.01 where payout_id = :p"), {"p": payout_id}
        )
        conn.execute(
            sa.text("update ebay_finances_transactions set booking_entry = 'DEBIT' where transaction_id = :t"),
            {"t": sale_id},
        )
    check = _checks(defs, instance)[PAYOUT_CHECK]
    assert not check.passed and payout_id in _meta(check)["examples"]


def test_a_corrupted_sale_or_order_turns_the_sale_check_red(synced, engine: sa.Engine) -> None:
    """SALE amount = totalFeeBasisAmount - totalFeeAmount (production getTransactions), and the order's
    totalFeeBasisAmount (Fulfillment Order) is the sale's basis, with or without eBay-collected tax."""
    defs, instance = synced
    _, sale_id = _judged_payout(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_finances_transactions set amount_value = amount_value - 1 where transaction_id = :t"),
            {"t": sale_id},
        )
    checks = _checks(defs, instance)
    sale = checks[SALE_CHECK]
    assert not sale.passed and _meta(sale)["failures"] == 1 and sale_id in _meta(sale)["examples"]
    assert not checks[PAYOUT_CHECK].passed  # the payout no longer adds up either

    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_finances_transactions set amount_value = amount_value + 1 where transaction_id = :t"),
            {"t": sale_id},
        )
        order_id = conn.execute(
            sa.text("select order_id from ebay_finances_transactions where transaction_id = :t"), {"t": sale_id}
        ).scalar()
        conn.execute(
            sa.text(
                "update ebay_orders set total_fee_basis_amount_value = total_fee_basis_amount_value + 5 "
                "where order_id = :o"
            ),
            {"o": order_id},
        )
    checks = _checks(defs, instance)
    sale = checks[SALE_CHECK]
    assert checks[PAYOUT_CHECK].passed
    assert not sale.passed and _meta(sale)["failures"] == 1
    assert sale_id in _meta(sale)["examples"] and order_id in _meta(sale)["examples"]


def test_payout_rows_keep_status_instrument_and_count(ebay_env: str, sim, dagster_instance, engine: sa.Engine) -> None:
    """Finances Payout and PayoutInstrument fields land in their columns, each amount with its currency."""
    from datetime import UTC, datetime

    register_account(engine, sim, ACCOUNT, dagster_instance)
    defs = fast_definitions(ebay_env)
    _sync(defs, dagster_instance, "payouts", date(2026, 10, 25), date(2026, 11, 1))
    want = {
        p["payoutId"]: p
        for p in sim.truth.payouts(
            ACCOUNT, datetime(2026, 10, 24, 23, tzinfo=UTC), datetime(2026, 11, 1, 12, tzinfo=UTC)
        )
    }
    with engine.connect() as conn:
        rows = {r.payout_id: r for r in conn.execute(sa.text("select * from ebay_payouts"))}
    assert set(rows) == set(want) and {r.payout_status for r in rows.values()} == {"INITIATED", "SUCCEEDED"}
    for payout_id, p in want.items():
        row = rows[payout_id]
        assert (row.payout_status, row.payout_status_description) == (p["payoutStatus"], p["payoutStatusDescription"])
        assert (str(row.amount_value), row.amount_currency) == (p["amount"]["value"], p["amount"]["currency"])
        assert row.transaction_count == p["transactionCount"] and row.raw == p
        assert row.payout_date == datetime.fromisoformat(p["payoutDate"].replace("Z", "+00:00"))
        instrument = p["payoutInstrument"]
        assert (row.instrument_type, row.instrument_nickname, row.account_last_four_digits) == (
            instrument["instrumentType"],
            instrument["nickname"],
            instrument["accountLastFourDigits"],
        )
        assert row.total_fee_value is None and row.last_attempted_payout_date is None
