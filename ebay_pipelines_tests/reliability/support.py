"""Helpers of the reliability tests: the windows that landed, their truth, retries and failure text.

The per-table truth and the comparison live in ``truth`` (shared with the end-to-end tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
from truth import SNAPSHOT_FAMILIES, SNAPSHOT_TRUTH, WINDOW_FAMILIES, WINDOW_TRUTH, Expected, compare  # noqa: F401 - re-exported for the reliability tests

from ebay_pipelines.sync.families import FAMILIES_BY_NAME
from ebay_pipelines.sync.windows import Window, day_window


def window_of(sim: Any, family: str, day: date) -> Window:
    """The window a day partition of ``family`` fetches: the project cuts it at the wall clock's now
    (the simulator's data ends at its own, earlier, now)."""
    return day_window(day, FAMILIES_BY_NAME[family].overlap, max(sim.now, datetime.now(UTC)))


def expected_for(sim: Any, family: str, account: str, days: Iterable[date]) -> Expected:
    """The union of what the landed day partitions (or the snapshot) of ``family`` must hold."""
    spec = FAMILIES_BY_NAME[family]
    if not spec.windowed:
        return SNAPSHOT_TRUTH[family](sim, account)
    union: Expected = {t: {} for t in spec.tables}
    for day in days:
        for table, rows in WINDOW_TRUTH[family](sim, account, window_of(sim, family, day)).items():
            union[table].update(rows)
    return union


def step_retries(result: dg.ExecuteInProcessResult) -> int:
    """How many times Dagster's RetryPolicy re-ran a step of this run."""
    return sum(1 for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY")


def parse_ts(value: str) -> datetime:
    """Parse an ISO 8601 cursor or window bound."""
    return datetime.fromisoformat(value)


def retrying_definitions(
    database_url: str, max_retries: int = 3, delay: float = 0.05, **ebay_options: Any
) -> dg.Definitions:
    """The project's definitions with a fast step RetryPolicy and quick HTTP retries, on the test's database.

    The family assets normally retry transient failures 30 s apart (``EBAY_PIPELINES_STEP_RETRIES``,
    read at import); tests build them again with ``delay`` seconds instead.
    """
    from ebay_pipelines.definitions import build_definitions
    from ebay_pipelines.defs.resources import EbayApiResource, PostgresResource

    options = {
        "retry_max_attempts": 3,
        "retry_initial_delay_s": 0.01,
        "retry_max_total_s": 10.0,
        "retry_jitter_s": 0.01,
        "request_timeout_s": 5.0,
        **ebay_options,
    }
    return build_definitions(
        PostgresResource(database_url=database_url),
        EbayApiResource(**options),
        step_retry_policy=dg.RetryPolicy(max_retries=max_retries, delay=delay),
    )


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step-failure message of a run, causes included (what a person reads in the Dagster UI)."""
    parts = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error = event.step_failure_data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)
