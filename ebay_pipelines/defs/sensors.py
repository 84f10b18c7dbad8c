"""Sensors: new accounts and their initial backfill, run failures, and stale run rows."""

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import sqlalchemy as sa
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from ebay_pipelines import settings
from ebay_pipelines.defs.assets import periods_per_run
from ebay_pipelines.defs.jobs import build_family_jobs
from ebay_pipelines.defs.partitions import (
    ACCOUNTS_PARTITION,
    OPEN_FROM_TAG,
    WINDOW_FROM_TAG,
    account_partitions,
    grain_advice,
    period_start,
    window_from_tag,
)
from ebay_pipelines.defs.requests import (
    ACCOUNT_TAG,
    ACCOUNTS_TAG,
    BACKFILL_PRIORITY,
    account_chunks,
    accounts_label,
    accounts_run_request,
    family_run_request,
)
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.ids import is_valid_account_id
from ebay_pipelines.store import mirrors, staging
from ebay_pipelines.store.accounts import list_accounts
from ebay_pipelines.store.tables import ebay_worker_run
from ebay_pipelines.store.tokens import reauthorization_reason
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME, family
from ebay_pipelines.sync.scopes import families_needing

BackfillTask = tuple[str, date | None, date | None]
#: A retry run names the failed run it retries.
RETRY_OF_TAG = "ebay/retry_of"


def backfill_tasks(start: date, first_day: date | None = None, days_per_run: int | None = None) -> list[BackfillTask]:
    """The initial backfill of one account as (family, first day, last day) runs, newest first.

    Snapshot families come first (one run each), then each window family's ``first_backfill_days``
    back from ``start`` in ranges of up to ``days_per_run`` days (one eBay window each; at week or
    month grain, the periods holding those days, :func:`periods_per_run` to a run),
    interleaved across families so every family lands its latest days early.
    """
    now = settings.current()
    first_day = first_day or now.start_date
    grain = now.partition_grain
    per_run = days_per_run or (now.backfill_days_per_run if grain == "day" else periods_per_run(now))
    tasks: list[BackfillTask] = [(s.name, None, None) for s in FAMILIES if not s.windowed]
    chunks: dict[str, list[tuple[date, date]]] = {}
    for spec in FAMILIES:
        if not spec.windowed:
            continue
        oldest = period_start(grain, max(start - timedelta(days=spec.first_backfill_days - 1), first_day))
        periods, current = [], period_start(grain, start)
        while current >= oldest:
            periods.append(current)
            current = period_start(grain, current - timedelta(days=1))
        chunks[spec.name] = [(periods[i : i + per_run][-1], periods[i]) for i in range(0, len(periods), per_run)]
    for index in range(max((len(r) for r in chunks.values()), default=0)):
        tasks.extend((name, *ranges[index]) for name, ranges in chunks.items() if index < len(ranges))
    return tasks


#: Accounts in the same backfill state run together: (start day, next task index, families or None).
StateKey = tuple[str, int, tuple[str, ...] | None]


def _state_key(state: Mapping[str, object]) -> StateKey:
    only = state.get("families")
    families = tuple(sorted(str(name) for name in only)) if isinstance(only, list) else None
    return str(state["start"]), int(str(state["next"])), families


@dataclass
class BackfillQueue:
    """Sensor cursor: for each account still backfilling, its start day and next task index.

    The tasks are :func:`backfill_tasks` of the start day, so the cursor stays small however long
    the backfill; it is written as groups of accounts in the same state, and a cursor of one state
    per account (``{"pending": {...}, "held": {...}}``) still loads.
    """

    pending: dict[str, dict[str, str | int | list[str]]] = field(default_factory=dict)
    #: Families whose backfill was passed over because the account had not granted their scope.
    held: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> "BackfillQueue":
        """Read the queue from a sensor cursor (empty when there is none)."""
        if not cursor:
            return cls()
        data = json.loads(cursor)
        pending = dict(data.get("pending", {}))
        for group in data.get("groups", []):
            for account_id in group["accounts"]:
                state: dict[str, str | int | list[str]] = {"start": group["start"], "next": group["next"]}
                if "families" in group:
                    state["families"] = list(group["families"])
                pending[account_id] = state
        return cls(pending=pending, held=data.get("held", {}))

    def dump(self) -> str:
        """Serialize the queue as a sensor cursor: the accounts of each state listed once."""
        groups: dict[StateKey, list[str]] = {}
        for account_id in sorted(self.pending):
            groups.setdefault(_state_key(self.pending[account_id]), []).append(account_id)
        out = []
        for (start, index, families), accounts in sorted(groups.items(), key=lambda item: repr(item[0])):
            group: dict[str, object] = {"start": start, "next": index, "accounts": accounts}
            if families is not None:
                group["families"] = list(families)
            out.append(group)
        return json.dumps({"groups": out, "held": self.held}, sort_keys=True)

    def enqueue(self, account_id: str, start: date, families: list[str] | None = None) -> None:
        """Start an account's initial backfill at ``start`` (today), of ``families`` only when given."""
        state: dict[str, str | int | list[str]] = {"start": start.isoformat(), "next": 0}
        if families is not None:
            state["families"] = families
        self.pending.setdefault(account_id, state)

    def hold(self, account_id: str, family_name: str) -> None:
        """Remember a family whose backfill waits for the account's consent to its scope."""
        held = self.held.setdefault(account_id, [])
        if family_name not in held:
            held.append(family_name)

    def drop(self, account_id: str) -> None:
        """Forget an account (deleted or disabled)."""
        self.pending.pop(account_id, None)
        self.held.pop(account_id, None)

    def take(
        self,
        order: Sequence[str],
        runs: int,
        per_run: int,
        waiting: Collection[str] = frozenset(),
        lacking: Mapping[str, Collection[str]] | None = None,
    ) -> list[tuple[list[str], BackfillTask]]:
        """Return up to ``runs`` backfill runs as (accounts, task): one task for a chunk of accounts.

        A chunk is up to ``per_run`` accounts in the same state (start day, families, next task),
        contiguous in ``order`` (the account partitions' order: a run's range holds every account
        between its ends). Accounts ``waiting`` for re-authorization are left out and split their
        chunk; an account ``lacking`` the task family's scope is held (:meth:`hold`), passes the task
        and splits the chunk too. Each run goes to the chunk furthest behind, ties in partition order:
        accounts added later catch up (and then run with the accounts before them) while older
        groups wait at most their catching up, then chunks take turns task by task.
        """
        lacking = lacking or {}
        tasks_of = _task_lists()
        for account_id, state in list(self.pending.items()):
            if int(str(state["next"])) >= len(tasks_of(state)):
                del self.pending[account_id]
        taken: list[tuple[list[str], BackfillTask]] = []
        while len(taken) < runs:
            chunks = self._chunks(order, per_run, waiting)
            if not chunks:
                break
            chunk = min(chunks, key=lambda c: int(str(self.pending[c[0]]["next"])))
            tasks = tasks_of(self.pending[chunk[0]])
            task = tasks[int(str(self.pending[chunk[0]]["next"]))]
            held = [account_id for account_id in chunk if task[0] in lacking.get(account_id, ())]
            for account_id in held:
                self.hold(account_id, task[0])
            advanced = list(held)
            for part in account_chunks(chunk, set(chunk) - set(held), per_run):
                if len(taken) >= runs:
                    break
                taken.append((part, task))
                advanced.extend(part)
            for account_id in advanced:
                index = int(str(self.pending[account_id]["next"])) + 1
                self.pending[account_id]["next"] = index
                if index >= len(tasks):
                    del self.pending[account_id]
        return taken

    def _chunks(self, order: Sequence[str], per_run: int, waiting: Collection[str]) -> list[list[str]]:
        """The pending accounts not ``waiting`` in chunks of one state, contiguous in ``order``."""
        chunks: list[list[str]] = []
        previous: StateKey | None = None
        for account_id in order:
            state = self.pending.get(account_id)
            key = None if state is None or account_id in waiting else _state_key(state)
            if key is not None and (key != previous or len(chunks[-1]) >= per_run):
                chunks.append([])
            if key is not None:
                chunks[-1].append(account_id)
            previous = key
        return chunks


def _task_lists() -> Callable[[Mapping[str, object]], list[BackfillTask]]:
    """A lookup of an account state's backfill tasks, each list built once."""
    built: dict[tuple[str, tuple[str, ...] | None], list[BackfillTask]] = {}

    def tasks_of(state: Mapping[str, object]) -> list[BackfillTask]:
        start, _, families = _state_key(state)
        if (start, families) not in built:
            tasks = backfill_tasks(date.fromisoformat(start))
            built[start, families] = [t for t in tasks if families is None or t[0] in families]
        return built[start, families]

    return tasks_of


def build_accounts_sensor(jobs: list[UnresolvedAssetJobDefinition]) -> dg.SensorDefinition:
    """The accounts sensor, requesting backfill runs of the family ``jobs``."""
    return dg.sensor(
        name="ebay_accounts_sensor",
        jobs=jobs,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Adds enabled accounts of ebay_accounts as partitions, removes deleted ones, and requests the "
        "new accounts' initial backfill: each run one family task for a chunk of up to "
        "EBAY_PIPELINES_ACCOUNTS_PER_RUN accounts, a bounded number of runs per tick.",
    )(accounts_tick)


def accounts_tick(context: dg.SensorEvaluationContext, postgres: PostgresResource) -> dg.SensorResult:
    """Keep the account partitions in step with ``ebay_accounts`` and feed initial backfills.

    Accounts added together backfill together: each run syncs one task for a chunk of them
    (:meth:`BackfillQueue.take`), in the order of the partitions after this tick's additions.
    """
    engine = postgres.get_engine()
    with engine.connect() as conn:
        accounts = list_accounts(conn)
    invalid = sorted(a.account_id for a in accounts if not is_valid_account_id(a.account_id))
    if invalid:
        # Written around the CLI (raw SQL): such an id would break partition keys, so it never becomes one.
        context.log.warning(
            f"ignoring accounts with invalid ids {invalid}: use 1-64 characters from "
            "A-Z, a-z, 0-9, '_' and '-' (re-register them with `ebay-pipelines accounts add`)"
        )
    registered = {a.account_id for a in accounts}
    enabled = {a.account_id for a in accounts if a.enabled} - set(invalid)
    now = settings.current()
    advice = grain_advice(len(enabled), now.start_date, datetime.now(UTC).date(), now.partition_grain)
    if advice:
        context.log.warning(advice)
    existing = list(context.instance.get_dynamic_partitions(ACCOUNTS_PARTITION))
    to_add = sorted(enabled - set(existing))
    to_remove = sorted(set(existing) - registered)
    # The add request appends to_add in this order: the partitions' order once this tick is applied.
    order = [*existing, *to_add]

    queue = BackfillQueue.load(context.cursor)
    today = datetime.now(UTC).date()
    for account_id in to_add:
        queue.enqueue(account_id, today)
    for account_id in list(queue.pending):
        if account_id not in enabled:
            queue.drop(account_id)
    waiting, needing = _consent_gaps(engine, set(queue.pending) | set(queue.held))
    for account_id, reason in sorted(waiting.items()):
        context.log.warning(f"backfill of account {account_id} waits: {reason}")
    for account_id, names in list(queue.held.items()):
        granted = [name for name in names if name not in needing.get(account_id, {})]
        if granted and account_id not in queue.pending:
            queue.enqueue(account_id, today, granted)
            queue.held[account_id] = [name for name in names if name not in granted]
            if not queue.held[account_id]:
                del queue.held[account_id]
    # An account lacking a family's scope is held, not requested: its run could only skip it.
    taken = queue.take(order, now.backfill_runs_per_tick, now.accounts_per_run, frozenset(waiting), needing)
    requests = []
    for chunk, (name, first, last) in taken:
        run_key = f"backfill:{accounts_label(chunk)}:{name}:{first or 'snapshot'}:{last or ''}"
        requests.append(
            accounts_run_request(
                family(name), chunk, first, run_key, "initial backfill", last_day=last, priority=BACKFILL_PRIORITY
            )
        )
    partition_requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if to_add:
        partition_requests.append(account_partitions.build_add_request(to_add))
    if to_remove:
        partition_requests.append(account_partitions.build_delete_request(to_remove))
    if to_add or to_remove or requests:
        context.log.info(
            f"accounts added {to_add}, removed {to_remove}; {len(requests)} backfill runs requested "
            f"({sum(len(chunk) for chunk, _ in taken)} account tasks), {len(queue.pending)} accounts still backfilling"
        )
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests, cursor=queue.dump())


def _consent_gaps(engine: sa.Engine, accounts: set[str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Accounts that must re-authorize (their reason), and the families each lacks a scope for."""
    waiting: dict[str, str] = {}
    needing: dict[str, dict[str, str]] = {}
    with engine.connect() as conn:
        for account_id in sorted(accounts):
            reason = reauthorization_reason(conn, account_id)
            if reason:
                waiting[account_id] = reason
            needing[account_id] = families_needing(conn, account_id)
    return waiting, needing


def _close_runs_of(context: dg.RunStatusSensorContext, postgres: PostgresResource, what: str) -> None:
    run = context.dagster_run
    reason = f"Dagster run {run.run_id} {what}"
    # Only a failure sensor's context has a failure event; a canceled run's has none.
    if isinstance(context, dg.RunFailureSensorContext) and context.failure_event.message:
        reason += f": {context.failure_event.message}"
    engine = postgres.get_engine()
    closed = mirrors.fail_runs_of_dagster_run(engine, run.run_id, reason)
    if closed:
        dropped = staging.drop_orphaned_stages(engine)
        context.log.info(
            f"closed {closed} ebay_worker_run row(s) of run {run.run_id} as error, dropped {dropped} staging table(s)"
        )


def retry_requests(engine: sa.Engine, run: dg.DagsterRun) -> list[dg.RunRequest]:
    """One run per account that failed in a failed run of many accounts: its partitions alone, its window reach kept.

    Accounts that landed are not synced again. A retry syncs one account, so its own failure is
    retried by the step's RetryPolicy (when transient) and never by this sensor again.
    """
    family_name = run.tags.get("api_family")
    if ACCOUNTS_TAG not in run.tags or family_name not in FAMILIES_BY_NAME:
        return []
    spec = family(family_name)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ebay_worker_run.c.ebay_account_id, ebay_worker_run.c.partition_key)
            .where(ebay_worker_run.c.dagster_run_id == run.run_id, ebay_worker_run.c.status == "error")
            .order_by(ebay_worker_run.c.id)
        ).all()
    requests = []
    for account_id, label in dict.fromkeys((r.ebay_account_id, r.partition_key) for r in rows):
        first = last = None
        if spec.windowed:
            days = str(label).split("|", 1)[1].split("..")
            first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
        request = family_run_request(
            spec,
            account_id,
            first,
            f"retry:{run.run_id}:{account_id}",
            "retry of a failed account",
            last_day=last,
            window_from=window_from_tag(run.tags, WINDOW_FROM_TAG, account_id),
            open_from=window_from_tag(run.tags, OPEN_FROM_TAG, account_id),
        )
        requests.append(request.with_replaced_attrs(tags={**request.tags, RETRY_OF_TAG: run.run_id}))
    return requests


def build_run_failure_sensor(jobs: list[UnresolvedAssetJobDefinition]) -> dg.SensorDefinition:
    """The run-failure sensor: closes the failed run's rows and retries its failed accounts alone."""

    @dg.run_failure_sensor(
        name="ebay_run_failure_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        request_jobs=jobs,
        description="A run that failed outside the IO manager (crash, step error) still closes its run rows as "
        "error; a run of many accounts gets one retry run per failed account.",
    )
    def ebay_run_failure_sensor(context: dg.RunFailureSensorContext, postgres: PostgresResource):
        """Close the failed run's ``ebay_worker_run`` rows as error with the reason, then retry its failed accounts."""
        _close_runs_of(context, postgres, "failed")
        requests = retry_requests(postgres.get_engine(), context.dagster_run)
        if requests:
            context.log.info(
                f"run {context.dagster_run.run_id}: retrying accounts "
                f"{', '.join(r.tags.get(ACCOUNT_TAG, '') for r in requests)} alone"
            )
        return requests

    return ebay_run_failure_sensor


#: The failure sensor over the family jobs of the default settings (the definitions build their own).
ebay_run_failure_sensor = build_run_failure_sensor(list(build_family_jobs(settings.Settings()).values()))


@dg.run_status_sensor(
    name="ebay_run_canceled_sensor",
    run_status=dg.DagsterRunStatus.CANCELED,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A canceled run closes its run rows as error.",
)
def ebay_run_canceled_sensor(context: dg.RunStatusSensorContext, postgres: PostgresResource) -> None:
    """Close the canceled run's ``ebay_worker_run`` rows as error."""
    _close_runs_of(context, postgres, "was canceled")


@dg.sensor(
    name="ebay_stale_runs_sensor",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Closes ebay_worker_run rows left running without a heartbeat for longer than the timeout, "
    "and drops the staging tables of runs that died before their merge.",
)
def ebay_stale_runs_sensor(context: dg.SensorEvaluationContext, postgres: PostgresResource) -> dg.SkipReason:
    """Sweep run rows whose process died without telling anyone, and the staging tables they left."""
    engine = postgres.get_engine()
    closed = mirrors.close_stale_runs(engine, timedelta(minutes=settings.current().stale_run_minutes))
    dropped = staging.drop_orphaned_stages(engine)
    return dg.SkipReason(
        f"closed {closed} stale run row(s), dropped {dropped} orphaned staging table(s)"
        if closed or dropped
        else "no stale run rows"
    )


def build_sensors(jobs: list[UnresolvedAssetJobDefinition]) -> list[dg.SensorDefinition]:
    """Every sensor of the project; the accounts sensor launches the family ``jobs``."""
    return [
        build_accounts_sensor(jobs),
        build_run_failure_sensor(jobs),
        ebay_run_canceled_sensor,
        ebay_stale_runs_sensor,
    ]
