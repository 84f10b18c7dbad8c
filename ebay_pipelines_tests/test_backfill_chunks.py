"""The accounts sensor's initial backfill in runs of many accounts, through the real sensor and instance.

A run syncs one backfill task (a family's snapshot or range of days) for a chunk of accounts
contiguous in the account partitions' order (a range holds every account between its ends).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value
from tests_support import accounts_sensor_tick, fast_definitions, register_account
from truth import WINDOW_TRUTH, compare

from ebay_pipelines.defs import sensors
from ebay_pipelines.defs.partitions import (
    ACCOUNTS_PARTITION,
    account_partitions,
    next_period,
    period_start,
    window_partitions,
)
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.ebay.scopes import CONSENT_BASE, scope
from ebay_pipelines.settings import Settings
from ebay_pipelines.store.accounts import add_account
from ebay_pipelines.store.consent import store_consent
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import days_window

#: A backfill task as the runs name it: (family, first partition day or None, last partition day or None).
Task = tuple[str, str | None, str | None]

ALL_SCOPES = [
    *CONSENT_BASE,
    scope("sell.fulfillment.readonly"),
    scope("sell.inventory.readonly"),
    scope("sell.payment.dispute"),
    scope("sell.finances"),
]


@pytest.fixture
def postgres(project_env, database_url: str) -> PostgresResource:
    return PostgresResource(database_url=database_url)


_tick = accounts_sensor_tick


def _ticks(instance: dg.DagsterInstance, postgres: PostgresResource, cursor: str | None) -> tuple[list, str | None]:
    """Tick until a tick requests nothing: each tick's requests, and the last cursor."""
    ticks = []
    while True:
        result = _tick(instance, postgres, cursor)
        cursor = result.cursor
        if not result.run_requests:
            return ticks, cursor
        ticks.append(list(result.run_requests))
        assert len(ticks) < 100, "the backfill never finished"


def _run(request: dg.RunRequest) -> tuple[Task, list[str]]:
    """(task, accounts) of a backfill run request: the accounts read from its range, checked against its tags."""
    family = request.job_name.removeprefix("sync_").removesuffix("_job")
    tags = request.tags
    if request.partition_key is not None:
        account, _, day = request.partition_key.partition("|")
        assert tags["ebay/account"] == account and "ebay/accounts" not in tags
        return (family, day or None, day or None), [account]
    first, _, first_day = tags["dagster/asset_partition_range_start"].partition("|")
    last, _, last_day = tags["dagster/asset_partition_range_end"].partition("|")
    order = ORDER[first]
    accounts = order[order.index(first) : order.index(last) + 1]
    if len(accounts) > 1:
        assert tags["ebay/accounts"] == f"{first}..{last}" and tags["ebay/account_count"] == str(len(accounts))
        assert tags["ebay/account_family"] == f"{first}..{last}.{family}"
    else:
        assert tags["ebay/account"] == first
    label = first if len(accounts) == 1 else f"{first}..{last}"
    assert request.run_key == f"backfill:{label}:{family}:{first_day or 'snapshot'}:{last_day or ''}"
    assert tags["ebay/reason"] == "initial backfill"
    return (family, first_day or None, last_day or None), accounts


#: The account partitions' order of each test's accounts, by account (the tests' ids sort in that order).
ORDER: dict[str, list[str]] = {}


def _accounts(engine: sa.Engine, count: int) -> list[str]:
    """``count`` new accounts, registered in ``ebay_accounts`` (Dagster's storage outlives a test: fresh ids)."""
    prefix = f"b{uuid.uuid4().hex[:6]}"
    accounts = [f"{prefix}-{i:03d}" for i in range(count)]
    for account in accounts:
        add_account(engine, load_cipher(), account, "refresh-token")
        ORDER[account] = accounts
    return accounts


def _tasks() -> list[Task]:
    today = datetime.now(UTC).date()
    return [
        (name, first.isoformat() if first else None, last.isoformat() if last else None)
        for name, first, last in sensors.backfill_tasks(today)
    ]


def _lacking_finances(engine: sa.Engine, account: str) -> None:
    """The seller consented to every scope but ``sell.finances``."""
    store_consent(
        engine,
        load_cipher(),
        account,
        marketplace_id="EBAY_US",
        refresh_token="refresh-token",
        refresh_token_expires_at=None,
        scopes=[s for s in ALL_SCOPES if s != scope("sell.finances")],
        username=None,
        immutable_user_id=None,
    )


def test_120_new_accounts_backfill_in_chunks_of_50(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance, monkeypatch
) -> None:
    monkeypatch.setenv("EBAY_PIPELINES_ACCOUNTS_PER_RUN", "50")
    accounts = _accounts(engine, 120)
    ticks, cursor = _ticks(dagster_instance, postgres, None)
    assert list(dagster_instance.get_dynamic_partitions(ACCOUNTS_PARTITION))[-120:] == accounts

    runs_per_tick = Settings.from_env().backfill_runs_per_tick
    assert all(len(tick) <= runs_per_tick for tick in ticks) and len(ticks[0]) == runs_per_tick
    requests = [request for tick in ticks for request in tick]
    assert len({r.run_key for r in requests}) == len(requests)
    chunks: dict[Task, list[list[str]]] = defaultdict(list)
    for request in requests:
        task, chunk = _run(request)
        chunks[task].append(chunk)
    # Every task once for every account, in runs of 50, 50 and 20 accounts: 3 runs a task instead of 120.
    expected = [accounts[:50], accounts[50:100], accounts[100:]]
    assert set(chunks) == set(_tasks())
    assert all(sorted(runs) == expected for runs in chunks.values()), chunks
    assert len(requests) == 3 * len(_tasks())
    assert json.loads(cursor or "{}") == {"groups": [], "held": {}}


def test_an_account_added_later_starts_at_once_and_then_runs_with_its_neighbours(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance, monkeypatch
) -> None:
    monkeypatch.setenv("EBAY_PIPELINES_ACCOUNTS_PER_RUN", "4")
    monkeypatch.setenv("EBAY_PIPELINES_BACKFILL_RUNS_PER_TICK", "4")
    accounts = _accounts(engine, 7)
    late = accounts[-1]
    with engine.begin() as conn:
        conn.execute(sa.text("update ebay_accounts set enabled = false where ebay_account_id = :a"), {"a": late})
    first = _tick(dagster_instance, postgres, None)
    tasks = _tasks()
    a, b = accounts[:4], accounts[4:6]
    assert [_run(r) for r in first.run_requests] == [(tasks[0], a), (tasks[0], b), (tasks[1], a), (tasks[1], b)]

    # Enabled now: its first tasks come first, alone; caught up, it runs with the accounts before it.
    with engine.begin() as conn:
        conn.execute(sa.text("update ebay_accounts set enabled = true where ebay_account_id = :a"), {"a": late})
    second = _tick(dagster_instance, postgres, first.cursor)
    assert [_run(r) for r in second.run_requests] == [
        (tasks[0], [late]),
        (tasks[1], [late]),
        (tasks[2], a),
        (tasks[2], [*b, late]),
    ]
    ticks, _ = _ticks(dagster_instance, postgres, second.cursor)
    done: dict[str, list[Task]] = defaultdict(list)
    for request in [*first.run_requests, *second.run_requests, *(r for tick in ticks for r in tick)]:
        task, chunk = _run(request)
        for account in chunk:
            done[account].append(task)
    assert all(sorted(done[account], key=tasks.index) == tasks for account in accounts), done


def test_a_waiting_account_is_left_out_and_one_lacking_a_scope_is_held(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    accounts = _accounts(engine, 8)
    lacking, waiting = accounts[2], accounts[5]
    _lacking_finances(engine, lacking)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "update ebay_tokens set refresh_token_expires_at = now() - interval '1 minute' where ebay_account_id = :a"
            ),
            {"a": waiting},
        )
    ticks, cursor = _ticks(dagster_instance, postgres, None)
    chunks: dict[Task, list[list[str]]] = defaultdict(list)
    for request in (r for tick in ticks for r in tick):
        task, chunk = _run(request)
        chunks[task].append(chunk)
    assert set(chunks) == set(_tasks())
    a = accounts
    # The waiting account splits every task's chunk; the lacking one the chunks of the families it cannot sync.
    held_families = {task[0] for task, runs in chunks.items() if sorted(runs) == [a[:2], a[3:5], a[6:]]}
    assert {"finances", "payouts"} <= held_families and "orders" not in held_families
    assert all(sorted(chunks[t]) == [a[:5], a[6:]] for t in chunks if t[0] not in held_families), chunks
    state = json.loads(cursor or "{}")
    assert [group["accounts"] for group in state["groups"]] == [[waiting]] and state["groups"][0]["next"] == 0
    assert set(state["held"]) == {lacking} and set(state["held"][lacking]) == held_families

    # The seller grants the scope, the other re-authorizes: each backfills what it missed, alone.
    store_consent(
        engine,
        load_cipher(),
        lacking,
        marketplace_id="EBAY_US",
        refresh_token="refresh-token",
        refresh_token_expires_at=None,
        scopes=ALL_SCOPES,
        username=None,
        immutable_user_id=None,
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_tokens set refresh_token_expires_at = null where ebay_account_id = :a"), {"a": waiting}
        )
    ticks, cursor = _ticks(dagster_instance, postgres, cursor)
    done: dict[str, list[Task]] = defaultdict(list)
    for request in (r for tick in ticks for r in tick):
        task, chunk = _run(request)
        assert len(chunk) == 1
        done[chunk[0]].append(task)
    assert sorted(done[waiting]) == sorted(_tasks())
    assert sorted(done[lacking]) == sorted(t for t in _tasks() if t[0] in held_families)
    assert json.loads(cursor or "{}") == {"groups": [], "held": {}}


def test_a_cursor_of_one_state_per_account_still_loads_and_continues(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance, monkeypatch
) -> None:
    accounts = _accounts(engine, 3)
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, accounts)
    _lacking_finances(engine, accounts[2])
    today = datetime.now(UTC).date().isoformat()
    old = json.dumps(
        {
            "pending": {
                accounts[0]: {"start": today, "next": 3},
                accounts[1]: {"start": today, "next": 3},
                accounts[2]: {"start": today, "next": 4},
            },
            "held": {accounts[2]: ["finances"]},
        }
    )
    monkeypatch.setenv("EBAY_PIPELINES_BACKFILL_RUNS_PER_TICK", "1")
    tasks = _tasks()
    first = _tick(dagster_instance, postgres, old)
    assert [_run(r) for r in first.run_requests] == [(tasks[3], accounts[:2])]
    written = json.loads(first.cursor or "{}")
    assert "pending" not in written and written["held"] == {accounts[2]: ["finances"]}

    # Caught up, the first two run with the third (task 4 is the orders' newest range: no scope missing).
    ticks, cursor = _ticks(dagster_instance, postgres, first.cursor)
    requests = [r for tick in ticks for r in tick]
    assert tasks[4][0] == "orders" and _run(requests[0]) == (tasks[4], accounts)
    done: dict[str, list[Task]] = defaultdict(list)
    for request in [*first.run_requests, *requests]:
        task, chunk = _run(request)
        for account in chunk:
            done[account].append(task)
    assert done[accounts[0]] == done[accounts[1]] == tasks[3:]
    held = json.loads(cursor or "{}")["held"][accounts[2]]
    assert "finances" in held
    assert done[accounts[2]] == [t for t in tasks[4:] if t[0] not in held]


def _materialized(instance: dg.DagsterInstance, table: str, partitions_def: dg.PartitionsDefinition) -> set[str]:
    """The partitions of ``table`` Dagster shows materialized (its UI's partition status)."""
    value = get_and_update_asset_status_cache_value(instance, dg.AssetKey(table), partitions_def)
    assert value is not None
    with partition_loading_context(dynamic_partitions_store=instance):
        subset = value.deserialize_materialized_partition_subsets(partitions_def)
        return set(subset.get_partition_keys())


def test_grouped_backfill_runs_land_every_accounts_partitions(
    ebay_env: str, sim, engine: sa.Engine, dagster_instance: dg.DagsterInstance, monkeypatch
) -> None:
    """Three accounts backfilled in runs of two and one against the simulator: every partition lands, rows exact.

    Week partitions since a week before the simulator's clock keep the runs few and small.
    """
    today = datetime.now(UTC).date()
    start = date(2026, 10, 25)
    monkeypatch.setenv("EBAY_PIPELINES_START_DATE", start.isoformat())
    monkeypatch.setenv("EBAY_PIPELINES_PARTITION_GRAIN", "week")
    # One range run per family and chunk: every week since the start.
    monkeypatch.setenv("EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN", str(7 * ((today - start).days // 7 + 2)))
    monkeypatch.setenv("EBAY_PIPELINES_ACCOUNTS_PER_RUN", "2")
    prefix = f"e{uuid.uuid4().hex[:6]}"
    accounts = [f"{prefix}-{i}" for i in range(3)]
    for account in accounts:
        register_account(engine, sim, account)
        ORDER[account] = accounts
    defs = fast_definitions(ebay_env)
    postgres = PostgresResource(database_url=ebay_env)

    ticks, _ = _ticks(dagster_instance, postgres, None)
    requests = [r for tick in ticks for r in tick]
    assert sorted({tuple(_run(r)[1]) for r in requests}) == [tuple(accounts[:2]), (accounts[2],)]
    assert len(requests) == 2 * len(FAMILIES)
    for request in requests:
        assert request.job_name is not None
        result = defs.resolve_job_def(request.job_name).execute_in_process(
            instance=dagster_instance,
            partition_key=request.partition_key,
            tags=dict(request.tags),
            raise_on_error=False,
        )
        assert result.success, request.tags

    # Dagster shows every account's partitions of every table materialized.
    weeks, week = [], period_start("week", start)
    while week <= today:
        weeks.append(week)
        week = next_period("week", week)
    for spec in FAMILIES:
        if spec.windowed:
            assert spec.first_backfill_days > (today - start).days, spec.name
            want = {f"{a}|{w.isoformat()}" for a in accounts for w in weeks}
            partitions_def: dg.PartitionsDefinition = window_partitions(start, "week")
        else:
            want, partitions_def = set(accounts), account_partitions
        for table in spec.tables:
            materialized = _materialized(dagster_instance, table, partitions_def)
            assert {key for key in materialized if key.split("|")[0] in accounts} == want, (spec.name, table)
    # The orders of each account are exactly what eBay holds for the backfilled weeks.
    orders = FAMILIES_BY_NAME["orders"]
    window = days_window(weeks[0], today, orders.overlap, datetime.now(UTC))
    for account in accounts:
        truth = WINDOW_TRUTH["orders"](sim, account, window)
        assert truth["ebay_orders"], f"{account}: the simulator holds no orders in {window}"
        assert not compare(engine, account, truth), account
