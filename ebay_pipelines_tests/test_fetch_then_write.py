"""The asset makes every eBay call and stages the rows; the IO manager only merges (design.md §4)."""

from __future__ import annotations

import threading
from datetime import date

import dagster as dg
import pytest
import requests
import sqlalchemy as sa
from tests_support import fast_definitions, register_account, run_family

from ebay_pipelines.defs.io_manager import PostgresUpsertIOManager
from ebay_pipelines.simulator.faults import FaultRule
from ebay_pipelines.store import mirrors, staging
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME

ACCOUNT = "acct-1"
DAY = date(2026, 10, 30)


@pytest.fixture
def setup(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    register_account(engine, sim, ACCOUNT, dagster_instance)
    return fast_definitions(ebay_env), dagster_instance


def _stage_tables(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(sa.text("select tablename from pg_tables where tablename like 'ebay\\_stage\\_%'")).scalars()
        )


@pytest.mark.parametrize("family", [spec.name for spec in FAMILIES])
def test_no_ebay_request_is_made_from_handle_output(
    family: str, setup, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs, instance = setup
    writing = threading.local()
    requests_while_writing: list[str] = []
    requests_in_compute: list[str] = []
    send = requests.Session.send

    def recording_send(self: requests.Session, request: requests.PreparedRequest, **kwargs):
        (requests_while_writing if getattr(writing, "active", False) else requests_in_compute).append(request.url)
        return send(self, request, **kwargs)

    handle_output = PostgresUpsertIOManager.handle_output

    def flagged_handle_output(self: PostgresUpsertIOManager, context: dg.OutputContext, obj: object):
        # The handle holds data only: no client (nor anything holding one) crosses into the IO manager.
        for sync in obj if isinstance(obj, tuple) else ():
            assert not any(hasattr(value, "paginate") for value in vars(sync).values()), sync
        writing.active = True
        try:
            yield from handle_output(self, context, obj)  # a generator: events logged before a failure get out
        finally:
            writing.active = False

    monkeypatch.setattr(requests.Session, "send", recording_send)
    monkeypatch.setattr(PostgresUpsertIOManager, "handle_output", flagged_handle_output)
    result = run_family(defs, instance, family, ACCOUNT, DAY if FAMILIES_BY_NAME[family].windowed else None)
    assert result.success
    assert requests_in_compute, "the family made no eBay call at all"
    assert requests_while_writing == []
    with engine.connect() as conn:
        status = conn.execute(sa.text("select status from ebay_worker_run where api_family = :f"), {"f": family})
        assert status.scalars().all() == ["completed"]
    assert _stage_tables(engine) == []


def test_an_ebay_failure_fails_the_compute_step_with_its_typed_error(setup, sim, engine: sa.Engine) -> None:
    defs, instance = setup
    # An answer of the wrong shape is not transient: no retry, the step fails at once.
    sim.faults.add(FaultRule(kind="body", endpoint="getOrders", body='{"total": 1, "orders": "not a list"}'))
    result = run_family(defs, instance, "orders", ACCOUNT, DAY)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    error = failure.step_failure_data.error
    # A failure raised while handling an output would read "Error occurred while handling output ...".
    assert "handling output" not in error.message
    assert failure.step_failure_data.user_failure_data is not None
    assert failure.step_failure_data.user_failure_data.metadata["error_type"].value == "PayloadError"
    assert "getOrders" in failure.step_failure_data.user_failure_data.description
    assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.HANDLED_OUTPUT]
    with engine.connect() as conn:
        row = conn.execute(sa.text("select status, error_message from ebay_worker_run")).one()
        assert conn.execute(sa.text("select count(*) from ebay_orders")).scalar() == 0
    assert row.status == "error" and "PayloadError" in row.error_message
    assert _stage_tables(engine) == []


def test_a_run_killed_between_staging_and_merge_leaves_staging_that_the_sweep_drops(
    project_env, database_url: str, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    from ebay_pipelines.defs import sensors
    from ebay_pipelines.defs.resources import PostgresResource

    postgres = PostgresResource(database_url=database_url)

    dead = mirrors.start_run(engine, "shop-a", "orders", "r1", "shop-a|2026-10-30", {})
    alive = mirrors.start_run(engine, "shop-b", "orders", "r2", "shop-b|2026-10-30", {})
    dead_stages = staging.stage_names(dead.run_id, ["ebay_orders", "order_line_items"])
    alive_stages = staging.stage_names(alive.run_id, ["ebay_orders"])
    with engine.begin() as conn:
        staging.create_stages(conn, dead_stages, dead.run_id)
        staging.create_stages(conn, alive_stages, alive.run_id)
    mirrors.fail_run(engine, dead, "the process was killed")
    assert sorted(_stage_tables(engine)) == sorted([*dead_stages.values(), *alive_stages.values()])
    context = dg.build_sensor_context(instance=dagster_instance, resources={"postgres": postgres})
    result = sensors.ebay_stale_runs_sensor(context)
    assert "dropped 2 orphaned staging table(s)" in result.skip_message
    assert _stage_tables(engine) == list(alive_stages.values())
