"""The project's settings: read in one place, when asked, and checked with a one-line error."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

import dagster as dg
import pytest

from ebay_pipelines import settings
from ebay_pipelines.settings import Settings, SettingsError
from ebay_pipelines.sync.families import FAMILIES


def test_defaults_and_values_from_the_environment(tmp_path: Path) -> None:
    defaults = Settings.from_env({})
    assert defaults.start_date == date(2026, 1, 1) and defaults.backfill_days_per_run == 31
    assert defaults.database_url is None and defaults.configured == frozenset()
    read = Settings.from_env(
        {
            "EBAY_PIPELINES_START_DATE": "2026-01-15",
            "EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN": "7",
            "EBAY_PIPELINES_DATABASE_URL": " postgresql://u@h/db ",
            "EBAY_CLIENT_SECRET": "s3cret-value",
            "DAGSTER_HOME": str(tmp_path),
        }
    )
    assert read.start_date == date(2026, 1, 15) and read.backfill_days_per_run == 7
    assert read.database_url == "postgresql://u@h/db" and read.dagster_home == tmp_path.resolve()
    assert "EBAY_PIPELINES_DATABASE_URL" in read.configured and "EBAY_CLIENT_ID" not in read.configured
    assert "s3cret-value" not in repr(read)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "EBAY_PIPELINES_START_DATE",
            "June 1st",
            "EBAY_PIPELINES_START_DATE must be a day (YYYY-MM-DD), not 'June 1st'",
        ),
        ("EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN", "0", "EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN must be at least 1, not 0"),
        ("EBAY_PIPELINES_STEP_RETRIES", "two", "EBAY_PIPELINES_STEP_RETRIES must be a whole number, not 'two'"),
    ],
)
def test_a_bad_value_is_one_clear_line(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({name: value})
    assert str(refused.value) == message


def test_importing_the_definitions_reads_no_environment() -> None:
    # A start date that cannot be read fails when Dagster loads the definitions, not on import.
    script = (
        "import ebay_pipelines.definitions as d\n"
        "print('imported')\n"
        "try:\n"
        "    d.defs()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "EBAY_PIPELINES_START_DATE": "not-a-day", "DAGSTER_HOME": "/nonexistent"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "imported"
    assert lines[1] == "SettingsError EBAY_PIPELINES_START_DATE must be a day (YYYY-MM-DD), not 'not-a-day'"


def test_definitions_follow_the_settings_they_are_given() -> None:
    from ebay_pipelines.definitions import build_definitions

    settings = Settings.from_env({"EBAY_PIPELINES_START_DATE": "2026-03-01", "EBAY_PIPELINES_STEP_RETRIES": "5"})
    defs = build_definitions(settings=settings)
    orders = defs.get_assets_def(dg.AssetKey("ebay_orders"))
    assert isinstance(orders.partitions_def, dg.MultiPartitionsDefinition)
    dims = {d.name: d.partitions_def for d in orders.partitions_def.partitions_defs}
    assert isinstance(dims["date"], dg.TimeWindowPartitionsDefinition)
    assert dims["date"].start.date() == date(2026, 3, 1)
    assert orders.backfill_policy is not None and orders.backfill_policy.max_partitions_per_run == 31
    assert orders.op.retry_policy is not None and orders.op.retry_policy.max_retries == 5


def test_the_default_start_date_stays_inside_every_apis_reach_for_half_a_year() -> None:
    """Post-Order searches and payment disputes reach 18 months back (shared eBay notes, Wire facts:
    "18 months"), getOrders two years and Finances five (the Fulfillment and Finances contracts'
    filter texts): the default's first partition is searched whole until mid-2027."""
    first = datetime.combine(Settings.from_env({}).start_date, time.min, tzinfo=UTC)
    until = datetime(2027, 6, 1, tzinfo=UTC)
    reaches = {
        e.call: e.window.oldest_start for f in FAMILIES for e in f.endpoints if e.window and e.window.oldest_start
    }
    assert {"searchInquiries", "searchCases", "searchReturns", "getPaymentDisputeSummaries", "getOrders"} <= set(
        reaches
    )
    assert {call: reach.oldest(until) for call, reach in reaches.items() if reach.oldest(until) > first} == {}


def test_dagster_processes_batch_their_events_unless_told_otherwise(tmp_path: Path) -> None:
    from ebay_pipelines import serve
    from ebay_pipelines.store.database import DatabaseTarget

    target = DatabaseTarget(ebay_url="postgresql://h/ebay", dagster_url="postgresql://h/ebay_dagster")
    env = serve.environment(target, tmp_path, {"PATH": "/bin"})
    assert env[settings.DAGSTER_EVENT_BATCH_ENV] == settings.DAGSTER_EVENT_BATCH_SIZE and env["PATH"] == "/bin"
    # A deployment that sets Dagster's own variable keeps its value (0: one event at a time).
    off = serve.environment(target, tmp_path, {settings.DAGSTER_EVENT_BATCH_ENV: "0"})
    assert off[settings.DAGSTER_EVENT_BATCH_ENV] == "0"
