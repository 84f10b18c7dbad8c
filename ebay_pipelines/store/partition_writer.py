"""Write one partition's stream of row pages atomically, in two steps: stage, then merge.

:func:`stage_partition` consumes the pages (in the asset's compute, where the eBay calls happen)
and COPYs their rows into the sync's own staging tables, batch by batch, so memory stays bounded by
a few pages; page events go to ``ebay_api_worker_log`` with the COPY of their rows (or within a
second), so the UI can follow a long run. Fetching, decoding, building rows and rendering them as
COPY text run in a thread of their own, a bounded number of pages ahead of the COPY
(:class:`_Pipeline`), so eBay's answers arrive and are rendered while PostgreSQL stages earlier
ones. It returns a small :class:`StagedPartition` handle.

:func:`merge_partition` (in the IO manager) then merges the staged rows into the data tables,
prunes what a complete snapshot did not see, moves the sync-state cursor and completes the run row
in one transaction, and drops the staging tables: a run that dies anywhere leaves nothing
half-written and no cursor moved.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from ebay_pipelines.store import mirrors, staging
from ebay_pipelines.store.gc_scope import existing_objects_frozen
from ebay_pipelines.store.upsert import TableCounts

log = logging.getLogger(__name__)


@dataclass
class RowPage:
    """One fetched page turned into rows, grouped by target table."""

    rows: dict[str, list[dict]]
    fetched: int


@dataclass
class PartitionResult:
    """What a partition write did."""

    counts: TableCounts = field(default_factory=TableCounts)
    pages: int = 0
    fetched: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StagedPartition:
    """What a sync staged: its staging tables, the columns its rows carry, and its page counts.

    It holds no eBay client and no row: the merge needs nothing else.
    """

    stages: dict[str, str]
    columns: dict[str, tuple[str, ...]]
    staged: dict[str, int]
    pages: int
    fetched: int
    seconds: float

    @property
    def tables(self) -> tuple[str, ...]:
        """The data tables this sync writes."""
        return tuple(self.stages)


@dataclass(frozen=True)
class SnapshotScope:
    """Rows of ``account_id`` in these tables that the snapshot did not see are deleted at the end.

    ``prune_skipped`` (why the snapshot is not proven complete) keeps them instead, and is recorded
    in the run's summary.
    """

    account_id: str
    tables: tuple[str, ...]
    prune_skipped: str | None = None


@dataclass(frozen=True)
class _RenderedPage:
    """One row page as COPY text, by table: ``(columns, text, rows)``; what crosses the pipeline's queue."""

    fetched: int
    tables: dict[str, tuple[tuple[str, ...], str, int]]


_DONE = object()


class _Pipeline:
    """Fetch and render pages in a thread, at most ``depth`` rendered pages ahead of the thread that COPYs them.

    The producer thread iterates ``pages`` (eBay's HTTP calls, JSON decoding and the family's row
    functions all happen inside that iterator) and renders each page's rows as COPY text; the
    consumer (the caller) COPYs them into the staging tables, where the driver waits for
    PostgreSQL without the interpreter lock. So fetching, decoding and rendering overlap with
    PostgreSQL's work on earlier pages, and memory holds at most ``depth`` pages in the queue plus
    one in each thread. A failure on either side stops both: the producer's exception is re-raised
    unchanged by the consumer; :meth:`close` stops the producer and closes the page iterator in
    the producer's own thread.
    """

    def __init__(self, pages: Iterable[RowPage], render: Callable[[RowPage], _RenderedPage], depth: int) -> None:
        if depth < 1:
            raise ValueError("a pipeline needs room for at least one page")
        self._pages = pages
        self._render = render
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="partition-fetch", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        iterator = iter(self._pages)
        try:
            for page in iterator:
                # Stopped: no further page is fetched (a put racing the consumer's drain may still land).
                if not self._put(self._render(page)) or self._stop.is_set():
                    break
            else:
                self._put(_DONE)
        except BaseException as exc:  # recorded, then re-raised unchanged by the consumer
            self._put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # pragma: no cover - closing is best effort
                    log.exception("closing the page iterator failed")

    def waiting(self, idle: float) -> Iterator[_RenderedPage | None]:
        """The rendered pages, with a None each time ``idle`` seconds pass without one."""
        while True:
            try:
                item = self._queue.get(timeout=idle)
            except queue.Empty:
                yield None
                continue
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        """Stop the producer (it finishes its current page) and wait for it."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(timeout=0.05)


def _renderer(tables: tuple[str, ...]) -> Callable[[RowPage], _RenderedPage]:
    """Render a row page's rows per table (a table the sync does not write is refused)."""

    def render(page: RowPage) -> _RenderedPage:
        rendered = {}
        for name, rows in page.rows.items():
            if not rows:
                continue
            if name not in tables:
                raise ValueError(f"a page holds rows for {name}, which this sync does not write ({', '.join(tables)})")
            columns, text = staging.render_rows(name, rows)
            rendered[name] = (columns, text, len(rows))
        return _RenderedPage(page.fetched, rendered)

    return render


#: Seconds between two heartbeats of a staging run (page events are written for every page).
HEARTBEAT_SECONDS = 5.0

#: Longest a page event waits for its commit when no COPY commits it first, so the UI follows a run.
EVENTS_COMMIT_SECONDS = 1.0


def _record_failure(engine: Engine, run: mirrors.RunHandle | None, exc: BaseException, summary: dict[str, Any]) -> None:
    if run is None:
        return
    reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    try:
        mirrors.fail_run(engine, run, reason, summary)
    except Exception:  # pragma: no cover - the original error matters more
        log.exception("could not record the failure of run %s", run.run_id)


def _log_pages(conn: Any, run: mirrors.RunHandle | None, events: list[dict[str, Any]]) -> None:
    """Write the pending page events in the caller's transaction and forget them."""
    if run is not None:
        mirrors.log_events(conn, run, "page", events)
    events.clear()


def _log_pages_quietly(engine: Engine, run: mirrors.RunHandle | None, events: list[dict[str, Any]]) -> None:
    """Keep the events of the pages a failed staging read (their rows are dropped, what happened is not)."""
    try:
        with engine.begin() as conn:
            _log_pages(conn, run, events)
    except Exception:  # pragma: no cover - the original error matters more
        log.exception("could not record the page events of a failed staging")


def _drop_quietly(engine: Engine, stages: Iterable[str]) -> None:
    try:
        with engine.begin() as conn:
            staging.drop_stages(conn, stages)
    except Exception:  # pragma: no cover - drop_orphaned_stages retries later
        log.exception("could not drop staging tables")


def stage_partition(
    engine: Engine,
    pages: Iterable[RowPage],
    *,
    tables: Iterable[str],
    run: mirrors.RunHandle | None,
    summary: dict[str, Any] | None = None,
    batch_rows: int = 2000,
    prefetch_pages: int = 2,
) -> StagedPartition:
    """Consume ``pages`` and COPY their rows into new staging tables of ``tables``.

    Pages are fetched and rendered ``prefetch_pages`` ahead in a thread of their own (see
    :class:`_Pipeline`); 0 does everything in the calling thread. Rendered rows are buffered per
    table and COPYed ``batch_rows`` at a time; each COPY commits together with the events of the
    pages read so far in ``ebay_api_worker_log`` (one per page; an event waits at most
    :data:`EVENTS_COMMIT_SECONDS` for a COPY). On any error the staging tables are dropped, the
    events of the pages read are kept, the run row becomes ``error`` with a one-line reason in
    ``ebay_sync_state.last_error``, and the exception propagates.
    """
    with existing_objects_frozen():
        return _stage_partition(
            engine,
            pages,
            tables=tuple(tables),
            run=run,
            summary=summary or {},
            batch_rows=batch_rows,
            prefetch_pages=prefetch_pages,
        )


class _Buffers:
    """Rendered rows waiting for their COPY, per table; consecutive chunks of one shape go in one COPY."""

    def __init__(self, stages: dict[str, str]) -> None:
        self.stages = stages
        self.pending: dict[str, tuple[tuple[str, ...], list[str], int]] = {}
        self.columns: dict[str, tuple[str, ...]] = {}
        self.staged: dict[str, int] = dict.fromkeys(stages, 0)

    def add(self, conn: Any, name: str, columns: tuple[str, ...], text: str, rows: int, batch_rows: int) -> int:
        """Buffer one chunk; COPY the table's buffer once it holds ``batch_rows``. Return rows COPYed."""
        copied = 0
        waiting = self.pending.get(name)
        if waiting is not None and waiting[0] != columns:
            copied += self.flush(conn, name)
            waiting = None
        if waiting is None:
            self.pending[name] = (columns, [text], rows)
        else:
            waiting[1].append(text)
            self.pending[name] = (columns, waiting[1], waiting[2] + rows)
        if self.pending[name][2] >= batch_rows:
            copied += self.flush(conn, name)
        return copied

    def flush(self, conn: Any, name: str) -> int:
        """COPY what the table's buffer holds; return how many rows."""
        waiting = self.pending.pop(name, None)
        if waiting is None:
            return 0
        columns, texts, rows = waiting
        staging.copy_rendered(conn, self.stages[name], columns, "".join(texts))
        self.columns[name] = tuple(dict.fromkeys((*self.columns.get(name, ()), *columns)))
        self.staged[name] += rows
        return rows


def _stage_partition(
    engine: Engine,
    pages: Iterable[RowPage],
    *,
    tables: tuple[str, ...],
    run: mirrors.RunHandle | None,
    summary: dict[str, Any],
    batch_rows: int,
    prefetch_pages: int,
) -> StagedPartition:
    started = time.monotonic()
    stages = staging.stage_names(run.run_id if run is not None else uuid.uuid4().hex, tables)
    buffers = _Buffers(stages)
    counts = {"pages": 0, "fetched": 0}
    render = _renderer(tables)
    pipeline = _Pipeline(pages, render, prefetch_pages) if prefetch_pages > 0 else None
    # While eBay is slow to answer, the pipeline wakes the loop so the pending page events commit.
    rendered: Iterable[_RenderedPage | None] = (
        pipeline.waiting(EVENTS_COMMIT_SECONDS) if pipeline is not None else map(render, pages)
    )
    beat = committed = time.monotonic()
    events: list[dict[str, Any]] = []  # page events not yet committed
    try:
        with engine.connect() as conn:
            with conn.begin():
                staging.create_stages(conn, stages, run.run_id if run is not None else None)
            transaction = None
            for page in rendered:
                page_staged = 0
                if page is not None:
                    counts["pages"] += 1
                    counts["fetched"] += page.fetched
                    transaction = transaction or conn.begin()
                    for name, (columns, text, rows) in page.tables.items():
                        page_staged += buffers.add(conn, name, columns, text, rows, batch_rows)
                    events.append({"page": counts["pages"], "fetched": page.fetched, "staged": page_staged})
                # A COPY commits with the events of the pages it holds: memory stays bounded, and each
                # commit waits on PostgreSQL once per batch rather than once per page.
                if events and (page is None or page_staged or time.monotonic() - committed >= EVENTS_COMMIT_SECONDS):
                    transaction = transaction or conn.begin()
                    _log_pages(conn, run, events)
                    transaction.commit()
                    transaction, committed = None, time.monotonic()
                if run is not None and time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    mirrors.heartbeat(engine, run)
                    beat = time.monotonic()
            with transaction or conn.begin():
                for name in list(buffers.pending):
                    buffers.flush(conn, name)
                _log_pages(conn, run, events)
    except BaseException as exc:  # recorded, then re-raised unchanged
        if pipeline is not None:
            pipeline.close()  # stop fetching before the failure is recorded
        _log_pages_quietly(engine, run, events)
        _drop_quietly(engine, stages.values())
        _record_failure(engine, run, exc, {**summary, "total_fetched": counts["fetched"], "pages": counts["pages"]})
        raise
    finally:
        if pipeline is not None:
            pipeline.close()
    return StagedPartition(
        stages=stages,
        columns=buffers.columns,
        staged=buffers.staged,
        pages=counts["pages"],
        fetched=counts["fetched"],
        seconds=time.monotonic() - started,
    )


def merge_partition(
    engine: Engine,
    staged: StagedPartition,
    *,
    run: mirrors.RunHandle | None,
    summary: dict[str, Any],
    cursor_value: datetime | None = None,
    snapshot: SnapshotScope | None = None,
    api_calls: int | None = None,
) -> PartitionResult:
    """Merge a staged sync into its tables and complete ``run``, in one transaction; drop the staging.

    ``snapshot`` deletes the account's rows of its tables that were not staged, unless it names a
    reason to skip that (``prune_skipped``, then in the summary). On any error the
    transaction rolls back (nothing written, no cursor moved), the run row becomes ``error`` and the
    exception propagates.
    """
    started = time.monotonic()
    result = PartitionResult(pages=staged.pages, fetched=staged.fetched)

    def current_summary() -> dict[str, Any]:
        tables = {
            name: {"inserted": c.inserted, "updated": c.updated, "unchanged": c.unchanged}
            for name, c in result.counts.by_table.items()
        }
        return {
            **summary,
            "total_fetched": result.fetched,
            "total_stored": sum(c.written for c in result.counts.by_table.values()),
            "pages": result.pages,
            "api_calls": api_calls,
            "tables": tables,
            "deleted": dict(result.deleted),
            **({"prune_skipped": snapshot.prune_skipped} if snapshot is not None and snapshot.prune_skipped else {}),
            "duration_s": round(staged.seconds + time.monotonic() - started, 3),
            "staging_s": round(staged.seconds, 3),
            "merge_s": round(time.monotonic() - started, 3),
        }

    try:
        with engine.begin() as conn:
            for name, stage in staged.stages.items():
                result.counts.for_table(name).add(staging.merge_stage(conn, name, stage, staged.columns.get(name, ())))
            if snapshot is not None and snapshot.prune_skipped is None:
                for name in snapshot.tables:
                    result.deleted[name] = staging.delete_unseen(conn, name, staged.stages[name], snapshot.account_id)
            result.summary = current_summary()
            if run is not None:
                mirrors.complete_run(conn, run, result.summary, cursor_value)
            staging.drop_stages(conn, staged.stages.values())
        if run is not None:
            done = {k: result.summary[k] for k in ("total_fetched", "total_stored", "pages", "api_calls")}
            mirrors.log_event(engine, run, "done", done)
    except BaseException as exc:  # recorded, then re-raised unchanged
        _drop_quietly(engine, staged.stages.values())
        _record_failure(engine, run, exc, current_summary())
        raise
    result.seconds = staged.seconds + time.monotonic() - started
    return result


def write_partition(
    engine: Engine,
    pages: Iterable[RowPage],
    *,
    run: mirrors.RunHandle | None,
    summary: dict[str, Any],
    cursor_value: datetime | None = None,
    snapshot: SnapshotScope | None = None,
    batch_rows: int = 2000,
    api_calls: Callable[[], int] | None = None,
    prefetch_pages: int = 2,
    tables: Iterable[str] | None = None,
) -> PartitionResult:
    """Stage ``pages`` and merge them at once (for callers that fetch and write in one place).

    ``tables`` defaults to the snapshot's tables, else to the tables the first page holds rows for.
    """
    pages = iter(pages)
    first = next(pages, None)
    if tables is None:
        tables = snapshot.tables if snapshot is not None else tuple(first.rows) if first is not None else ()
    chained = pages if first is None else _prepend(first, pages)
    staged = stage_partition(
        engine, chained, tables=tables, run=run, summary=summary, batch_rows=batch_rows, prefetch_pages=prefetch_pages
    )
    return merge_partition(
        engine,
        staged,
        run=run,
        summary=summary,
        cursor_value=cursor_value,
        snapshot=snapshot,
        api_calls=api_calls() if api_calls else None,
    )


def _prepend(first: RowPage, rest: Iterator[RowPage]) -> Iterator[RowPage]:
    yield first
    yield from rest
