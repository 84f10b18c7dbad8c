"""Sensors, schedules, the run-failure mirror and asset checks on a real Dagster instance."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa
from tests_support import accounts_sensor_tick, fast_definitions, register_account, run_family

from ebay_pipelines.defs import sensors
from ebay_pipelines.defs.checks import QUALITY_CHECKS
from ebay_pipelines.defs.jobs import build_family_jobs
from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION
from ebay_pipelines.defs.requests import ACCOUNT_FAMILY_TAG, ACCOUNT_TAG
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.defs.schedules import build_family_schedules
from ebay_pipelines.settings import Settings, SettingsError
from ebay_pipelines.store import mirrors
from ebay_pipelines.store.accounts import add_account, set_account_enabled, set_workers_enabled
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.store.tables import ebay_inquiries, ebay_refunds
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME

WINDOW_FAMILIES = [s for s in FAMILIES if s.windowed]
SNAPSHOT_FAMILIES = [s for s in FAMILIES if not s.windowed]


_tick = accounts_sensor_tick


@pytest.fixture
def postgres(project_env, database_url: str) -> PostgresResource:
    return PostgresResource(database_url=database_url)


def test_account_sensor_adds_partitions_and_backfills_90_days_in_bounded_ticks(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    cipher = load_cipher()
    for account in ("shop-a", "shop-b", "shop-off"):
        add_account(engine, cipher, account, "refresh-token")
    set_account_enabled(engine, "shop-off", False)
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, ["gone-shop"])

    first = _tick(dagster_instance, postgres, None)
    partitions = set(dagster_instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
    assert {"shop-a", "shop-b"} <= partitions
    assert "shop-off" not in partitions and "gone-shop" not in partitions

    requested = list(first.run_requests or [])
    cursor = first.cursor
    ticks = 1
    while True:
        result = _tick(dagster_instance, postgres, cursor)
        assert len(result.run_requests or []) <= Settings.from_env().backfill_runs_per_tick
        cursor = result.cursor
        ticks += 1
        if not result.run_requests:
            break
        requested.extend(result.run_requests)
        assert ticks < 200, "the backfill never finished"
    assert len(first.run_requests) == Settings.from_env().backfill_runs_per_tick
    assert ticks > 2, "the backfill was not spread over several ticks"

    today = datetime.now(UTC).date()
    days_per_run = Settings.from_env().backfill_days_per_run
    seen: dict[tuple[str, str], set] = defaultdict(set)
    per_account_family: dict[tuple[str, str], int] = defaultdict(int)
    keys = [r.run_key for r in requested]
    assert len(keys) == len(set(keys))
    for request in requested:
        # Accounts added together backfill together: each run syncs one task of both.
        assert _accounts_of(request) == ["shop-a", "shop-b"], request.tags
        family = request.job_name.removeprefix("sync_").removesuffix("_job")
        assert request.tags[ACCOUNT_FAMILY_TAG] == f"shop-a..shop-b.{family}"
        keys_of_request = _requested_keys(request)
        for account in ("shop-a", "shop-b"):
            own = {key for key in keys_of_request if key.split("|")[0] == account}
            assert own and len(own) <= days_per_run
            assert not own & seen[(account, family)], "a day was requested twice"
            seen[(account, family)] |= own
            per_account_family[(account, family)] += 1
    for account in ("shop-a", "shop-b"):
        for spec in WINDOW_FAMILIES:
            expected = {f"{account}|{(today - timedelta(days=d)).isoformat()}" for d in range(spec.first_backfill_days)}
            assert seen[(account, spec.name)] == expected, spec.name
        for spec in SNAPSHOT_FAMILIES:
            assert seen[(account, spec.name)] == {account}
    assert not any(account == "shop-off" for account, _ in seen)
    # Each window family's 90 days come in a few range runs (one eBay window each), not 90 runs.
    for spec in WINDOW_FAMILIES:
        assert per_account_family[("shop-a", spec.name)] == -(-spec.first_backfill_days // days_per_run)
    # The newest days of every family are requested before any older day.
    first_batch = [r for r in requested[: len(FAMILIES)] if r.job_name == "sync_orders_job"]
    assert first_batch and f"shop-a|{today.isoformat()}" in _requested_keys(first_batch[0])

    # A deleted account's partition is removed on the next tick; nothing is requested for it.
    with engine.begin() as conn:
        conn.execute(sa.text("delete from ebay_accounts where ebay_account_id = 'shop-b'"))
    result = _tick(dagster_instance, postgres, cursor)
    assert "shop-b" not in set(dagster_instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
    assert not result.run_requests


def _requested_keys(request: dg.RunRequest, order: tuple[str, ...] = ("shop-a", "shop-b")) -> set[str]:
    """The partition keys a run request names: its key, or every key of its range (accounts in ``order`` × days)."""
    if request.partition_key is not None:
        return {request.partition_key}
    key_range = request.partition_key_range
    assert key_range is not None, request
    account, _, first = key_range.start.partition("|")
    account_end, _, last = key_range.end.partition("|")
    accounts = order[order.index(account) : order.index(account_end) + 1]
    if not first:
        return set(accounts)
    day, days = date.fromisoformat(first), set()
    while day <= date.fromisoformat(last):
        days |= {f"{a}|{day.isoformat()}" for a in accounts}
        day += timedelta(days=1)
    return days


def _family_schedules() -> list[dg.ScheduleDefinition]:
    settings = Settings.from_env()
    return build_family_schedules(build_family_jobs(settings), settings)


def _schedule(name: str) -> dg.ScheduleDefinition:
    return next(s for s in _family_schedules() if s.name == f"sync_{name}_schedule")


ORDER = ("shop-a", "shop-b", "shop-c")


def _accounts_of(request: dg.RunRequest, order: tuple[str, ...] = ORDER) -> list[str]:
    """The accounts a request syncs: its partition's, or those of its range's rectangle in partition order."""
    if request.partition_key is not None:
        return [request.partition_key.split("|")[0]]
    first = request.tags["dagster/asset_partition_range_start"].split("|")[0]
    last = request.tags["dagster/asset_partition_range_end"].split("|")[0]
    return list(order[order.index(first) : order.index(last) + 1])


def _refresh_of(request: dg.RunRequest) -> tuple[str | None, str | None, str]:
    """(partition, first day of its window when a refresh reaches back, reason) of a one-account run request."""
    (row,) = _per_account([request])
    return row


def _per_account(requests: list[dg.RunRequest]) -> list[tuple[str | None, str | None, str]]:
    """(account's partition, first day of its window when it reaches back, reason) per account of the requests."""
    from ebay_pipelines.defs.partitions import window_from_tag

    rows = []
    for request in requests:
        tags = request.tags
        day = (request.partition_key or tags["dagster/asset_partition_range_start"]).partition("|")[2]
        for account in _accounts_of(request):
            reach = window_from_tag(tags, "ebay/window_from", account) or window_from_tag(
                tags, "ebay/open_from", account
            )
            rows.append(
                (f"{account}|{day}" if day else account, reach.isoformat() if reach else None, tags["ebay/reason"])
            )
    return sorted(rows)


def _range_of(request: dg.RunRequest) -> tuple[str, str, str]:
    """(first, last partition, reason) of a range run request."""
    tags = request.tags
    return (
        tags["dagster/asset_partition_range_start"],
        tags["dagster/asset_partition_range_end"],
        tags["ebay/reason"],
    )


class _Tick:
    """A schedule tick's outcome: run requests or a skip message."""

    def __init__(self, outcome) -> None:
        self.run_requests = outcome if isinstance(outcome, list) else []
        self.skip_message = outcome.skip_message if isinstance(outcome, dg.SkipReason) else None


def _evaluate(
    schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, postgres: PostgresResource, when: datetime
):
    # Exit the context: its instance (opened from a ref) otherwise stays Dagster's current one after it is gone.
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources={"postgres": postgres}
    ) as context:
        return _Tick(schedule(context))


def test_schedules_request_the_latest_window_per_enabled_account(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    cipher = load_cipher()
    for account in ("shop-a", "shop-b", "shop-c"):
        add_account(engine, cipher, account, "refresh-token")
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, ["shop-a", "shop-b", "shop-c"])
    set_account_enabled(engine, "shop-c", False)
    mirrors.set_family_enabled(engine, "shop-b", "orders", False)

    noon = datetime(2026, 11, 20, 12, 15, tzinfo=UTC)
    data = _evaluate(_schedule("orders"), dagster_instance, postgres, noon)
    keys = sorted(r.partition_key for r in data.run_requests)
    assert keys == ["shop-a|2026-11-20"]
    assert data.run_requests[0].tags[ACCOUNT_FAMILY_TAG] == "shop-a.orders"

    snapshot = _evaluate(_schedule("offers"), dagster_instance, postgres, noon)
    # One run syncs the family for both accounts (contiguous partitions).
    assert [_accounts_of(r) for r in snapshot.run_requests] == [["shop-a", "shop-b"]]
    assert snapshot.run_requests[0].tags["ebay/accounts"] == "shop-a..shop-b"

    # The day's first tick re-reads more: orders yesterday too, finances their 45-day lifecycle (one run each).
    after_midnight = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    late = _evaluate(_schedule("orders"), dagster_instance, postgres, after_midnight)
    assert sorted(_range_of(r) for r in late.run_requests) == [
        ("shop-a|2026-11-20", "shop-a|2026-11-21", "late-change refresh")
    ]
    sweep = _evaluate(_schedule("finances"), dagster_instance, postgres, after_midnight)
    assert len(sweep.run_requests) == 1
    assert _per_account(sweep.run_requests) == [
        ("shop-a|2026-11-21", "2026-10-07", "daily refresh"),
        ("shop-b|2026-11-21", "2026-10-07", "daily refresh"),
    ]
    later = _evaluate(_schedule("finances"), dagster_instance, postgres, after_midnight + timedelta(hours=1))
    assert _per_account(later.run_requests) == [
        ("shop-a|2026-11-21", None, "schedule"),
        ("shop-b|2026-11-21", None, "schedule"),
    ]

    mirrors.set_family_enabled(engine, "shop-a", "orders", False)
    skipped = _evaluate(_schedule("orders"), dagster_instance, postgres, noon)
    assert not skipped.run_requests
    assert (
        "disabled for account shop-a" in skipped.skip_message and "disabled for account shop-b" in skipped.skip_message
    )

    set_workers_enabled(engine, False)
    off = _evaluate(_schedule("offers"), dagster_instance, postgres, noon)
    assert not off.run_requests and "disabled globally" in off.skip_message


def test_every_family_has_a_schedule_with_its_cadence() -> None:
    by_name = {s.name: s for s in _family_schedules()}
    for spec in FAMILIES:
        schedule = by_name[f"sync_{spec.name}_schedule"]
        assert schedule.cron_schedule == spec.cron
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert FAMILIES_BY_NAME["orders"].cron == "*/15 * * * *" and FAMILIES_BY_NAME["messages"].cron == "*/15 * * * *"
    assert FAMILIES_BY_NAME["finances"].cron == "0 * * * *" and FAMILIES_BY_NAME["offers"].cron == "0 */6 * * *"
    problems = {spec.name for spec in FAMILIES if spec.refresh is not None and spec.refresh.still_open}
    assert problems == {"inquiries", "cases", "disputes", "refunds"}
    assert all(FAMILIES_BY_NAME[name].cron == "*/30 * * * *" for name in problems)


def test_open_refresh_cadence_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EBAY_PIPELINES_OPEN_REFRESH_MINUTES", "60")
    by_name = {s.name: s for s in _family_schedules()}
    assert by_name["sync_inquiries_schedule"].cron_schedule == "0 * * * *"
    assert by_name["sync_orders_schedule"].cron_schedule == "*/15 * * * *"
    monkeypatch.setenv("EBAY_PIPELINES_OPEN_REFRESH_MINUTES", "7")
    with pytest.raises(SettingsError, match="EBAY_PIPELINES_OPEN_REFRESH_MINUTES must divide an hour"):
        Settings.from_env()


def test_failure_sensor_closes_the_rows_of_a_failed_run(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    @dg.op
    def sync_step() -> None:
        """Stands in for the step whose process is killed."""

    @dg.job(name="sync_orders_job")
    def job() -> None:
        sync_step()

    run = dagster_instance.create_run_for_job(job_def=job, tags={"dagster/partition": "shop-a|2026-11-20"})
    # What a killed run process leaves behind: its row still says running.
    handle = mirrors.start_run(engine, "shop-a", "orders", run.run_id, "shop-a|2026-11-20", {"window_from": "x"})
    dagster_instance.report_run_failed(run, "run worker process was killed (SIGKILL)")
    failure = next(
        r.event_log_entry
        for r in dagster_instance.get_records_for_run(run.run_id).records
        if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.event_type_value == "PIPELINE_FAILURE"
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="ebay_run_failure_sensor",
        dagster_instance=dagster_instance,
        dagster_run=dagster_instance.get_run_by_id(run.run_id),
        dagster_event=failure.dagster_event,
    ).for_run_failure()
    sensors.ebay_run_failure_sensor(context, postgres=postgres)
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("select status, error_message from ebay_worker_run where id = :i"), {"i": handle.run_id}
        ).one()
        state = conn.execute(
            sa.text("select last_error, cursor_value from ebay_sync_state where ebay_account_id='shop-a'")
        ).one()
    assert row.status == "error" and run.run_id in row.error_message and "killed" in row.error_message
    assert state.last_error == row.error_message and state.cursor_value is None
    # A new run of the same account and family can start again.
    mirrors.start_run(engine, "shop-a", "orders", "next-run", "shop-a|2026-11-20", {})


def test_stale_run_sensor_closes_silent_rows(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    handle = mirrors.start_run(engine, "shop-a", "orders", "r1", "k", {})
    with engine.begin() as conn:
        conn.execute(
            sa.text("update ebay_worker_run set heartbeat_at = now() - interval '2 hours' where id = :i"),
            {"i": handle.run_id},
        )
    context = dg.build_sensor_context(instance=dagster_instance, resources={"postgres": postgres})
    result = sensors.ebay_stale_runs_sensor(context)
    assert "closed 1 stale run row" in result.skip_message
    with engine.connect() as conn:
        assert (
            conn.execute(sa.text("select status from ebay_worker_run where id = :i"), {"i": handle.run_id}).scalar()
            == "error"
        )


def _check(asset: str, name: str) -> dg.AssetChecksDefinition:
    return next(c for c in QUALITY_CHECKS if c.check_key.asset_key == dg.AssetKey(asset) and c.check_key.name == name)


def _run_check(asset: str, name: str, postgres: PostgresResource) -> dg.AssetCheckResult:
    return _check(asset, name)(postgres=postgres)


def test_asset_checks_pass_on_synced_data_and_fail_on_corruption(
    ebay_env: str, sim, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    postgres = PostgresResource(database_url=ebay_env)
    register_account(engine, sim, "acct-1", dagster_instance)
    defs = fast_definitions(ebay_env)
    for family in ("orders", "finances", "refunds", "disputes"):
        for offset in range(14):
            assert run_family(
                defs, dagster_instance, family, "acct-1", date(2026, 10, 31) - timedelta(days=offset)
            ).success
    with engine.connect() as conn:
        counts = conn.execute(
            sa.text(
                "select (select count(*) from ebay_orders), (select count(*) from ebay_finances_fees), "
                "(select count(*) from ebay_refunds where order_id is not null), (select count(*) from ebay_disputes)"
            )
        ).one()
    assert all(c > 0 for c in counts), counts

    checks = [
        ("ebay_orders", "no_duplicate_keys"),
        ("ebay_orders", "order_totals_match_line_items"),
        ("ebay_finances_fees", "fees_belong_to_transactions"),
        ("ebay_refunds", "refunds_point_at_stored_orders"),
        ("ebay_disputes", "disputes_point_at_stored_orders"),
        ("ebay_orders", "accounts_fresh"),
    ]
    for asset, name in checks:
        result = _run_check(asset, name, postgres)
        assert result.passed, (asset, name, result.metadata)
    refs = _run_check("ebay_refunds", "refunds_point_at_stored_orders", postgres)
    assert refs.metadata["rows_checked"].value > 0, "no refund was eligible: the reference check proved nothing"

    with engine.begin() as conn:
        order_id = conn.execute(sa.text("select order_id from ebay_orders limit 1")).scalar()
        conn.execute(
            sa.text("update ebay_orders set total_value = total_value + 1 where order_id = :o"), {"o": order_id}
        )
        conn.execute(
            sa.text(
                "insert into ebay_orders (ebay_account_id, order_id, raw) select 'acct-2', order_id, raw from ebay_orders "
                "where order_id = :o"
            ),
            {"o": order_id},
        )
        conn.execute(
            sa.text(
                "delete from ebay_finances_transactions where (transaction_id, transaction_type) in "
                "(select transaction_id, transaction_type from ebay_finances_fees limit 1)"
            )
        )
        refunded = conn.execute(
            sa.text(
                "select r.order_id from ebay_refunds r join ebay_finances_transactions s on s.order_id = r.order_id "
                "and s.transaction_type = 'SALE' where r.order_id is not null and s.transaction_date >= '2026-10-18' "
                "and r.refund_date >= '2026-10-18' and r.refund_date < '2026-11-01' limit 1"
            )
        ).scalar()
        assert refunded is not None
        conn.execute(
            sa.text("delete from ebay_orders where order_id = :o and ebay_account_id = 'acct-1'"), {"o": refunded}
        )
        conn.execute(sa.text("update ebay_sync_state set last_error = 'boom' where api_family = 'orders'"))
    assert not _run_check("ebay_orders", "order_totals_match_line_items", postgres).passed
    duplicate = _run_check("ebay_orders", "no_duplicate_keys", postgres)
    assert not duplicate.passed and order_id in duplicate.metadata["examples"].value
    assert not _run_check("ebay_finances_fees", "fees_belong_to_transactions", postgres).passed
    assert not _run_check("ebay_refunds", "refunds_point_at_stored_orders", postgres).passed
    fresh = _run_check("ebay_orders", "accounts_fresh", postgres)
    assert not fresh.passed and fresh.severity == dg.AssetCheckSeverity.WARN


def test_ui_backfills_of_a_window_family_run_each_account_in_ranges_of_days(
    database_url: str, project_env, dagster_instance: dg.DagsterInstance
) -> None:
    # The run requests Dagster's asset-backfill daemon builds from the assets' backfill policy.
    from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests_with_backfill_policies
    from dagster._core.definitions.events import AssetKeyPartitionKey
    from dagster._core.definitions.partitions.context import partition_loading_context

    graph = fast_definitions(database_url).resolve_asset_graph()
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, ["shop-a", "shop-b"])
    days = [date(2026, 8, 1) + timedelta(days=i) for i in range(40)]
    selected = [
        AssetKeyPartitionKey(dg.AssetKey(table), f"{account}|{day.isoformat()}")
        for table in ("ebay_orders", "order_line_items")
        for account in ("shop-a", "shop-b")
        for day in days
    ]
    with partition_loading_context(dynamic_partitions_store=dagster_instance):
        requests = build_run_requests_with_backfill_policies(selected, graph, dagster_instance)

    covered: dict[str, set[str]] = defaultdict(set)
    for request in requests:
        keys = _requested_keys(request)
        assert len(keys) <= Settings.from_env().backfill_days_per_run
        assert set(request.asset_selection or ()) == {dg.AssetKey("ebay_orders"), dg.AssetKey("order_line_items")}
        covered[next(iter(keys)).split("|")[0]] |= keys
    # 40 days of 2 accounts in 4 runs (31 + 9 days each), instead of 80.
    assert len(requests) == 2 * -(-len(days) // Settings.from_env().backfill_days_per_run)
    assert covered == {a: {f"{a}|{d.isoformat()}" for d in days} for a in ("shop-a", "shop-b")}


def test_account_sensor_ignores_ids_that_cannot_be_partition_keys(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    add_account(engine, load_cipher(), "shop-valid", "refresh-token")
    bad_ids = ("bad shop", "a|b", "x" * 65)
    with engine.begin() as conn:  # around the CLI, which refuses such ids
        for bad in bad_ids:
            conn.execute(sa.text("insert into ebay_accounts (ebay_account_id) values (:a)"), {"a": bad})

    result = _tick(dagster_instance, postgres, None)
    partitions = set(dagster_instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
    assert "shop-valid" in partitions and not partitions & set(bad_ids)
    assert result.run_requests and {r.tags[ACCOUNT_TAG] for r in result.run_requests} == {"shop-valid"}


def test_problem_schedules_reach_back_to_the_oldest_open_record(
    postgres: PostgresResource, engine: sa.Engine, dagster_instance: dg.DagsterInstance
) -> None:
    """Open problems are re-read every tick: the window starts at the oldest stored one still open.

    Closed statuses are eBay's (Post-Order InquiryStatusEnum, ReturnStateEnum); a return's search
    date is ReturnSummaryType ``creationInfo.creationDate``, which the table holds in ``raw`` only.
    """
    cipher = load_cipher()
    for account in ("shop-a", "shop-b"):
        add_account(engine, cipher, account, "refresh-token")
    dagster_instance.add_dynamic_partitions(ACCOUNTS_PARTITION, ["shop-a", "shop-b"])
    day = lambda d: datetime(2026, 11, d, 9, tzinfo=UTC)  # noqa: E731
    with engine.begin() as conn:
        for inquiry_id, status, created in (("I1", "CLOSED", 2), ("I2", "WAITING_BUYER_RESPONSE", 9), ("I3", None, 12)):
            conn.execute(
                sa.insert(ebay_inquiries).values(
                    ebay_account_id="shop-a",
                    inquiry_id=inquiry_id,
                    inquiry_status=status,
                    creation_date=day(created),
                    raw={},
                )
            )
        for refund_id, state, created, source in (
            ("RET-1", "CLOSED", "2026-11-01T10:00:00.000Z", "return"),
            ("RET-2", "ITEM_SHIPPED", "2026-11-05T10:00:00.000Z", "return"),
            ("RET-3", "RETURN_REQUESTED", "not a date", "return"),
            ("FIN-1", "FUNDS_PROCESSING", "2026-11-03T10:00:00.000Z", "finances"),
        ):
            conn.execute(
                sa.insert(ebay_refunds).values(
                    ebay_account_id="shop-b",
                    refund_id=refund_id,
                    refund_source=source,
                    refund_status=state,
                    raw={"creationInfo": {"creationDate": {"value": created}}},
                )
            )
    noon = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    inquiries = _evaluate(_schedule("inquiries"), dagster_instance, postgres, noon).run_requests
    # One run for both accounts; each account's reach is its own.
    assert _per_account(inquiries) == [
        ("shop-a|2026-11-20", "2026-11-09", "open records refresh"),
        ("shop-b|2026-11-20", None, "open records refresh"),
    ]
    assert inquiries[0].tags["ebay/open_from"] == "shop-a=2026-11-09"
    # Open records only: sources without open records (refunds' finance part) keep the partition's window.
    assert all("ebay/window_from" not in r.tags for r in inquiries)
    refunds = _evaluate(_schedule("refunds"), dagster_instance, postgres, noon).run_requests
    assert _per_account(refunds) == [
        ("shop-a|2026-11-20", None, "open records refresh"),
        ("shop-b|2026-11-20", "2026-11-05", "open records refresh"),
    ]
    # The day's first tick sweeps the lifecycle, or further back when an open record is older.
    with engine.begin() as conn:
        conn.execute(
            sa.update(ebay_inquiries)
            .where(ebay_inquiries.c.inquiry_id == "I2")
            .values(creation_date=day(1) - timedelta(days=120))
        )
    sweep = _evaluate(_schedule("inquiries"), dagster_instance, postgres, datetime(2026, 11, 21, tzinfo=UTC))
    assert _per_account(sweep.run_requests) == [
        ("shop-a|2026-11-21", "2026-07-04", "daily refresh"),
        ("shop-b|2026-11-21", "2026-09-22", "daily refresh"),
    ]


def test_a_bad_window_from_tag_is_a_clear_error() -> None:
    from ebay_pipelines.defs.partitions import InvalidPartitionKey, window_from_tag

    assert window_from_tag({"ebay/window_from": "2026-10-07"}) == date(2026, 10, 7)
    assert window_from_tag({}) is None
    with pytest.raises(InvalidPartitionKey, match="invalid run tag ebay/window_from='yesterday'"):
        window_from_tag({"ebay/window_from": "yesterday"})
