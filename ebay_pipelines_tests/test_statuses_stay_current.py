"""A simulated week of the project's own schedules keeps every record current.

After an initial 30-day sync, the schedules of every family searched by a date that never moves
(creation, open, transaction or receive date) are evaluated at each of their ticks for a
simulated week through ``build_schedule_context`` and each run request is executed in process
(:mod:`ebay_pipelines.rehearsal`), while the simulator's problems, funds and message flags move
on its clock. Every afternoon, after the tick, the stored status of each problem equals eBay's at that moment
(open problems are re-read every tick); at the end, after the day's first tick, every table
equals a fresh full sync of the same days at the same simulated moment, bookkeeping aside. The
problem grid's own schedule rebuilds it ten minutes after the afternoon tick with those statuses.

Sources of the changes the simulator plays: Post-Order InquiryStatusEnum, CaseStatusEnum and
ReturnStateEnum, Fulfillment DisputeStateEnum, Finances TransactionStatusEnum, Trading
MyMessagesMessageType (Read, Flagged, Replied).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from conftest import create_database, drop_database
from tests_support import fast_definitions, register_account, run_family_range

from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.rehearsal import Rehearsal, rehearse
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.tables import metadata
from ebay_pipelines.sync.families import FAMILIES, FAMILY_OF_TABLE

ACCOUNT = "acct-1"
#: The families whose eBay filter never moves: the ones a refresh keeps current.
REFRESHED = [spec for spec in FAMILIES if spec.refresh is not None]
START = datetime(2026, 11, 1, tzinfo=UTC)
FIRST_DAY = START.date() - timedelta(days=30)
WEEK = timedelta(days=7)
#: Columns that say when we stored a row, not what eBay holds.
BOOKKEEPING = {"synced_at", "source_updated_at"}


@pytest.fixture
def sim() -> Iterator[Any]:
    """A simulator busy enough that problems, funds and flags change every day of the week."""
    from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

    simulator = EbaySimulator(
        SimulatorConfig(
            seed=23,
            now=START,
            orders_per_day=30,
            messages_per_day=8,
            inquiry_rate=0.12,
            case_rate=0.06,
            dispute_rate=0.08,
            return_rate=0.1,
        )
    )
    simulator.start()
    yield simulator
    simulator.stop()


def _initial_sync(defs: dg.Definitions, instance: dg.DagsterInstance, last_day: date) -> None:
    for spec in REFRESHED:
        result = run_family_range(defs, instance, spec.name, f"{ACCOUNT}|{FIRST_DAY}", f"{ACCOUNT}|{last_day}")
        assert result.success, spec.name


def _rows(engine: sa.Engine, table: str) -> dict[tuple, dict[str, Any]]:
    """Rows of ``table`` by primary key, bookkeeping left out."""
    t = metadata.tables[table]
    key = [c.name for c in t.primary_key.columns]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(*[t.c[k] for k in key])).mappings().all()
    return {tuple(r[k] for k in key): {c: v for c, v in r.items() if c not in BOOKKEEPING} for r in rows}


def _covered_since(table: str, tick: datetime) -> datetime:
    """Where the stored days of ``table`` begin at ``tick``: the initial sync's, or the first daily sweep's."""
    spec = FAMILY_OF_TABLE[table]
    refresh = spec.refresh
    assert refresh is not None
    first = FIRST_DAY
    if tick.date() > START.date():
        first = min(first, START.date() + timedelta(days=1) - timedelta(days=refresh.days))
    return datetime.combine(first, datetime.min.time(), tzinfo=UTC) - spec.overlap


def _problem_statuses(sim: Any, now: datetime) -> dict[str, dict[str, str]]:
    """eBay's current status of every problem created in the stored days, by table."""
    truth = sim.truth

    def span(table: str) -> tuple[str, datetime, datetime]:
        return ACCOUNT, _covered_since(table, now), now

    return {
        "ebay_inquiries": {i["inquiryId"]: i["inquiryStatusEnum"] for i in truth.inquiries(*span("ebay_inquiries"))},
        "ebay_cases": {c["caseId"]: c["caseStatusEnum"] for c in truth.cases(*span("ebay_cases"))},
        "ebay_disputes": {
            d["paymentDisputeId"]: d["paymentDisputeStatus"] for d in truth.dispute_summaries(*span("ebay_disputes"))
        },
        "ebay_refunds": {
            f"RET-{r['returnId']}": r.get("status") or r["state"] for r in truth.returns(*span("ebay_refunds"))
        },
    }


def _stored_statuses(engine: sa.Engine) -> dict[str, dict[str, str]]:
    queries = {
        "ebay_inquiries": "select inquiry_id, inquiry_status from ebay_inquiries",
        "ebay_cases": "select case_id, case_status from ebay_cases",
        "ebay_disputes": "select payment_dispute_id, payment_dispute_status from ebay_disputes",
        "ebay_refunds": "select refund_id, refund_status from ebay_refunds where refund_source = 'return'",
    }
    with engine.connect() as conn:
        return {table: dict(conn.execute(sa.text(sql)).tuples().all()) for table, sql in queries.items()}


# About 1,700 schedule ticks and runs, each through Dagster: minutes, not seconds.
@pytest.mark.timeout(1500)
def _as_grid(statuses: dict[str, dict[str, str]]) -> dict[tuple[str, str], str]:
    kinds = {"ebay_inquiries": "inquiry", "ebay_cases": "case", "ebay_disputes": "dispute", "ebay_refunds": "return"}
    return {
        (kinds[table], ident.removeprefix("RET-")): status
        for table, found in statuses.items()
        for ident, status in found.items()
    }


def _grid_statuses(engine: sa.Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("select problem_type, problem_id, status from problem_order_items where problem_type <> 'refund'")
        ).all()
    return {(r.problem_type, r.problem_id): r.status for r in rows}


def test_a_week_of_schedules_keeps_every_record_current(
    sim: Any,
    ebay_env: str,
    engine: sa.Engine,
    dagster_instance: dg.DagsterInstance,
    pg_server_url: str,
    template_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Open problems hourly instead of every 30 minutes: half the runs, and each tick must still land them.
    monkeypatch.setenv("EBAY_PIPELINES_OPEN_REFRESH_MINUTES", "60")
    # Schedules tick on a persistent instance; runs execute on an ephemeral one (same partitions).
    instance = dg.DagsterInstance.ephemeral()
    register_account(engine, sim, ACCOUNT, instance)
    dagster_instance.add_dynamic_partitions("ebay_accounts", [ACCOUNT])
    defs = fast_definitions(ebay_env)
    _initial_sync(defs, instance, START.date())
    first = _stored_statuses(engine)
    assert all(first.values()), "the initial sync holds problems of every kind"

    checked: list[datetime] = []
    grids: list[datetime] = []
    changed: dict[str, int] = dict.fromkeys(first, 0)
    afternoon: dict[str, dict[str, str]] = {}

    def afternoon_check(tick: datetime, progress: Rehearsal) -> None:
        if progress.failed:
            return
        if (tick.hour, tick.minute) == (14, 0):
            want, got = _problem_statuses(sim, tick), _stored_statuses(engine)
            for table in want:
                assert got[table] == want[table], f"{table} at {tick.isoformat()}"
                changed[table] += sum(1 for k, v in want[table].items() if k in first[table] and first[table][k] != v)
            afternoon.clear()
            afternoon.update(want)
            checked.append(tick)
        elif (tick.hour, tick.minute) == (14, 10) and afternoon:
            # The grid's scheduled rebuild ten minutes later shows every problem with that status.
            assert _grid_statuses(engine) == _as_grid(afternoon), f"problem grid at {tick.isoformat()}"
            grids.append(tick)

    end = START + WEEK + timedelta(minutes=1)
    week = rehearse(
        defs,
        dagster_instance,
        {"postgres": PostgresResource(database_url=ebay_env)},
        [*(f"sync_{spec.name}_schedule" for spec in REFRESHED), "problem_orders_schedule"],
        START + timedelta(minutes=1),
        end,
        sim.set_now,
        after_tick=afternoon_check,
        run_instance=instance,
    )
    assert not week.failed, week.failed[:5]
    assert len(checked) == 7 and len(grids) == 7
    assert all(changed.values()), f"some problems of every kind changed status during the week: {changed}"
    reasons = {run.reason for run in week.runs}
    assert {"schedule", "open records refresh", "daily refresh"} <= reasons

    # A fresh full sync of the same days, at the same simulated moment, in a database of its own.
    name = f"fresh_{template_database}"[:60]
    fresh_url = create_database(pg_server_url, name, template=template_database)
    fresh = make_engine(fresh_url)
    try:
        fresh_instance = dg.DagsterInstance.ephemeral()
        register_account(fresh, sim, ACCOUNT, fresh_instance)
        fresh_defs = fast_definitions(fresh_url)
        last = (START + WEEK).date()
        for spec in REFRESHED:
            first = (_covered_since(spec.tables[0], START + WEEK) + spec.overlap).date()
            result = run_family_range(fresh_defs, fresh_instance, spec.name, f"{ACCOUNT}|{first}", f"{ACCOUNT}|{last}")
            assert result.success, spec.name
        for spec in REFRESHED:
            for table in spec.tables:
                scheduled, full = _rows(engine, table), _rows(fresh, table)
                assert full, f"{table}: the fresh sync holds rows"
                missing = sorted(set(full) - set(scheduled))[:5]
                extra = sorted(set(scheduled) - set(full))[:5]
                assert not missing and not extra, f"{table}: missing {missing}, extra {extra}"
                differ = [k for k in full if full[k] != scheduled[k]]
                assert not differ, (
                    f"{table}: {len(differ)} of {len(full)} rows differ, e.g. {differ[0]}: "
                    f"{ {c: (scheduled[differ[0]][c], v) for c, v in full[differ[0]].items() if scheduled[differ[0]][c] != v} }"
                )
    finally:
        fresh.dispose()
        drop_database(pg_server_url, name)
