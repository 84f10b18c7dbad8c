"""Write one partition's stream of row pages atomically.

All rows of a partition, the sync-state cursor move and the run row's completion commit in one
transaction: a run that dies halfway leaves nothing half-written and no cursor moved. Page events
go to ``ebay_api_worker_log`` as they happen, in their own transactions, so the UI can follow a
long run. Pages are consumed lazily and written in batches, so memory stays bounded by one page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.store import mirrors
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


def _chunks(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _seen_table_name(table: str) -> str:
    return f"_seen_{table}"


def _create_seen_tables(conn: Connection, tables: Iterable[str]) -> None:
    for name in tables:
        table = metadata.tables[name]
        cols = ", ".join(f'"{c}" text' for c in natural_key(table))
        conn.execute(sa.text(f'CREATE TEMP TABLE "{_seen_table_name(name)}" ({cols}) ON COMMIT DROP'))


def _remember_seen(conn: Connection, name: str, rows: list[dict]) -> None:
    key = natural_key(metadata.tables[name])
    seen = sa.table(_seen_table_name(name), *[sa.column(c) for c in key])
    conn.execute(sa.insert(seen), [{c: str(r[c]) for c in key} for r in rows])


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
    batch_rows: int = 1000,
    api_calls: Callable[[], int] | None = None,
) -> PartitionResult:
    """Consume ``pages`` and upsert their rows in one transaction, closing ``run`` with it.

    On any error the transaction rolls back, the run row becomes ``error`` with a one-line
    reason in ``ebay_sync_state.last_error``, and the exception propagates.
    """
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

    try:
        with engine.begin() as conn:
            if snapshot:
                _create_seen_tables(conn, snapshot.tables)
            for page in pages:
                result.pages += 1
                result.fetched += page.fetched
                page_counts: dict[str, int] = {}
                for name, rows in page.rows.items():
                    table = metadata.tables[name]
                    counts = result.counts.for_table(name)
                    for batch in _chunks(rows, batch_rows):
                        got = upsert_rows(conn, table, batch)
                        counts.add(got)
                        page_counts[name] = page_counts.get(name, 0) + got.written
                        if snapshot and name in snapshot.tables:
                            _remember_seen(conn, name, batch)
                if run is not None:
                    mirrors.log_event(engine, run, "page", {"page": result.pages, "fetched": page.fetched,
                                                            "stored": page_counts})
                    mirrors.heartbeat(engine, run)
            if snapshot:
                for name in snapshot.tables:
                    result.deleted[name] = _delete_unseen(conn, name, snapshot.account_id)
            for name in snapshot.tables if snapshot else ():
                result.counts.for_table(name)
            result.summary = current_summary()
            if run is not None:
                mirrors.complete_run(conn, run, result.summary, cursor_value)
        if run is not None:
            mirrors.log_event(engine, run, "done", {k: result.summary[k] for k in ("total_fetched", "total_stored", "pages", "api_calls")})
    except BaseException as exc:  # noqa: BLE001 - recorded, then re-raised unchanged
        if run is not None:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            try:
                mirrors.fail_run(engine, run, reason, current_summary())
            except Exception:  # pragma: no cover - the original error matters more
                log.exception("could not record the failure of run %s", run.run_id)
        raise
    result.seconds = time.monotonic() - started
    return result
