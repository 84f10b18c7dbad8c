"""Manual runs, compatible with the old ``POST /ebay/workers/run?account_id=..&api=..`` endpoint.

A run goes through the running Dagster webserver when one answers (so it is queued, limited and
shown like any other run), otherwise it executes in this process on the project's instance.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlparse

from ebay_pipelines import settings
from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.store import migrate
from ebay_pipelines.store.accounts import get_account
from ebay_pipelines.store.database import cached_engine, prepare, resolve_target
from ebay_pipelines.sync.families import family

LOCATION_NAME = "ebay_pipelines"


@dataclass(frozen=True)
class LaunchedRun:
    """Where a manual run went and how it ended (in process) or that it was queued."""

    run_id: str
    partition_key: str
    via: str
    status: str
    summary: dict | None = None

    @property
    def failed(self) -> bool:
        """True when the run ran here and failed."""
        return self.status in ("FAILURE", "error")

    def describe(self) -> str:
        """One line for the terminal."""
        text = f"run {self.run_id} ({self.partition_key}) via {self.via}: {self.status}"
        if self.summary:
            text += (
                f"; fetched {self.summary.get('total_fetched')}, stored {self.summary.get('total_stored')}, "
                f"API calls {self.summary.get('api_calls')}"
            )
        return text


def _webserver_client(dagster_url: str):
    """Return a GraphQL client when a Dagster webserver answers at ``dagster_url``, else None."""
    import requests
    from dagster_graphql import DagsterGraphQLClient

    parsed = urlparse(dagster_url)
    try:
        requests.post(f"{dagster_url.rstrip('/')}/graphql", json={"query": "{ version }"}, timeout=3).raise_for_status()
    except requests.RequestException:
        return None
    return DagsterGraphQLClient(parsed.hostname or "127.0.0.1", port_number=parsed.port or 80)


def partition_tags(partition_key: str, account_id: str, day: date | None, family_name: str) -> dict[str, str]:
    """Tags a run of one family partition carries (Dagster's partition tags and the queue's limits)."""
    from ebay_pipelines.defs.requests import ACCOUNT_FAMILY_TAG, ACCOUNT_TAG

    tags = {
        "dagster/partition": partition_key,
        ACCOUNT_TAG: account_id,
        ACCOUNT_FAMILY_TAG: f"{account_id}.{family_name}",
        "ebay/reason": "manual",
    }
    if day is not None:
        tags["dagster/partition/account"] = account_id
        tags["dagster/partition/date"] = day.isoformat()
    return tags


def _days(spec, day_text: str | None, to_day_text: str | None) -> tuple[date, date | None]:
    """The first day and the (optional) last day of a manual run, validated."""
    today = datetime.now(UTC).date()
    day = date.fromisoformat(day_text) if day_text else today
    if to_day_text is None:
        return day, None
    if not spec.windowed:
        raise ValueError(f"{spec.name} is a snapshot family: it has no days, so --to-day does not apply")
    last = date.fromisoformat(to_day_text)
    if last < day:
        raise ValueError(f"--to-day {last.isoformat()} is before --day {day.isoformat()}")
    if last > today:
        raise ValueError(f"--to-day {last.isoformat()} is in the future (today is {today.isoformat()} UTC)")
    return day, (last if last > day else None)


def launch(
    account_id: str, family_name: str, day_text: str | None, dagster_url: str | None, to_day_text: str | None = None
) -> LaunchedRun:
    """Launch one family partition of an account (or the days ``day..to_day`` in one range run).

    Goes through Dagster if it is up, else runs here.
    """
    validate_account_id(account_id)
    spec = family(family_name)
    day, last_day = _days(spec, day_text, to_day_text)
    target = resolve_target()
    prepare(target)
    migrate.upgrade(target.ebay_url)
    with cached_engine(target.ebay_url).connect() as conn:
        get_account(conn, account_id)
    from ebay_pipelines.defs.jobs import job_name
    from ebay_pipelines.defs.partitions import range_label
    from ebay_pipelines.defs.requests import family_run_request, partition_key_for

    if last_day is not None:
        request = family_run_request(spec, account_id, day, None, "manual", last_day=last_day)
        key, partition_key, tags = range_label(account_id, day, last_day), None, dict(request.tags)
    else:
        key = partition_key = partition_key_for(spec, account_id, day if spec.windowed else None)
        tags = partition_tags(key, account_id, day if spec.windowed else None, spec.name)
    client = _webserver_client(dagster_url) if dagster_url else None
    if client is not None:
        run_id = client.submit_job_execution(job_name(spec), repository_location_name=LOCATION_NAME, tags=tags)
        return LaunchedRun(run_id, key, f"Dagster at {dagster_url}", "QUEUED")
    return _run_here(spec, account_id, key, partition_key, tags, target)


@contextmanager
def _dagster_event_batching() -> Iterator[None]:
    """Dagster reads its event batching from the environment: set while the run executes, then restored."""
    before = os.environ.get(settings.DAGSTER_EVENT_BATCH_ENV)
    os.environ.setdefault(settings.DAGSTER_EVENT_BATCH_ENV, settings.DAGSTER_EVENT_BATCH_SIZE)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(settings.DAGSTER_EVENT_BATCH_ENV, None)


def _run_here(spec, account_id: str, key: str, partition_key: str | None, tags: dict[str, str], target) -> LaunchedRun:
    """Execute the run in this process, on the project's instance, with resources naming ``target``.

    The definitions get their database through their resources and the instance its storage
    through an override of the packaged config; only Dagster's event batching is set in the
    process environment, while the run executes.
    """
    import dagster as dg
    import sqlalchemy as sa
    from dagster._core.instance.ref import InstanceRef

    from ebay_pipelines.definitions import build_definitions, default_resources
    from ebay_pipelines.defs.jobs import job_name
    from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION
    from ebay_pipelines.defs.resources import PostgresResource
    from ebay_pipelines.instance import install_instance_config
    from ebay_pipelines.store.tables import ebay_worker_run

    current = settings.current()
    home = current.dagster_home
    install_instance_config(home)
    _, ebay = default_resources(current)
    defs = build_definitions(PostgresResource(database_url=target.ebay_url), ebay, settings=current)
    ref = InstanceRef.from_dir(str(home), overrides={"storage": {"postgres": {"postgres_url": target.dagster_url}}})
    with dg.DagsterInstance.from_ref(ref) as instance:
        if not instance.has_dynamic_partition(ACCOUNTS_PARTITION, account_id):
            instance.add_dynamic_partitions(ACCOUNTS_PARTITION, [account_id])
        # A single partition goes by partition_key (Dagster adds its own partition tags); a range
        # keeps its dagster/asset_partition_range_* tags.
        run_tags = tags if partition_key is None else {k: v for k, v in tags.items() if not k.startswith("dagster/")}
        with _dagster_event_batching():
            result = defs.resolve_job_def(job_name(spec)).execute_in_process(
                instance=instance,
                partition_key=partition_key,
                tags=run_tags,
                raise_on_error=False,
            )
    with cached_engine(target.ebay_url).connect() as conn:
        row = conn.execute(
            sa.select(ebay_worker_run.c.status, ebay_worker_run.c.summary_json).where(
                ebay_worker_run.c.dagster_run_id == result.run_id
            )
        ).first()
    status = row.status if row is not None else ("SUCCESS" if result.success else "FAILURE")
    if not result.success:
        status = "FAILURE"
    return LaunchedRun(result.run_id, key, "this process", status, row.summary_json if row is not None else None)
