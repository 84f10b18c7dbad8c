"""Write one partition's stream of row pages atomically.

All rows of a partition, the sync-state cursor move and the run row's completion commit in one
transaction: a run that dies halfway leaves nothing half-written and no cursor moved. Page events
go to ``ebay_api_worker_log`` as they happen, in their own transactions, so the UI can follow a
long run. Pages are fetched one or two ahead in a background thread (so eBay's answers arrive
while earlier rows are written) and rows are written in batches of ``batch_rows`` per table, so
memory stays bounded by a few pages.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.store import mirrors
from ebay_pipelines.store.gc_scope import existing_objects_frozen
from ebay_pipelines.store.tables import metadata, natural_key
from ebay_pipelines.store.upsert import TableCounts, upsert_rows

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
class SnapshotScope:
    """Rows of ``account_id`` in these tables that the snapshot did not see are deleted at the end."""

    account_id: str
    tables: tuple[str, ...]


def _seen_table_name(table: str) -> str:
    return f"_seen_{table}"


def _create_seen_tables(conn: Connection, tables: Iterable[str]) -> None:
    for name in tables:
        table = metadata.tables[name]
        cols = ", ".join(f'"{c}" text' for c in natural_key(table))
        conn.execute(sa.text(f'CREATE TEMP TABLE "{_seen_table_name(name)}" ({cols}) ON COMMIT DROP'))


_DONE = object()


class _Prefetch:
    """Iterate ``pages`` in a background thread, ``depth`` pages ahead of the consumer.

    Fetching (HTTP waits, parsing) then overlaps with the database writes of earlier pages.
    The producer's exception is re-raised by the consumer; :meth:`close` stops the producer
    and closes the page generator in the producer's own thread.
    """

    def __init__(self, pages: Iterable[RowPage], depth: int) -> None:
        self._pages = pages
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="partition-prefetch", daemon=True)
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
                if not self._put(page):
                    break
            else:
                self._put(_DONE)
        except BaseException as exc:
            self._put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # pragma: no cover - closing is best effort
                    log.exception("closing the page iterator failed")

    def __iter__(self) -> Iterator[RowPage]:
        while True:
            item = self._queue.get()
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


def _delete_unseen(conn: Connection, name: str, account_id: str) -> int:
    table = metadata.tables[name]
    key = natural_key(table)
    seen = sa.table(_seen_table_name(name), *[sa.column(c) for c in key])
    match = sa.and_(*[sa.cast(table.c[c], sa.Text) == seen.c[c] for c in key])
    stmt = sa.delete(table).where(
        table.c.ebay_account_id == account_id, ~sa.exists(sa.select(sa.literal(1)).select_from(seen).where(match))
    )
    return conn.execute(stmt).rowcount


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
) -> PartitionResult:
    """Consume ``pages`` and upsert their rows in one transaction, closing ``run`` with it.

    Rows are buffered per table and written ``batch_rows`` at a time. On any error the
    transaction rolls back, the run row becomes ``error`` with a one-line reason in
    ``ebay_sync_state.last_error``, and the exception propagates. ``prefetch_pages`` 0
    consumes ``pages`` in the calling thread.
    """
    with existing_objects_frozen():
        return _write_partition(
            engine,
            pages,
            run=run,
            summary=summary,
            cursor_value=cursor_value,
            snapshot=snapshot,
            batch_rows=batch_rows,
            api_calls=api_calls,
            prefetch_pages=prefetch_pages,
        )


def _write_partition(
    engine: Engine,
    pages: Iterable[RowPage],
    *,
    run: mirrors.RunHandle | None,
    summary: dict[str, Any],
    cursor_value: datetime | None,
    snapshot: SnapshotScope | None,
    batch_rows: int,
    api_calls: Callable[[], int] | None,
    prefetch_pages: int,
) -> PartitionResult:
    result = PartitionResult()
    started = time.monotonic()

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
            "api_calls": api_calls() if api_calls else None,
            "tables": tables,
            "deleted": dict(result.deleted),
            "duration_s": round(time.monotonic() - started, 3),
        }

    pending: dict[str, list[dict]] = {}
    written_since_event: dict[str, int] = {}

    def flush(conn: Connection, name: str) -> None:
        rows = pending.pop(name, None)
        if not rows:
            return
        seen = _seen_table_name(name) if snapshot and name in snapshot.tables else None
        got = upsert_rows(conn, metadata.tables[name], rows, seen_table=seen)
        result.counts.for_table(name).add(got)
        written_since_event[name] = written_since_event.get(name, 0) + got.written

    prefetch = _Prefetch(pages, prefetch_pages) if prefetch_pages > 0 else None
    try:
        with engine.begin() as conn:
            if snapshot:
                _create_seen_tables(conn, snapshot.tables)
            for page in prefetch if prefetch is not None else pages:
                result.pages += 1
                result.fetched += page.fetched
                for name, rows in page.rows.items():
                    result.counts.for_table(name)
                    buffered = pending.setdefault(name, [])
                    buffered.extend(rows)
                    if len(buffered) >= batch_rows:
                        flush(conn, name)
                if run is not None:
                    stored, written_since_event = written_since_event, {}
                    mirrors.log_event(
                        engine, run, "page", {"page": result.pages, "fetched": page.fetched, "stored": stored}
                    )
                    mirrors.heartbeat(engine, run)
            for name in list(pending):
                flush(conn, name)
            if snapshot:
                for name in snapshot.tables:
                    result.deleted[name] = _delete_unseen(conn, name, snapshot.account_id)
            for name in snapshot.tables if snapshot else ():
                result.counts.for_table(name)
            result.summary = current_summary()
            if run is not None:
                mirrors.complete_run(conn, run, result.summary, cursor_value)
        if run is not None:
            mirrors.log_event(
                engine,
                run,
                "done",
                {k: result.summary[k] for k in ("total_fetched", "total_stored", "pages", "api_calls")},
            )
    except BaseException as exc:
        if run is not None:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            try:
                mirrors.fail_run(engine, run, reason, current_summary())
            except Exception:  # pragma: no cover - the original error matters more
                log.exception("could not record the failure of run %s", run.run_id)
        raise
    finally:
        if prefetch is not None:
            prefetch.close()
    result.seconds = time.monotonic() - started
    return result
