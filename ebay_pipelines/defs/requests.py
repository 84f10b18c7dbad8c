"""Run requests for one family partition or day range, tagged for the run queue's concurrency limits."""

from datetime import date

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from ebay_pipelines.defs.jobs import job_name
from ebay_pipelines.defs.partitions import OPEN_FROM_TAG, WINDOW_FROM_TAG, window_key
from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.sync.families import FamilySpec

# dagster.yaml limits runs per unique value of these tags (see tag_concurrency_limits).
ACCOUNT_TAG = "ebay/account"
ACCOUNT_FAMILY_TAG = "ebay/account_family"


def partition_key_for(spec: FamilySpec, account_id: str, day: date | None) -> str:
    """Return the partition key of a family's account (and day, for window families)."""
    if spec.windowed:
        assert day is not None, f"family {spec.name} needs a day"
        return str(window_key(account_id, day))
    return validate_account_id(account_id)


def family_run_request(
    spec: FamilySpec,
    account_id: str,
    day: date | None,
    run_key: str | None,
    reason: str,
    last_day: date | None = None,
    window_from: date | None = None,
    open_from: date | None = None,
) -> dg.RunRequest:
    """Return a run request syncing one family partition (or the days ``day..last_day``), tagged with its account.

    ``window_from`` (before ``day``) makes the window start that day: older records are re-read
    without re-materializing their days' partitions; ``open_from`` does so for the sources that
    hold open records only.
    """
    tags = {ACCOUNT_TAG: account_id, ACCOUNT_FAMILY_TAG: f"{account_id}.{spec.name}", "ebay/reason": reason}
    if window_from is not None:
        assert day is not None and window_from < day, f"family {spec.name}: window_from {window_from} not before {day}"
        tags[WINDOW_FROM_TAG] = window_from.isoformat()
    if open_from is not None:
        assert day is not None and open_from < day, f"family {spec.name}: open_from {open_from} not before {day}"
        tags[OPEN_FROM_TAG] = open_from.isoformat()
    if last_day is None or last_day == day:
        return dg.RunRequest(
            run_key=run_key, job_name=job_name(spec), partition_key=partition_key_for(spec, account_id, day), tags=tags
        )
    assert day is not None and last_day > day, f"family {spec.name}: bad day range {day}..{last_day}"
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name(spec),
        tags={
            **tags,
            ASSET_PARTITION_RANGE_START_TAG: partition_key_for(spec, account_id, day),
            ASSET_PARTITION_RANGE_END_TAG: partition_key_for(spec, account_id, last_day),
        },
    )
