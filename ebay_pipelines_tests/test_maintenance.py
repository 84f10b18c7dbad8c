"""Token refresh ahead of expiry, the account health asset, and manual runs in process."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from click.testing import CliRunner
from dagster_postgres.event_log import PostgresEventLogStorage
from tests_support import fast_definitions, register_account

from ebay_pipelines import settings
from ebay_pipelines.cli import main
from ebay_pipelines.simulator import FaultRule
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.store.tokens import DatabaseTokenStore
from ebay_pipelines.sync.maintenance import refresh_tokens


def test_refresh_tokens_renews_expiring_tokens_and_reports_revoked_accounts(
    ebay_env: str, sim, engine: sa.Engine
) -> None:
    for account in ("shop-a", "shop-b", "shop-c"):
        register_account(engine, sim, account)
    store = DatabaseTokenStore(engine, load_cipher())
    # shop-b holds a token that expires in 10 minutes: inside the 45-minute margin.
    soon = datetime.now(UTC) + timedelta(minutes=10)
    store.save_access_token("shop-b", "old-access-token", soon)
    sim.revoke("shop-c")
    sim.reset_calls()

    results = {r.account_id: r for r in refresh_tokens(engine)}
    assert results["shop-a"].ok and results["shop-b"].ok
    assert not results["shop-c"].ok and results["shop-c"].needs_reauthorization
    assert "shop-c must re-authorize" in results["shop-c"].error
    token_b, expires_b = store.load_access_token("shop-b")
    assert token_b != "old-access-token" and expires_b > soon + timedelta(minutes=30)
    assert sim.calls[("shop-a", "token")] + sim.calls[("shop-b", "token")] == 2
    with engine.connect() as conn:
        error = conn.execute(
            sa.text("select last_refresh_error from ebay_tokens where ebay_account_id='shop-c'")
        ).scalar()
    assert "re-authorize" in error

    # A second pass finds every valid token fresh enough and calls eBay for none of them.
    sim.reset_calls()
    again = {r.account_id: r for r in refresh_tokens(engine)}
    assert again["shop-a"].ok and again["shop-b"].ok
    assert sim.calls[("shop-a", "token")] == 0 and sim.calls[("shop-b", "token")] == 0


def _health(defs: dg.Definitions, instance: dg.DagsterInstance, account: str) -> tuple[dict, dg.AssetCheckEvaluation]:
    job = defs.resolve_job_def("ebay_health_job")
    result = job.execute_in_process(instance=instance, partition_key=account)
    assert result.success
    [mat] = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in mat.step_materialization_data.materialization.metadata.items()}
    [check] = result.get_asset_check_evaluations()
    return metadata, check


def test_health_asset_probes_every_api(
    ebay_env: str, sim, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    register_account(engine, sim, "shop-a", dagster_instance)
    defs = fast_definitions(ebay_env, retry_max_attempts=1)
    metadata, check = _health(defs, dagster_instance, "shop-a")
    assert metadata["healthy"] is True and check.passed
    probes = [k for k in metadata if "." in k]
    assert {
        "oauth.token",
        "fulfillment.getOrders",
        "finances.getTransactions",
        "inventory.getInventoryItems",
        "post-order.searchInquiries",
        "trading.GetMyMessages",
        "disputes.getPaymentDisputeSummaries",
    } <= set(probes)
    assert all(metadata[k].startswith("ok") for k in probes)

    sim.faults.add(FaultRule(kind="503", endpoint="getTransactions"))
    metadata, check = _health(defs, dagster_instance, "shop-a")
    assert metadata["healthy"] is False and not check.passed
    assert metadata["finances.getTransactions"].startswith("FAILED")
    assert metadata["fulfillment.getOrders"].startswith("ok")


def test_manual_run_in_process(ebay_env: str, sim, engine: sa.Engine, monkeypatch) -> None:
    # The command points this process at the instance's storage; monkeypatch undoes it afterwards.
    monkeypatch.setenv("EBAY_PIPELINES_DAGSTER_PG_URL", "set-by-the-command")
    register_account(engine, sim, "shop-a")
    result = CliRunner().invoke(
        main,
        ["run", "--account", "shop-a", "--api", "orders", "--day", "2026-10-30", "--in-process"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "via this process: completed" in result.output and "fetched" in result.output
    with engine.connect() as conn:
        run = conn.execute(sa.text("select status, partition_key from ebay_worker_run")).one()
        orders = conn.execute(sa.text("select count(*) from ebay_orders")).scalar()
    assert run.status == "completed" and run.partition_key == "shop-a|2026-10-30"
    truth = sim.truth.orders("shop-a", datetime(2026, 10, 29, 23, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    assert orders == len(truth) > 0

    # A range of days: one run, one eBay window, one run row; each table's three day materializations
    # go to Dagster's storage as one batch (Dagster's DAGSTER_EVENT_BATCH_SIZE, set for the run only).
    monkeypatch.delenv(settings.DAGSTER_EVENT_BATCH_ENV, raising=False)
    batches: list[list[tuple[str, str, str]]] = []
    store_batch = PostgresEventLogStorage.store_event_batch

    def recording(storage: PostgresEventLogStorage, events) -> None:
        batches.append(
            [
                (event.event_type_value, event.asset_key.path[-1], event.partition or "")
                for event in (e.get_dagster_event() for e in events)
            ]
        )
        store_batch(storage, events)

    monkeypatch.setattr(PostgresEventLogStorage, "store_event_batch", recording)
    ranged = CliRunner().invoke(
        main,
        [
            "run",
            "--account",
            "shop-a",
            "--api",
            "orders",
            "--day",
            "2026-10-27",
            "--to-day",
            "2026-10-29",
            "--in-process",
        ],
        catch_exceptions=False,
    )
    assert ranged.exit_code == 0, ranged.output
    assert "(shop-a|2026-10-27..2026-10-29) via this process: completed" in ranged.output
    days = [f"shop-a|2026-10-{d}" for d in (27, 28, 29)]
    planned = [
        ("ASSET_MATERIALIZATION_PLANNED", table, day) for table in ("ebay_orders", "order_line_items") for day in days
    ]
    stored = [[("ASSET_MATERIALIZATION", table, day) for day in days] for table in ("ebay_orders", "order_line_items")]
    assert sorted(sorted(batch) for batch in batches) == sorted([planned, *stored])
    assert settings.DAGSTER_EVENT_BATCH_ENV not in os.environ
    with engine.connect() as conn:
        runs = conn.execute(sa.text("select status, partition_key from ebay_worker_run order by started_at")).all()
        orders = conn.execute(sa.text("select count(*) from ebay_orders")).scalar()
    assert [tuple(r) for r in runs] == [
        ("completed", "shop-a|2026-10-30"),
        ("completed", "shop-a|2026-10-27..2026-10-29"),
    ]
    truth = sim.truth.orders("shop-a", datetime(2026, 10, 26, 23, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    assert orders == len(truth)
    backwards = CliRunner().invoke(
        main,
        [
            "run",
            "--account",
            "shop-a",
            "--api",
            "orders",
            "--day",
            "2026-10-29",
            "--to-day",
            "2026-10-27",
            "--in-process",
        ],
    )
    assert backwards.exit_code == 1 and "--to-day 2026-10-27 is before --day 2026-10-29" in backwards.output
    snapshot = CliRunner().invoke(
        main,
        [
            "run",
            "--account",
            "shop-a",
            "--api",
            "inventory",
            "--day",
            "2026-10-27",
            "--to-day",
            "2026-10-29",
            "--in-process",
        ],
    )
    assert snapshot.exit_code == 1 and "inventory is a snapshot family" in snapshot.output

    unknown = CliRunner().invoke(main, ["run", "--account", "nobody", "--api", "orders", "--in-process"])
    assert unknown.exit_code == 1 and "unknown account 'nobody'" in unknown.output
    bad_family = CliRunner().invoke(main, ["run", "--account", "shop-a", "--api", "shipping", "--in-process"])
    assert bad_family.exit_code == 1 and "unknown api family 'shipping'" in bad_family.output
