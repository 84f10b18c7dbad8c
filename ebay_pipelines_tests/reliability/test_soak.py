"""Chaos soak: every family of several accounts over several days, with eBay failing ~10% of calls.

The simulator answers about one call in ten (seeded) with a 429, a 5xx, a slow or dropped
connection, a rejected access token or (rarely) a truncated body; access tokens also expire
between runs. Runs are Dagster runs (``execute_in_process``) whose steps retry transient failures
through a RetryPolicy with a 0.05 s delay (the shipped policy waits 30 s); a partition still failing
after its step retries is run again as a new Dagster run, as an operator or a schedule would. One
partition fails on purpose every time, to prove a cursor never covers a window that did not land.

Afterwards each table must equal the simulator's truth for exactly the windows that landed (no
missing or extra rows, no duplicates, amounts exact), every ``ebay_worker_run`` row must be
completed or error, and each cursor must sit at the end of the newest landed window.

Size knobs (defaults finish in about a minute on 2 cores): ``EBAY_PIPELINES_SOAK_ACCOUNTS`` (2),
``EBAY_PIPELINES_SOAK_DAYS`` (3), ``EBAY_PIPELINES_SOAK_FAULT_RATE`` (0.10), ``EBAY_PIPELINES_SOAK_SEED``.
``EBAY_PIPELINES_SOAK_REPORT=path.json`` writes the figures to a file.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests_support import register_account, run_family

from ebay_pipelines.simulator import EbaySimulator, FaultRule, SimulatorConfig
from ebay_pipelines.sync.families import DATA_TABLES, FAMILIES_BY_NAME

from .support import (
    SNAPSHOT_FAMILIES,
    WINDOW_FAMILIES,
    compare,
    expected_for,
    parse_ts,
    retrying_definitions,
    step_retries,
    window_of,
)

ACCOUNTS = int(os.environ.get("EBAY_PIPELINES_SOAK_ACCOUNTS", "2"))
DAYS = int(os.environ.get("EBAY_PIPELINES_SOAK_DAYS", "3"))
FAULT_RATE = float(os.environ.get("EBAY_PIPELINES_SOAK_FAULT_RATE", "0.10"))
SEED = int(os.environ.get("EBAY_PIPELINES_SOAK_SEED", "2026"))
REPORT = os.environ.get("EBAY_PIPELINES_SOAK_REPORT")
NOW = datetime.fromisoformat("2026-11-01T12:00:00+00:00")
RERUNS = 4  # new Dagster runs for a partition whose step retries all failed
STEP_RETRIES = 3
POISONED_FAMILY = "orders"


@pytest.fixture
def sim():
    """The soak's own simulator (seeded by EBAY_PIPELINES_SOAK_SEED; faults draw from the same seed)."""
    simulator = EbaySimulator(SimulatorConfig(seed=SEED, now=NOW))
    simulator.start()
    yield simulator
    simulator.stop()


def add_chaos(sim: EbaySimulator, rate: float) -> None:
    """Faults on about ``rate`` of all calls, spread over every kind a real eBay shows."""
    share = rate / 8.0
    for kind in ("429", "500", "502", "503", "504", "drop", "expire_token"):
        sim.faults.add(FaultRule(kind=kind, probability=share, retry_after=0))
    sim.faults.add(FaultRule(kind="slow", probability=share, delay=0.2))  # slow, within the timeout
    sim.faults.add(FaultRule(kind="slow", probability=share / 4, delay=2.5))  # slower than the 2 s timeout
    sim.faults.add(FaultRule(kind="malformed", probability=share / 4))  # truncated body: a step retry


def test_chaos_soak_lands_every_window_exactly(
    ebay_env: str, sim: EbaySimulator, dagster_instance, engine: sa.Engine
) -> None:
    rng = random.Random(SEED)
    accounts = [f"soak-{i + 1}" for i in range(ACCOUNTS)]
    days = [NOW.date() - timedelta(days=i) for i in reversed(range(DAYS))]
    for account in accounts:
        register_account(engine, sim, account, dagster_instance)
    defs = retrying_definitions(
        ebay_env, max_retries=STEP_RETRIES, delay=0.05, retry_max_attempts=2, request_timeout_s=2.0
    )
    partitions: list[tuple[str, str, date | None]] = [
        (f, a, d) for d in days for a in accounts for f in WINDOW_FAMILIES
    ]
    partitions += [(f, a, None) for a in accounts for f in SNAPSHOT_FAMILIES]
    poisoned = (POISONED_FAMILY, accounts[0], days[-1])
    add_chaos(sim, FAULT_RATE)

    stats: Counter = Counter()
    landed: dict[tuple[str, str], set[date | None]] = defaultdict(set)
    for family, account, day in partitions:
        if rng.random() < 0.1:
            sim.expire_access_tokens(account)
            stats["access_tokens_expired"] += 1
        if (family, account, day) == poisoned:  # rules are tried in order: this one first
            sim.faults.clear()
            poison_rule = sim.faults.add(FaultRule(kind="503", endpoint="getOrders", account=account))
            add_chaos(sim, FAULT_RATE)
        for _ in range(RERUNS):
            result = run_family(defs, dagster_instance, family, account, day)
            stats["dagster_runs"] += 1
            stats["step_retries"] += step_retries(result)
            stats["attempts"] += 1 + step_retries(result)
            if result.success:
                landed[(family, account)].add(day)
                break
            stats["failed_runs"] += 1
        if (family, account, day) == poisoned:
            sim.faults.clear()
            add_chaos(sim, FAULT_RATE)
    sim.faults.clear()

    # Every partition landed except the poisoned one.
    missing = [(f, a, d) for f, a, d in partitions if d not in landed[(f, a)]]
    assert missing == [poisoned]

    # Tables equal the simulator's truth for the windows that landed.
    mismatches = []
    for family in FAMILIES_BY_NAME:
        for account in accounts:
            mismatches += compare(engine, account, expected_for(sim, family, account, landed[(family, account)]))
    assert mismatches == []

    with engine.connect() as conn:
        runs = conn.execute(
            sa.text(
                "select ebay_account_id a, api_family f, partition_key k, status, summary_json s from ebay_worker_run"
            )
        ).all()
        states = {(r.ebay_account_id, r.api_family): r for r in conn.execute(sa.text("select * from ebay_sync_state"))}
        rows = sum(conn.execute(sa.text(f"select count(*) from {t}")).scalar() for t in DATA_TABLES)
    statuses = Counter(r.status for r in runs)
    # One run row per attempt: each landed partition completed exactly once, every failed attempt is an error.
    assert set(statuses) <= {"completed", "error"}, statuses
    assert statuses["completed"] == len(partitions) - 1
    assert statuses["error"] == stats["attempts"] - statuses["completed"]
    completed_keys = Counter((r.a, r.f, r.k) for r in runs if r.status == "completed")
    assert max(completed_keys.values()) == 1

    # Cursors sit at the end of the newest landed window, never beyond it.
    for family in FAMILIES_BY_NAME:
        spec = FAMILIES_BY_NAME[family]
        for account in accounts:
            state = states[(account, family)]
            completed = [r for r in runs if r.a == account and r.f == family and r.status == "completed"]
            if spec.windowed and not landed[(family, account)]:
                assert state.cursor_value is None, (family, account)
            elif spec.windowed:
                newest = max(window_of(sim, family, d).end for d in landed[(family, account)])
                assert parse_ts(state.cursor_value) == newest, (family, account)
            else:
                assert parse_ts(state.cursor_value) == parse_ts(completed[0].s["window_to"])
    poisoned_state = states[(accounts[0], POISONED_FAMILY)]
    if DAYS > 1:
        assert parse_ts(poisoned_state.cursor_value) == window_of(sim, POISONED_FAMILY, days[-2]).end
    assert "getOrders" in poisoned_state.last_error

    figures = {
        "accounts": ACCOUNTS,
        "days": DAYS,
        "families": len(FAMILIES_BY_NAME),
        "partitions": len(partitions),
        "api_calls": sum(sim.calls.values()),
        "faults_injected": sum(sim.faults.fired.values()) - poison_rule.fired,
        "poisoned_partition_faults": poison_rule.fired,
        "faults_by_kind": dict(
            sum((Counter({k: v}) for (k, _), v in sim.faults.fired.items()), Counter())
            - Counter({"503": poison_rule.fired})
        ),
        "access_tokens_expired_between_runs": stats["access_tokens_expired"],
        "dagster_runs": stats["dagster_runs"],
        "dagster_step_retries": stats["step_retries"],
        "failed_dagster_runs_rerun": stats["failed_runs"],
        "worker_run_rows": dict(statuses),
        "rows": rows,
        "mismatches": len(mismatches),
    }
    fault_share = figures["faults_injected"] / figures["api_calls"]
    assert 0.5 * FAULT_RATE <= fault_share <= 1.5 * FAULT_RATE, figures
    assert figures["dagster_step_retries"] > 0, "the soak never exercised a Dagster step retry"
    print("soak figures:", json.dumps(figures, sort_keys=True))
    if REPORT:
        Path(REPORT).write_text(json.dumps(figures, indent=2, sort_keys=True))
