"""Runs that sync one family for many accounts: concurrency, failures kept per account, retries alone.

eBay facts relied on: getOrders answers 500 (errorId 30500) when it fails on its side
(README "getOrders" Errors: "500: 30500"), and a revoked refresh token is refused by the refresh
grant (README "Token refresh", https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value
from tests_support import fast_definitions, register_account
from truth import WINDOW_TRUTH, compare

from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION, window_partitions
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.defs.schedules import family_schedule_requests
from ebay_pipelines.defs.sensors import RETRY_OF_TAG, retry_requests
from ebay_pipelines.settings import Settings
from ebay_pipelines.simulator import FaultRule
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import day_window

DAY = date(2026, 10, 30)
# Dagster's test storage outlives a test: fresh account ids are new, contiguous partitions.
_RUN = uuid.uuid4().hex[:6]
ACCOUNTS = tuple(f"m{_RUN}-{i}" for i in range(1, 6))
STORMED, REVOKED = ACCOUNTS[1], ACCOUNTS[3]
LANDED = (ACCOUNTS[0], ACCOUNTS[2], ACCOUNTS[4])


def _expected(sim, account: str):
    window = day_window(DAY, FAMILIES_BY_NAME["orders"].overlap, sim.now)
    return WINDOW_TRUTH["orders"](sim, account, window)


def _execute(defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
    """Run a request in process, as the daemon would launch it."""
    assert request.job_name is not None
    return defs.resolve_job_def(request.job_name).execute_in_process(
        instance=instance, partition_key=request.partition_key, tags=dict(request.tags), raise_on_error=False
    )


def _range_request(first: str, last: str) -> dg.RunRequest:
    return dg.RunRequest(
        job_name="sync_orders_job",
        tags={
            "dagster/asset_partition_range_start": f"{first}|{DAY.isoformat()}",
            "dagster/asset_partition_range_end": f"{last}|{DAY.isoformat()}",
            "ebay/accounts": f"{first}..{last}",
        },
    )


def _partition_status(instance: dg.DagsterInstance, table: str) -> tuple[set[str], set[str]]:
    """Dagster's materialized and failed partitions of this test's accounts in a table (what its UI shows).

    The session's tests share one Dagster storage, so other tests' partitions are left out.
    """
    partitions_def = window_partitions(Settings.from_env().start_date)
    value = get_and_update_asset_status_cache_value(instance, dg.AssetKey(table), partitions_def)
    assert value is not None
    with partition_loading_context(dynamic_partitions_store=instance):
        materialized = set(value.deserialize_materialized_partition_subsets(partitions_def).get_partition_keys())
        failed = set(value.deserialize_failed_partition_subsets(partitions_def).get_partition_keys())
    ours = {key for key in materialized | failed if key.split("|", 1)[0] in ACCOUNTS}
    return materialized & ours, failed & ours


def _runs(engine: sa.Engine) -> dict[str, list[tuple[str, str | None]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select ebay_account_id, status, error_message from ebay_worker_run "
                "where api_family = 'orders' order by started_at"
            )
        ).all()
    out: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        out.setdefault(row.ebay_account_id, []).append((row.status, row.error_message))
    return out


def test_one_account_failing_lands_the_others_and_is_retried_alone(
    ebay_env: str, sim, dagster_instance: dg.DagsterInstance, engine: sa.Engine
) -> None:
    """A 500 storm on one account and a revoked token on another: the other three land exactly."""
    for account in ACCOUNTS:
        register_account(engine, sim, account, dagster_instance)
    defs = fast_definitions(ebay_env)
    sim.faults.add(FaultRule(kind="500", endpoint="getOrders", account=STORMED))
    sim.revoke(REVOKED)

    result = _execute(defs, dagster_instance, _range_request(ACCOUNTS[0], ACCOUNTS[-1]))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    assert failure is not None
    assert "2 of 5 accounts failed" in failure.message and STORMED in failure.message and REVOKED in failure.message
    assert not any(a in failure.message for a in LANDED)

    # Every other account landed exactly what eBay holds for the day.
    for account in LANDED:
        want = _expected(sim, account)
        assert sum(len(rows) for rows in want.values()), f"{account}: the simulator holds no orders that day"
        assert not compare(engine, account, want), account
    # Each failure sits on its own rows; the others' rows say completed.
    runs = _runs(engine)
    assert all(runs[a] == [("completed", None)] for a in LANDED), runs
    assert runs[STORMED][0][0] == "error" and "500" in (runs[STORMED][0][1] or "")
    assert runs[REVOKED][0][0] == "error" and "must re-authorize" in (runs[REVOKED][0][1] or "")
    with engine.connect() as conn:
        errors = dict(
            conn.execute(
                sa.text("select ebay_account_id, last_error from ebay_sync_state where api_family = 'orders'")
            ).all()
        )
    assert errors[STORMED] and errors[REVOKED] and not any(errors[a] for a in LANDED)

    # Dagster shows the landed account-days materialized and only the two failed ones failed.
    keys = {a: f"{a}|{DAY.isoformat()}" for a in ACCOUNTS}
    for table in FAMILIES_BY_NAME["orders"].tables:
        materialized, failed = _partition_status(dagster_instance, table)
        assert materialized == {keys[a] for a in LANDED}, table
        assert failed == {keys[STORMED], keys[REVOKED]}, table

    # The failure sensor retries the two failed accounts alone, one run each.
    run = dagster_instance.get_run_by_id(result.run_id)
    assert run is not None
    retries = retry_requests(engine, run)
    assert sorted(r.partition_key for r in retries) == [keys[STORMED], keys[REVOKED]]
    assert all(r.tags[RETRY_OF_TAG] == result.run_id for r in retries)

    # Once eBay recovers and the seller re-authorizes, the retries land them; nothing else is synced again.
    sim.faults.clear()
    register_account(engine, sim, REVOKED)
    for request in retries:
        assert _execute(defs, dagster_instance, request).success
    for account in ACCOUNTS:
        assert not compare(engine, account, _expected(sim, account)), account
    runs = _runs(engine)
    assert all(len(runs[a]) == 1 for a in LANDED), "a landed account was synced again"
    assert runs[STORMED][-1] == ("completed", None) and runs[REVOKED][-1] == ("completed", None)
    for table in FAMILIES_BY_NAME["orders"].tables:
        materialized, failed = _partition_status(dagster_instance, table)
        assert materialized == set(keys.values()) and not failed, table


def test_a_tick_requests_one_run_per_family_per_chunk_of_accounts(
    project_env, engine: sa.Engine, database_url: str, dagster_instance: dg.DagsterInstance
) -> None:
    from ebay_pipelines.store.accounts import add_account, set_account_enabled
    from ebay_pipelines.store.secrets import load_cipher

    prefix = f"s{uuid.uuid4().hex[:6]}"
    accounts = [f"{prefix}-{i:02d}" for i in range(7)]
    for account in accounts:
        add_account(engine, load_cipher(), account, "refresh-token")
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, accounts)
    set_account_enabled(engine, accounts[3], False)
    postgres = PostgresResource(database_url=database_url)
    tick = datetime(2026, 11, 20, 12, 15, tzinfo=UTC)
    order = list(dagster_instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
    assert order[-7:] == accounts
    for spec in FAMILIES:
        requests = family_schedule_requests(spec, postgres, order, tick, date(2026, 1, 1), "day", 2)
        assert isinstance(requests, list)
        # Two accounts a run; the disabled account splits the range (a range holds every account between its ends).
        spans = [(r.tags.get("ebay/accounts") or r.tags["ebay/account"]) for r in requests]
        a = accounts
        assert spans == [f"{a[0]}..{a[1]}", a[2], f"{a[4]}..{a[5]}", a[6]], spec.name
        assert all(r.job_name == f"sync_{spec.name}_job" for r in requests)
        assert len({r.run_key for r in requests}) == len(requests)


def _account_spans(engine: sa.Engine) -> list[tuple[datetime, datetime]]:
    """Each account's first and last page event of the orders family: when it was fetching."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select ebay_account_id, min(created_at) as first, max(created_at) as last from ebay_api_worker_log "
                "where api_family = 'orders' and event_type in ('start', 'page') group by ebay_account_id"
            )
        ).all()
    return [(r.first, r.last) for r in rows]


@pytest.mark.parametrize("threads", [1, 4])
def test_accounts_of_a_run_are_fetched_at_once(
    threads: int, ebay_env: str, sim, dagster_instance: dg.DagsterInstance, engine: sa.Engine, monkeypatch
) -> None:
    """With slow eBay answers, four accounts are fetched at the same time; one thread fetches them in turn."""
    monkeypatch.setenv("EBAY_PIPELINES_ACCOUNT_THREADS", str(threads))
    accounts = tuple(f"c{uuid.uuid4().hex[:6]}-{i}" for i in range(4))
    for account in accounts:
        register_account(engine, sim, account, dagster_instance)
    sim.faults.add(FaultRule(kind="slow", endpoint="getOrders", delay=0.4))
    defs = fast_definitions(ebay_env)
    result = _execute(defs, dagster_instance, _range_request(accounts[0], accounts[-1]))
    assert result.success
    for account in accounts:
        assert not compare(engine, account, _expected(sim, account)), account
    spans = _account_spans(engine)
    assert len(spans) == len(accounts)
    # Overlap: every account started fetching before any finished; in turn: each started after the previous ended.
    latest_start = max(first for first, _ in spans)
    earliest_end = min(last for _, last in spans)
    ordered = sorted(spans)
    in_turn = all(ordered[i][1] <= ordered[i + 1][0] for i in range(len(ordered) - 1))
    if threads > 1:
        assert latest_start < earliest_end, spans
    else:
        assert in_turn, spans
