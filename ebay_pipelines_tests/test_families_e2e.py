"""Every api family end to end: simulator over HTTP -> Dagster materialization -> PostgreSQL.

Each family's partition is materialized in process on a real Dagster instance (PostgreSQL
storage) and its table is compared with what the simulator says a correct sync contains.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from tests_support import fast_definitions, materialization_metadata, register_account, run_family, run_family_range
from truth import SNAPSHOT_TRUTH, WINDOW_TRUTH, Expected, compare, merge

from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import day_window, days_window

ACCOUNT = "acct-1"
DAY = date(2026, 10, 30)


def _window(sim, family: str, day: date = DAY):
    return day_window(day, FAMILIES_BY_NAME[family].overlap, sim.now)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def expected(sim, family: str, day: date | None = DAY) -> Expected:
    """What the account's partition of ``family`` on ``day`` (or its snapshot) must hold."""
    if not FAMILIES_BY_NAME[family].windowed:
        return SNAPSHOT_TRUTH[family](sim, ACCOUNT)
    return WINDOW_TRUTH[family](sim, ACCOUNT, _window(sim, family, day or DAY))


def expected_orders(sim, day: date = DAY) -> Expected:
    return expected(sim, "orders", day)


def expected_refunds(sim, day: date = DAY) -> Expected:
    return expected(sim, "refunds", day)


FAMILY_NAMES = list(FAMILIES_BY_NAME)


def assert_matches(engine: sa.Engine, want: Expected) -> None:
    mismatches = compare(engine, ACCOUNT, want)
    assert not mismatches, mismatches[:10]


def _day_with_data(sim, family: str) -> date:
    """The latest day before DAY (inclusive) for which the simulator has records of ``family``."""
    for back in range(60):
        day = DAY - timedelta(days=back)
        if sum(len(v) for v in expected(sim, family, day).values()):
            return day
    raise AssertionError(f"the simulator produced no {family} data in 60 days")


@pytest.fixture
def setup(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    register_account(engine, sim, ACCOUNT, dagster_instance)
    return fast_definitions(ebay_env), dagster_instance


def counts(engine: sa.Engine, tables: tuple[str, ...]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"select count(*) from {t}")).scalar() for t in tables}


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_family_matches_the_simulator_and_reruns_cleanly(family: str, setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    spec = FAMILIES_BY_NAME[family]
    day = _day_with_data(sim, family) if spec.windowed else None
    want = expected(sim, family, day)

    first = run_family(defs, instance, family, ACCOUNT, day)
    assert first.success, first.all_events
    assert_matches(engine, want)

    metadata = materialization_metadata(first)
    assert set(metadata) == set(spec.tables)
    for table in spec.tables:
        md = metadata[table]
        assert md["rows_upserted"] == len(want[table])
        assert md["rows_inserted"] == len(want[table]) and md["rows_updated"] == 0
        assert md["api_calls"] >= 1 and md["pages"] >= 1 and md["duration_s"] >= 0
        assert md["account"] == ACCOUNT
        if spec.windowed:
            w = _window(sim, family, day)
            assert md["window_from"] == w.start.isoformat() and md["window_to"] == w.end.isoformat()

    before = counts(engine, spec.tables)
    second = run_family(defs, instance, family, ACCOUNT, day)
    assert second.success
    assert counts(engine, spec.tables) == before
    for table in spec.tables:
        md = materialization_metadata(second)[table]
        assert md["rows_inserted"] == 0 and md["rows_updated"] == 0
        assert md["rows_unchanged"] == len(want[table])
    assert_matches(engine, want)


def _order_state(engine: sa.Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select order_id, last_modified_date, order_fulfillment_status, total_value, "
                "raw->>'buyerCheckoutNotes' notes from ebay_orders"
            )
        ).all()
    return {r.order_id: tuple(r[1:]) for r in rows}


def test_order_changes_land_and_old_windows_never_overwrite_newer_rows(setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    old_day, new_day = date(2026, 10, 29), date(2026, 10, 30)
    assert run_family(defs, instance, "orders", ACCOUNT, new_day).success
    first = _order_state(engine)

    # Orders get modified "today": the partition of today picks the changes up.
    changed_at = datetime(2026, 11, 1, 11, 0, tzinfo=UTC)
    sim.modify_orders(ACCOUNT, fraction=0.5, at=changed_at)
    today = run_family(defs, instance, "orders", ACCOUNT, date(2026, 11, 1))
    assert today.success
    after = _order_state(engine)
    modified = [o for o in first if after[o][0] == changed_at]
    assert modified, "no order picked up the modification"
    assert all(after[o][0] > first[o][0] for o in modified)

    # Re-running the older windows re-fetches older versions only where eBay still reports them;
    # rows already holding newer data stay untouched.
    assert run_family(defs, instance, "orders", ACCOUNT, new_day).success
    assert run_family(defs, instance, "orders", ACCOUNT, old_day).success
    final = _order_state(engine)
    for order_id in modified:
        assert final[order_id] == after[order_id]
    truth = {o["orderId"]: o for o in sim.truth.orders(ACCOUNT, changed_at - timedelta(minutes=1), changed_at)}
    for order_id in modified:
        assert order_id in truth
        assert final[order_id][2] == _dec(truth[order_id]["pricingSummary"]["total"]["value"])


def test_compat_mirrors_after_a_successful_run(setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    result = run_family(defs, instance, "orders", ACCOUNT, DAY)
    assert result.success
    w = _window(sim, "orders", DAY)
    with engine.connect() as conn:
        run = conn.execute(sa.text("select * from ebay_worker_run where ebay_account_id = :a"), {"a": ACCOUNT}).one()
        state = conn.execute(
            sa.text("select * from ebay_sync_state where ebay_account_id = :a and api_family = 'orders'"),
            {"a": ACCOUNT},
        ).one()
        events = [
            r.event_type
            for r in conn.execute(
                sa.text("select event_type from ebay_api_worker_log where run_id = :r order by id"), {"r": run.id}
            )
        ]
    assert run.status == "completed" and run.api_family == "orders" and run.dagster_run_id == result.run_id
    assert run.finished_at >= run.started_at
    summary = run.summary_json
    assert summary["window_from"] == w.start.isoformat() and summary["window_to"] == w.end.isoformat()
    assert summary["total_fetched"] == len(expected_orders(sim)["ebay_orders"])
    assert summary["total_stored"] == summary["total_fetched"] + len(expected_orders(sim)["order_line_items"])
    assert summary["api_calls"] >= 2  # the token grant and at least one getOrders page
    assert state.cursor_value == w.end.isoformat() and state.last_error is None and state.last_run_at is not None
    assert events[0] == "start" and events[-1] == "done" and set(events[1:-1]) == {"page"}


def test_a_failing_run_leaves_no_rows_and_keeps_the_cursor(setup, sim, engine: sa.Engine) -> None:
    from ebay_pipelines.simulator import FaultRule

    defs, instance = setup
    assert run_family(defs, instance, "orders", ACCOUNT, date(2026, 10, 28)).success
    with engine.connect() as conn:
        cursor_before = conn.execute(
            sa.text("select cursor_value from ebay_sync_state where api_family='orders'")
        ).scalar()
        rows_before = conn.execute(sa.text("select count(*) from ebay_orders")).scalar()

    sim.faults.add(FaultRule(kind="500", endpoint="getOrders"))
    failed = run_family(defs, instance, "orders", ACCOUNT, DAY)
    assert not failed.success
    sim.faults.clear()
    with engine.connect() as conn:
        run = conn.execute(sa.text("select * from ebay_worker_run where partition_key like '%2026-10-30'")).one()
        state = conn.execute(sa.text("select * from ebay_sync_state where api_family='orders'")).one()
        rows_after = conn.execute(sa.text("select count(*) from ebay_orders")).scalar()
    assert run.status == "error" and "getOrders" in run.error_message
    assert state.cursor_value == cursor_before
    assert state.last_error and "\n" not in state.last_error and "getOrders" in state.last_error
    assert rows_after == rows_before
    assert materialization_metadata(failed) == {}

    # The retry lands the window exactly.
    assert run_family(defs, instance, "orders", ACCOUNT, DAY).success
    with engine.connect() as conn:
        state = conn.execute(sa.text("select * from ebay_sync_state where api_family='orders'")).one()
    assert state.last_error is None and state.cursor_value == _window(sim, "orders").end.isoformat()


def test_kill_switches_make_no_api_call(setup, sim, engine: sa.Engine) -> None:
    from ebay_pipelines.store import mirrors
    from ebay_pipelines.store.accounts import set_workers_enabled

    defs, instance = setup
    sim.reset_calls()
    set_workers_enabled(engine, False)
    result = run_family(defs, instance, "orders", ACCOUNT, DAY)
    assert result.success and materialization_metadata(result) == {}
    set_workers_enabled(engine, True)
    mirrors.set_family_enabled(engine, ACCOUNT, "finances", False)
    result = run_family(defs, instance, "finances", ACCOUNT, DAY)
    assert result.success and materialization_metadata(result) == {}
    assert sum(sim.calls.values()) == 0
    with engine.connect() as conn:
        runs = conn.execute(
            sa.text("select api_family, status, summary_json from ebay_worker_run order by started_at")
        ).all()
        data = conn.execute(
            sa.text("select (select count(*) from ebay_orders) + (select count(*) from ebay_finances_transactions)")
        ).scalar()
    assert [(r.api_family, r.status) for r in runs] == [("orders", "skipped"), ("finances", "skipped")]
    assert "disabled globally" in runs[0].summary_json["skipped"]
    assert "disabled for account acct-1" in runs[1].summary_json["skipped"]
    assert data == 0


WINDOW_FAMILIES = [name for name in FAMILY_NAMES if FAMILIES_BY_NAME[name].windowed]


@pytest.mark.parametrize("family", WINDOW_FAMILIES)
def test_a_range_run_syncs_consecutive_days_in_one_window(family: str, setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    spec = FAMILIES_BY_NAME[family]
    last = _day_with_data(sim, family)
    first = last - timedelta(days=6)
    days = [first + timedelta(days=i) for i in range(7)]
    # Every record of the 7 days (each day's window holds its own day plus the overlap before it).
    want = merge([expected(sim, family, day) for day in days])
    assert sum(len(rows) for rows in want.values()), f"the simulator produced no {family} data in 7 days"

    sim.reset_calls()
    result = run_family_range(defs, instance, family, f"{ACCOUNT}|{first}", f"{ACCOUNT}|{last}")
    assert result.success, result.all_events
    assert_matches(engine, want)

    # Dagster records every day partition as materialized, from one run and one eBay window.
    materialized: dict[str, set[str]] = {}
    for event in result.get_asset_materialization_events():
        materialized.setdefault(event.asset_key.to_user_string(), set()).add(event.partition)
    assert materialized == {table: {f"{ACCOUNT}|{day.isoformat()}" for day in days} for table in spec.tables}
    for table in spec.tables:
        assert materialized[table] <= instance.get_materialized_partitions(dg.AssetKey(table))
    w = days_window(first, last, spec.overlap, sim.now)
    with engine.connect() as conn:
        run = conn.execute(sa.text("select * from ebay_worker_run where api_family = :f"), {"f": family}).one()
        cursor = conn.execute(
            sa.text("select cursor_value from ebay_sync_state where api_family = :f"), {"f": family}
        ).scalar()
    assert run.status == "completed" and run.partition_key == f"{ACCOUNT}|{first}..{last}"
    assert run.summary_json["window_from"] == w.start.isoformat() and run.summary_json["window_to"] == w.end.isoformat()
    assert cursor == w.end.isoformat()
    # One search per endpoint for a week this small, where a run per day would spend 7.
    searches = {name: n for (_, name), n in sim.calls.items() if name in SEARCH_CALLS[family]}
    if family == "messages":  # one header search, then the bodies ten per GetMyMessages call
        assert searches == {"GetMyMessages": 1 + -(-len(want["ebay_messages"]) // 10)}
    else:
        assert searches and all(n == SEARCHES_PER_WINDOW[name] for name, n in searches.items()), searches


# The search (listing) calls of each window family: its windowed endpoints, as the simulator counts them.
SEARCH_CALLS = {
    spec.name: {endpoint.call for endpoint in spec.endpoints if endpoint.window is not None}
    for spec in FAMILIES_BY_NAME.values()
    if spec.windowed
}
# Searches one window of a small set costs: one, or one per search an endpoint makes (returns: open, then closed).
SEARCHES_PER_WINDOW = {
    endpoint.call: max(1, len(endpoint.variants)) for spec in FAMILIES_BY_NAME.values() for endpoint in spec.endpoints
}


def test_a_range_run_over_two_accounts_syncs_each_in_its_own_window(setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    register_account(engine, sim, "acct-2", instance)
    result = run_family_range(defs, instance, "orders", f"{ACCOUNT}|{DAY - timedelta(days=1)}", f"acct-2|{DAY}")
    assert result.success, result.all_events
    with engine.connect() as conn:
        runs = conn.execute(
            sa.text("select ebay_account_id, partition_key, status from ebay_worker_run order by 1")
        ).all()
        stored = dict(conn.execute(sa.text("select ebay_account_id, count(*) from ebay_orders group by 1")).all())
    label = f"{DAY - timedelta(days=1)}..{DAY}"
    assert [tuple(r) for r in runs] == [
        (ACCOUNT, f"{ACCOUNT}|{label}", "completed"),
        ("acct-2", f"acct-2|{label}", "completed"),
    ]
    w = days_window(DAY - timedelta(days=1), DAY, FAMILIES_BY_NAME["orders"].overlap, sim.now)
    for account in (ACCOUNT, "acct-2"):
        assert stored.get(account, 0) == len(sim.truth.orders(account, w.start, w.end)) > 0


def test_refunds_reuse_the_refund_transactions_the_finances_family_stored(setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    day = next(
        DAY - timedelta(days=back)
        for back in range(60)
        if any(k.startswith("FIN-") for k in expected_refunds(sim, DAY - timedelta(days=back))["ebay_refunds"])
    )
    earlier = day - timedelta(days=1)
    # Without a finances run covering the window, refunds asks Finances for REFUND transactions itself.
    sim.reset_calls()
    assert run_family(defs, instance, "refunds", ACCOUNT, earlier).success
    assert sim.calls[(ACCOUNT, "getTransactions")] >= 1
    assert_matches(engine, expected_refunds(sim, earlier))

    # Once the finances family synced the window, refunds reads them from ebay_finances_transactions.
    assert run_family(defs, instance, "finances", ACCOUNT, day).success
    sim.reset_calls()
    assert run_family(defs, instance, "refunds", ACCOUNT, day).success
    # Returns: the open search and the closed one (return_state=CLOSED; CountSummaryType, ReturnCountFilterEnum).
    assert sim.calls[(ACCOUNT, "getTransactions")] == 0 and sim.calls[(ACCOUNT, "searchReturns")] == 2
    assert_matches(engine, merge([expected_refunds(sim, earlier), expected_refunds(sim, day)]))


def test_problem_orders(setup, sim, engine: sa.Engine) -> None:
    import dagster as dg

    from ebay_pipelines.defs.problem_orders import problem_orders

    defs, instance = setup
    days = [date(2026, 10, 18) + timedelta(days=i) for i in range(14)]
    for family in ("orders", "refunds", "disputes", "inquiries", "cases"):
        assert run_family_range(defs, instance, family, f"{ACCOUNT}|{days[0]}", f"{ACCOUNT}|{days[-1]}").success
    job = dg.define_asset_job("po", selection=[problem_orders], partitions_def=problem_orders.partitions_def)
    local = dg.Definitions(assets=defs.assets, jobs=[job], resources=defs.resources)
    result = local.get_job_def("po").execute_in_process(instance=instance, partition_key=ACCOUNT)
    assert result.success

    since = datetime(2026, 10, 18, tzinfo=UTC) - timedelta(hours=1)
    until = datetime(2026, 11, 1, tzinfo=UTC)
    want: dict[str, set[str]] = {}
    for d in sim.truth.disputes(ACCOUNT, since, until):
        want.setdefault(d["orderId"], set()).add("dispute")
    for r in sim.truth.returns(ACCOUNT, since, until):
        want.setdefault(r["orderId"], set()).add("return")
    for t in sim.truth.finance_transactions(ACCOUNT, since, until, transaction_type="REFUND"):
        want.setdefault(t["orderId"], set()).add("refund")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select order_id, problems, inquiries, cases, disputes from problem_orders")).all()
    got = {r.order_id: set(r.problems.split(",")) for r in rows}
    assert len(rows) == len(got)
    for order_id, kinds in want.items():
        assert order_id in got and kinds <= got[order_id], (order_id, kinds, got.get(order_id))
    inquiries = sim.truth.inquiries(ACCOUNT, since, until)
    cases = sim.truth.cases(ACCOUNT, since, until)
    assert inquiries and cases
    assert sum("inquiry" in k for k in got.values()) >= 1 and sum("case" in k for k in got.values()) >= 1
    stored_inquiry_ids = {p["id"] for r in rows for p in r.inquiries}
    assert stored_inquiry_ids <= {i["inquiryId"] for i in inquiries}
