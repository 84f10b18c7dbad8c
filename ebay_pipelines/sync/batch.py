"""One family synced for many accounts in one run: each account concurrently, failures kept apart.

:func:`stage_accounts` begins and stages every account's partitions in a bounded thread pool (the
work waits on eBay and PostgreSQL); an account that fails (a 429 storm, a revoked token, a bad
payload) is recorded on its own run row and ``ebay_sync_state.last_error`` and neither stops nor
delays the others. :meth:`SyncBatch.merge` then writes each staged account in its own transaction
with its own mirrors; an account whose merge fails is recorded the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Engine

from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.failures import describe, is_retryable
from ebay_pipelines.sync.families import FamilySpec


@dataclass(frozen=True)
class AccountPlan:
    """What a run syncs for one account: its partitions, their days and the window's reach."""

    account_id: str
    #: The first day of the account's first partition and the last day of its last (None: snapshot).
    first_day: date | None
    through: date | None
    #: The run-row partition key (``ACCOUNT|DAY`` or ``ACCOUNT|FIRST..LAST``) and the Dagster keys.
    label: str
    keys: tuple[str, ...]
    window_from: date | None = None
    open_from: date | None = None


@dataclass
class AccountOutcome:
    """How one account's sync of the run ended: staged (then merged), skipped, or failed."""

    plan: AccountPlan
    staged: partition_sync.StagedSync | None = None
    skipped: str | None = None
    error: str | None = None
    retryable: bool = False
    #: The thread that synced it (evidence of concurrency in tests and logs).
    thread: str = ""

    @property
    def landed(self) -> bool:
        """Whether the account's rows, cursor and run row are written."""
        return self.error is None and self.staged is not None and self.staged.result is not None


@dataclass
class SyncBatch:
    """Every account of one family's run: the IO manager merges it once, then reports per table."""

    family: str
    tables: tuple[str, ...]
    outcomes: tuple[AccountOutcome, ...]
    merged: bool = False
    #: Set once the run's outcome was reported (materializations, failure), so later outputs skip it.
    reported: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def landed(self) -> list[AccountOutcome]:
        """Accounts whose partitions are written."""
        return [o for o in self.outcomes if o.landed]

    @property
    def failed(self) -> list[AccountOutcome]:
        """Accounts whose sync failed (each recorded on its own row)."""
        return [o for o in self.outcomes if o.error is not None]

    def merge(self, engine: Engine) -> None:
        """Merge each staged account in its own transaction (once); a failed merge is that account's error."""
        with self._lock:
            if self.merged:
                return
            for outcome in self.outcomes:
                if outcome.staged is None or outcome.error is not None:
                    continue
                try:
                    outcome.staged.merge(engine)
                except Exception as exc:
                    outcome.error, outcome.retryable = describe(exc), is_retryable(exc)
            self.merged = True

    def failure_text(self) -> str:
        """One line naming each failed account and why."""
        failed = self.failed
        names = "; ".join(f"{o.plan.label}: {o.error}" for o in failed)
        return (
            f"family {self.family}: {len(failed)} of {len(self.outcomes)} accounts failed, the others landed ({names})"
        )


def stage_accounts(
    engine: Engine,
    spec: FamilySpec,
    plans: Iterable[AccountPlan],
    *,
    threads: int,
    dagster_run_id: str | None,
    clients_factory: Callable[[str], partition_sync.EbayClients],
    retry_number: int = 0,
    batch_rows: int = 1000,
    log: Callable[[str], None] = lambda _: None,
) -> SyncBatch:
    """Begin and stage each account's plan, ``threads`` accounts at a time; never raise for one account."""
    plans = list(plans)

    def one(plan: AccountPlan) -> AccountOutcome:
        outcome = AccountOutcome(plan, thread=threading.current_thread().name)
        began: partition_sync.PartitionSync | partition_sync.Skipped | None = None
        try:
            began = partition_sync.begin(
                engine,
                spec,
                plan.account_id,
                plan.first_day,
                last_day=plan.through,
                partition_key=plan.label,
                dagster_run_id=dagster_run_id,
                clients_factory=lambda: clients_factory(plan.account_id),
                retry_number=retry_number,
                window_from=plan.window_from,
                open_from=plan.open_from,
            )
            if isinstance(began, partition_sync.Skipped):
                outcome.skipped = began.reason
                log(f"account {plan.account_id} family {spec.name} {plan.label}: skipped: {began.reason}")
                return outcome
            outcome.staged = began.stage(engine, batch_rows)
            log(
                f"account {plan.account_id} family {spec.name} {plan.label}: fetched "
                f"{outcome.staged.staged.fetched} records in {outcome.staged.staged.pages} pages, "
                f"{outcome.staged.api_calls} API calls"
            )
        except Exception as exc:
            outcome.error, outcome.retryable = describe(exc), is_retryable(exc)
            if isinstance(began, partition_sync.PartitionSync):
                began.fail(engine, exc)  # no-op when the stage already closed the row
            log(f"account {plan.account_id} family {spec.name} {plan.label}: failed: {outcome.error}")
        return outcome

    workers = max(1, min(threads, len(plans)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"sync-{spec.name}") as pool:
        futures = [pool.submit(one, plan) for plan in plans]
        outcomes: list[AccountOutcome] = []
        try:
            for future in futures:
                outcomes.append(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            partition_sync.abandon_after_failure(
                engine, [o.staged for o in outcomes if o.staged is not None], "of this run (interrupted)"
            )
            raise
    return SyncBatch(spec.name, spec.tables, tuple(outcomes))
