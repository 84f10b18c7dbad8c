"""Rehearse the project's schedules over a period of simulated time, in process.

Each schedule is evaluated at every tick its cron names (Dagster's own cron iterator, as the
daemon uses it) through ``build_schedule_context``, in time order across schedules, and each run
request it returns is executed in process, as the daemon would launch it. Before each tick the
caller's ``set_clock`` moves the simulated eBay to that moment. Used to prove that the schedules
keep stored records current and to measure what they cost in eBay calls per account and day.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster._utils.schedules import cron_string_iterator

log = logging.getLogger(__name__)

#: ``(job name, run tags) -> context manager`` around one rehearsed run.
RunScope = Callable[[str, dict[str, str]], AbstractContextManager[Any]]


@dataclass(frozen=True)
class RehearsedRun:
    """One run request a tick returned, and how its in-process run ended."""

    tick: datetime
    schedule: str
    job: str
    partitions: str
    reason: str
    success: bool


@dataclass
class Rehearsal:
    """Ticks and runs of a rehearsal so far."""

    ticks: int = 0
    skipped_ticks: int = 0
    runs: list[RehearsedRun] = field(default_factory=list)

    @property
    def failed(self) -> list[RehearsedRun]:
        """The runs that did not succeed."""
        return [run for run in self.runs if not run.success]


def schedule_ticks(
    schedules: Iterable[dg.ScheduleDefinition], start: datetime, end: datetime
) -> Iterator[tuple[datetime, dg.ScheduleDefinition]]:
    """Every ``(tick, schedule)`` with ``start <= tick < end``, in time order (ties in the given order)."""

    def ticks(order: int, schedule: dg.ScheduleDefinition) -> Iterator[tuple[datetime, int, dg.ScheduleDefinition]]:
        cron = schedule.cron_schedule
        assert isinstance(cron, str), f"schedule {schedule.name}: one cron string expected"
        # The iterator starts at the first tick after its start: begin just before ``start``.
        for tick in cron_string_iterator(start.timestamp() - 1, cron, schedule.execution_timezone or "UTC"):
            tick = tick.astimezone(UTC)
            if tick >= end:
                return
            if tick >= start:
                yield tick, order, schedule

    merged = heapq.merge(*(ticks(i, s) for i, s in enumerate(schedules)), key=lambda item: (item[0], item[1]))
    for tick, _, schedule in merged:
        yield tick, schedule


def rehearse(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    schedule_names: Iterable[str],
    start: datetime,
    end: datetime,
    set_clock: Callable[[datetime], None],
    after_tick: Callable[[datetime, Rehearsal], None] | None = None,
    run_instance: dg.DagsterInstance | None = None,
    run_scope: RunScope | None = None,
    run_config: Mapping[str, Any] | None = None,
) -> Rehearsal:
    """Evaluate the named schedules at each of their ticks in ``[start, end)`` and run what they request.

    ``after_tick`` is called once per moment, after every schedule due then has run. Each run
    executes inside ``run_scope(job name, run tags)`` when given (e.g. to count what it calls) and
    with ``run_config`` (e.g. quieter loggers).

    Schedules are evaluated on ``instance`` (a persistent one: a schedule context needs its
    reference); runs execute on ``run_instance`` (default: the same), e.g. an ephemeral one whose
    event log costs nothing, holding the same account partitions.
    """
    schedules = [defs.resolve_schedule_def(name) for name in schedule_names]
    result = Rehearsal()
    due = schedule_ticks(schedules, start, end)
    for tick, group in itertools.groupby(due, key=lambda item: item[0]):
        set_clock(tick)
        for _, schedule in group:
            with dg.build_schedule_context(
                instance=instance, resources=resources, scheduled_execution_time=tick
            ) as context:
                # Evaluate on the open instance: the context would reopen it from its reference on
                # every evaluation (new storage, new connections), the bulk of a tick's cost.
                context._instance = instance  # type: ignore[assignment]
                outcome = schedule(context)
            result.ticks += 1
            requests = outcome if isinstance(outcome, list) else []
            if not requests:
                result.skipped_ticks += 1
            for request in requests:
                job_name = request.job_name or schedule.job_name
                scope = run_scope(job_name, dict(request.tags)) if run_scope is not None else nullcontext()
                with scope:
                    run = _execute(defs, run_instance or instance, tick, schedule.name, job_name, request, run_config)
                result.runs.append(run)
        if after_tick is not None:
            after_tick(tick, result)
    return result


def _execute(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    tick: datetime,
    schedule: str,
    job_name: str,
    request: dg.RunRequest,
    run_config: Mapping[str, Any] | None,
) -> RehearsedRun:
    """Run one request in process, as the daemon would launch it (the schedule's job unless it names one)."""
    job = defs.resolve_job_def(job_name)
    tags = dict(request.tags)
    outcome = job.execute_in_process(
        run_config=run_config, instance=instance, partition_key=request.partition_key, tags=tags, raise_on_error=False
    )
    partitions = request.partition_key or (
        f"{tags.get('dagster/asset_partition_range_start')}..{tags.get('dagster/asset_partition_range_end')}"
    )
    if not outcome.success:
        log.warning("rehearsal: %s at %s: run of %s failed", schedule, tick.isoformat(), partitions)
    return RehearsedRun(tick, schedule, job_name, partitions, tags.get("ebay/reason", ""), outcome.success)
