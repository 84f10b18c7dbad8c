"""Sync of one family partition: switches, run lifecycle, fetch-and-stage, and the atomic merge.

``begin`` checks the kill switches and opens the ``ebay_worker_run`` row; the returned
:class:`PartitionSync` makes every eBay call in :meth:`PartitionSync.stage`, which streams the rows
into staging tables and returns a :class:`StagedSync` (data only, no client).
:meth:`StagedSync.merge` then writes them, the cursor and the run row in one transaction. The
Dagster asset calls ``begin`` and ``stage``; the IO manager calls ``merge``; scripts and benchmarks
can call :meth:`PartitionSync.write` for both.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from ebay_pipelines import settings as project_settings
from ebay_pipelines.ebay import paging
from ebay_pipelines.ebay.auth import AccessTokenProvider, OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import EbayError, ReauthorizationRequired, ScopeNotGranted
from ebay_pipelines.ebay.rest import EbayRestClient
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.ebay.trading import TradingClient
from ebay_pipelines.ebay.walk import WalkReport
from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.store import mirrors, staging
from ebay_pipelines.store.accounts import get_account
from ebay_pipelines.store.coverage import inventory_api_coverage
from ebay_pipelines.store.partition_writer import (
    PartitionResult,
    RowPage,
    SnapshotScope,
    StagedPartition,
    merge_partition,
    stage_partition,
)
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.store.stored import stored_in_covered_window, stored_raw
from ebay_pipelines.store.tokens import DatabaseTokenStore, mark_refresh_token_rejected
from ebay_pipelines.store.values import find_unstorable
from ebay_pipelines.sync import quota_guard
from ebay_pipelines.sync import scopes as scope_rules
from ebay_pipelines.sync.families import FAMILIES, INVENTORY_API_ITEMS, FamilySpec, FetchContext
from ebay_pipelines.sync.signing import signer_for
from ebay_pipelines.sync.windows import Window, days_window

log = logging.getLogger(__name__)


def ebay_settings(settings: project_settings.Settings) -> EbaySettings:
    """The eBay connection settings the project settings name (a clear ConfigurationError when keys are missing)."""
    return EbaySettings.from_env(
        {
            project_settings.EBAY_ENVIRONMENT_ENV: settings.ebay_environment,
            project_settings.EBAY_API_BASE_URL_ENV: settings.ebay_api_base_url or "",
            project_settings.EBAY_CLIENT_ID_ENV: settings.ebay_client_id or "",
            project_settings.EBAY_CLIENT_SECRET_ENV: settings.ebay_client_secret or "",
        }
    )


@dataclass
class EbayClients:
    """The REST and Trading clients of one account, sharing one token provider."""

    account_id: str
    rest: EbayRestClient
    trading: TradingClient
    oauth: OAuthClient

    def api_calls(self) -> int:
        """Every HTTP attempt made so far by these clients (token grants included)."""
        return sum(self.rest.calls.values()) + sum(self.trading.calls.values()) + sum(self.oauth.calls.values())

    def calls_by_name(self) -> dict[str, int]:
        """Calls made so far, by eBay call name."""
        total: Counter[str] = Counter()
        for counter in (self.rest.calls, self.trading.calls, self.oauth.calls):
            for (_, name), n in counter.items():
                total[name] += n
        return dict(total)


def build_clients(
    engine: Engine, account_id: str, settings: EbaySettings | None = None, retry: RetryPolicy | None = None
) -> EbayClients:
    """Build the clients of a registered account, with tokens from ``ebay_tokens``.

    An EU/UK account (or one added with ``--signing``) gets its request signer, its key created
    through Key Management the first time (:mod:`ebay_pipelines.sync.signing`).
    """
    settings = settings or ebay_settings(project_settings.current())
    retry = retry or RetryPolicy()
    with engine.connect() as conn:
        account = get_account(conn, account_id)
    cipher = load_cipher()
    oauth = OAuthClient(settings, retry=retry)
    tokens = AccessTokenProvider(account_id, oauth, DatabaseTokenStore(engine, cipher))
    signer = signer_for(engine, account, settings, retry, cipher)
    rest = EbayRestClient(
        account_id, settings, tokens, marketplace_id=account.marketplace_id, retry=retry, signing=signer
    )
    trading = TradingClient(account_id, settings, tokens, retry=retry)
    return EbayClients(account_id=account_id, rest=rest, trading=trading, oauth=oauth)


@dataclass(frozen=True)
class Skipped:
    """A partition sync that did not start: a switch is off, or eBay keeps nothing of its window."""

    reason: str
    run: mirrors.RunHandle


@dataclass
class PartitionSync:
    """A started sync of one family partition: :meth:`stage` fetches, :meth:`StagedSync.merge` writes."""

    spec: FamilySpec
    account_id: str
    window: Window | None
    run: mirrors.RunHandle
    clients: EbayClients
    fetched_at: datetime
    partition_key: str
    dagster_run_id: str | None
    #: The partition's own window when a refresh of open records extends ``window`` (else None).
    own_window: Window | None = None

    @property
    def cursor_value(self) -> datetime:
        """Where the cursor moves on success: the window's end, or the snapshot time."""
        return self.window.end if self.window else self.fetched_at

    def summary(self) -> dict[str, Any]:
        """The run's identifying facts (window, partition, Dagster run) for ``summary_json``.

        ``left_out`` says what of the window eBay's reach kept out (a source not searched, or
        searched from a later start), when anything.
        """
        window = (
            self.window.as_dict()
            if self.window
            else {"window_from": self.fetched_at.isoformat(), "window_to": self.fetched_at.isoformat()}
        )
        left_out = [] if self.window is None else beyond_reach(self.spec, self.window, self.fetched_at)
        return {
            **window,
            "partition_key": self.partition_key,
            "dagster_run_id": self.dagster_run_id,
            "api_family": self.spec.name,
            **({"left_out": left_out} if left_out else {}),
        }

    def stage(self, engine: Engine, batch_rows: int = 1000) -> StagedSync:
        """Make every eBay call of the partition and stage its rows; return a handle holding no client.

        A rejected refresh token stops every family of the account until it is re-authorized; a
        value PostgreSQL cannot store is reported as :class:`UnstorableValue` naming its table,
        column and record instead of the driver's message.
        """
        context = FetchContext(
            self.account_id,
            self.window,
            self.clients.rest,
            self.clients.trading,
            self.fetched_at,
            stored=functools.partial(stored_raw, engine, account_id=self.account_id),
            covered=functools.partial(stored_in_covered_window, engine, account_id=self.account_id),
            own_window=self.own_window,
        )
        pages = _PageTap(self.spec.fetch(context))
        try:
            staged = self._stage(engine, pages, batch_rows)
        except BaseException as exc:
            quota_guard.note_refusal(engine, exc, self.fetched_at)
            quota_guard.record_run_calls(
                engine, self.account_id, self.spec.name, self.clients.calls_by_name(), self.fetched_at
            )
            raise
        return StagedSync(
            family=self.spec.name,
            account_id=self.account_id,
            partition_key=self.partition_key,
            run=self.run,
            summary={**self.summary(), **self._notes(engine, context)},
            cursor_value=self.cursor_value,
            snapshot=self._snapshot(context.walks),
            staged=staged,
            api_calls=self.clients.api_calls(),
            calls_by_name=self.clients.calls_by_name(),
            fetched_at=self.fetched_at,
        )

    def _stage(self, engine: Engine, pages: _PageTap, batch_rows: int) -> StagedPartition:
        try:
            return stage_partition(
                engine, pages, tables=self.spec.tables, run=self.run, summary=self.summary(), batch_rows=batch_rows
            )
        except ReauthorizationRequired as exc:
            require_reauthorization(engine, self.account_id, str(exc))
            raise
        except ScopeNotGranted as exc:
            reason = scope_rules.refused(engine, self.account_id, self.spec, exc)
            mirrors.explain_failure(engine, self.run, reason)
            raise ScopeNotGranted(self.account_id, exc.scopes, reason, status=exc.status) from None
        except EbayError:
            raise
        except Exception as exc:
            # The driver's or PostgreSQL's message names neither table nor record: look for an
            # unstorable value in the page being staged (only on failure; it costs a full scan).
            unstorable = None if pages.current is None else find_unstorable(pages.current.rows)
            if unstorable is None:
                raise
            mirrors.explain_failure(engine, self.run, f"UnstorableValue: {unstorable}")
            raise unstorable from exc

    def _notes(self, engine: Engine, context: FetchContext) -> dict[str, Any]:
        """What the fetch found worth a word in the run's summary: values eBay refused, Inventory API coverage."""
        notes: dict[str, Any] = {}
        if context.walks.unreadable:
            notes["unreadable"] = [{"account": self.account_id, **u.as_dict()} for u in context.walks.unreadable]
        items = context.notes.get(INVENTORY_API_ITEMS)
        if items is not None:
            with engine.connect() as conn:
                note = inventory_api_coverage(conn, self.account_id, items)
            if note is not None:
                notes["inventory_api_coverage"] = note
        return notes

    def _snapshot(self, walks: WalkReport) -> SnapshotScope | None:
        """What the merge prunes: a snapshot family's unseen rows, only when every walk was proven complete."""
        if not self.spec.prune_missing:
            return None
        reason = None if walks.complete else f"walk not proven complete: {walks.reason}"
        if reason is not None:
            log.warning(
                "account %s family %s: keeping rows the snapshot did not see (%s)",
                self.account_id,
                self.spec.name,
                reason,
            )
        return SnapshotScope(self.account_id, self.spec.tables, prune_skipped=reason)

    def write(self, engine: Engine, batch_rows: int = 1000) -> PartitionResult:
        """Stage and merge at once (scripts and benchmarks that fetch and write in one place)."""
        return self.stage(engine, batch_rows).merge(engine)

    def fail(self, engine: Engine, error: BaseException) -> None:
        """Record a failure that happened outside :meth:`stage` and the merge (they record their own)."""
        mirrors.fail_run(engine, self.run, f"{type(error).__name__}: {error}", self.summary())


@dataclass
class StagedSync:
    """A partition whose eBay calls are done and whose rows wait in staging tables: data, no client.

    A family of several tables hands the same handle to each table's output: the first merge
    writes everything, later calls return its result.
    """

    family: str
    account_id: str
    partition_key: str
    run: mirrors.RunHandle
    summary: dict[str, Any]
    cursor_value: datetime
    snapshot: SnapshotScope | None
    staged: StagedPartition
    api_calls: int
    calls_by_name: dict[str, int]
    #: When the calls were made (their eBay day counts them, see ``sync.quota_guard``).
    fetched_at: datetime | None = None
    result: PartitionResult | None = None

    def merge(self, engine: Engine) -> PartitionResult:
        """Merge the staged rows, move the cursor and complete the run row in one transaction (once)."""
        if self.result is not None:
            return self.result
        result = merge_partition(
            engine,
            self.staged,
            run=self.run,
            summary={**self.summary, "calls_by_name": self.calls_by_name},
            cursor_value=self.cursor_value,
            snapshot=self.snapshot,
            api_calls=self.api_calls,
        )
        quota_guard.record_run_calls(
            engine, self.account_id, self.family, self.calls_by_name, self.fetched_at or datetime.now(UTC)
        )
        log.info(
            "account %s family %s %s: fetched %d in %d pages, %d API calls, stored %d",
            self.account_id,
            self.family,
            self.partition_key,
            result.fetched,
            result.pages,
            self.api_calls,
            result.summary["total_stored"],
        )
        self.result = result
        return result

    def abandon(self, engine: Engine, reason: str) -> None:
        """Drop the staged rows unmerged and close the run row as ``error`` with ``reason``."""
        with engine.begin() as conn:
            staging.drop_stages(conn, self.staged.stages.values())
        mirrors.fail_run(engine, self.run, reason, self.summary)


def abandon_after_failure(engine: Engine, unmerged: Iterable[StagedSync], failed_partition: str) -> None:
    """Abandon the staged partitions a run will not merge because ``failed_partition`` of it failed."""
    for sync in unmerged:
        sync.abandon(engine, f"not written: partition {failed_partition} of the same run failed")


class _PageTap:
    """Passes a family's pages through, remembering the latest (to explain a refused write)."""

    def __init__(self, pages: Iterable[RowPage]) -> None:
        self._pages: Iterator[RowPage] = iter(pages)
        self.current: RowPage | None = None

    def __iter__(self) -> _PageTap:
        return self

    def __next__(self) -> RowPage:
        self.current = next(self._pages)
        return self.current


def beyond_reach(spec: FamilySpec, window: Window, now: datetime) -> list[str]:
    """What eBay's reach keeps out of ``window`` for each source of ``spec``, in words (empty: nothing)."""
    notes = (paging.beyond_reach(e, window.start, window.end, now) for e in spec.endpoints if e.window is not None)
    return list(dict.fromkeys(note for note in notes if note is not None))


def out_of_reach(spec: FamilySpec, window: Window, now: datetime) -> str | None:
    """Why no source of ``spec`` can search ``window`` (each is older than eBay keeps), or None.

    ``eBay keeps 18 months of inquiries``: such a partition is skipped without a call to eBay.
    """
    windowed = [e for e in spec.endpoints if e.window is not None]
    if not windowed or any(paging.windows(e, window.start, window.end, now) for e in windowed):
        return None
    reasons = (e.window.oldest_start.reason for e in windowed if e.window and e.window.oldest_start)
    return "; ".join(dict.fromkeys(reasons))


def require_reauthorization(engine: Engine, account_id: str, reason: str) -> None:
    """Stop syncing an account whose refresh token eBay rejected, saying so in every family's ``last_error``.

    Later partitions of any family are skipped without calling eBay (see ``mirrors.sync_allowed``)
    until ``accounts.add_account`` stores a new refresh token.
    """
    mark_refresh_token_rejected(engine, account_id, reason)
    mirrors.set_account_error(engine, account_id, [spec.name for spec in FAMILIES], reason)
    log.warning("account %s: refresh token rejected; every family stops until the account is re-authorized", account_id)


def begin(
    engine: Engine,
    spec: FamilySpec,
    account_id: str,
    day: date | None,
    *,
    partition_key: str,
    dagster_run_id: str | None = None,
    now: datetime | None = None,
    clients_factory: Callable[[], EbayClients] | None = None,
    retry_number: int = 0,
    last_day: date | None = None,
    window_from: date | None = None,
    open_from: date | None = None,
) -> PartitionSync | Skipped:
    """Check the switches, open the run row and return the (lazy) sync of one partition.

    With ``last_day``, the sync covers the consecutive days ``day..last_day`` in one window (one
    run row, one transaction, one cursor move), as a range run of day partitions does. With an
    earlier ``window_from`` the window starts that day instead: a refresh re-reads older days'
    records (see ``sync.refresh``) while the run stays the sync of its own partition; a later one
    (inside a week or month partition) narrows the window to that day onwards. ``open_from`` reaches
    back for a refresh of open records only: sources that hold none read the partition's own
    (possibly narrowed) window (``FetchContext.own_window``).

    A family whose scope the account lacks, or an account whose refresh token expired or was
    rejected, is skipped without a call to eBay; its ``last_error`` says how to fix it.

    A window older than eBay keeps for every source of the family is skipped, with the reason
    (``eBay keeps 18 months of inquiries``), without a call to eBay; a source of several out of
    reach is left out and the run summary says so (``left_out``).

    ``retry_number`` > 0 marks a step retry within the same Dagster run: it may close the row
    the previous attempt left running (see ``mirrors.start_run``).
    """
    validate_account_id(account_id)
    now = now or datetime.now(UTC)
    if spec.windowed and day is None:
        raise ValueError(f"family {spec.name} is windowed: a day is required")
    window = own_window = None
    if spec.windowed and day is not None:
        # ``window_from`` after ``day`` narrows the window (a schedule's tick in a week or month partition).
        start = day if window_from is None else window_from
        if start > (last_day or day):
            raise ValueError(f"family {spec.name}: window_from {start} is after the partition's last day")
        first = start if open_from is None else min(start, open_from)
        window = days_window(first, last_day or day, spec.overlap, now)
        if first < start:
            own_window = days_window(start, last_day or day, spec.overlap, now)
    with engine.begin() as conn:
        get_account(conn, account_id)
        mirrors.ensure_sync_state(conn, account_id, spec.name)
        allowed, reason = mirrors.sync_allowed(conn, account_id, spec.name)
        if allowed:
            reason = scope_rules.scope_reason(conn, account_id, spec)
            allowed = reason is None
        blocked = scope_rules.blocked_reason(conn, account_id, spec)
    if not allowed and reason is not None and reason == blocked:
        # Only a person can unblock it (re-consent): the family's last_error says how.
        mirrors.set_account_error(engine, account_id, [spec.name], reason)
    if allowed and window is not None:
        reason = out_of_reach(spec, window, now)
        allowed = reason is None
    if allowed:
        # eBay's daily quota of an API the family calls is (nearly) spent: wait for its reset.
        reason = quota_guard.skip_reason(engine, spec.ebay_calls, account_id, now)
        allowed = reason is None
    if not allowed:
        assert reason is not None
        return Skipped(reason, mirrors.skip_run(engine, account_id, spec.name, dagster_run_id, partition_key, reason))
    summary = {**(window.as_dict() if window else {}), "partition_key": partition_key, "dagster_run_id": dagster_run_id}
    run = mirrors.start_run(
        engine, account_id, spec.name, dagster_run_id, partition_key, summary, retry_of_same_run=retry_number > 0
    )
    try:
        clients = clients_factory() if clients_factory else build_clients(engine, account_id)
    except BaseException as exc:
        mirrors.fail_run(engine, run, f"{type(exc).__name__}: {exc}")
        raise
    return PartitionSync(spec, account_id, window, run, clients, now, partition_key, dagster_run_id, own_window)
