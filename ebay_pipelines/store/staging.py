"""Staging tables: where a sync's fetched rows wait until the IO manager merges them.

A sync COPYs its rows into unlogged staging tables of its own (one per data table, shaped like it,
plus a sequence column that keeps arrival order), committing batch by batch so memory stays bounded
by a few pages however large the window. The merge then moves every staged row into its data table
under the monotonic, changed-data guard in the caller's transaction. Staging tables carry their
``ebay_worker_run`` id as a table comment, so those of runs that died before their merge can be
found and dropped (:func:`drop_orphaned_stages`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence

import psycopg2.extensions
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine

from ebay_pipelines.store import order_links
from ebay_pipelines.store.tables import metadata, natural_key
from ebay_pipelines.store.upsert import (
    COPY_OPTIONS,
    SEQ_COLUMN,
    UpsertCounts,
    check_shape,
    copy_text,
    merge_sql,
    quote,
)

PREFIX = "ebay_stage_"
_RUN_COMMENT = "ebay_worker_run:"


def stage_names(stage_id: str, tables: Iterable[str]) -> dict[str, str]:
    """The staging table of each data table for one sync (``ebay_stage_<id>_<table>``)."""
    digest = hashlib.sha1(stage_id.encode()).hexdigest()[:12]
    names = {table: f"{PREFIX}{digest}_{table}" for table in tables}
    too_long = [n for n in names.values() if len(n) > 63]
    if too_long:
        raise ValueError(f"staging table names longer than PostgreSQL allows: {too_long}")
    return names


def create_stages(conn: Connection, stages: dict[str, str], run_id: str | None, *, temporary: bool = False) -> None:
    """Create (empty) the staging tables ``stages`` maps each data table to.

    They are unlogged tables a later transaction merges, or with ``temporary`` tables of this
    session that live no longer than the caller's work.
    """
    for table, stage in stages.items():
        if not temporary:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(stage)}")
        conn.exec_driver_sql(
            f"CREATE {'TEMP' if temporary else 'UNLOGGED'} TABLE {quote(stage)} "
            f"(LIKE {quote(table)} INCLUDING DEFAULTS, {quote(SEQ_COLUMN)} bigint GENERATED ALWAYS AS IDENTITY)"
        )
        if run_id is not None:
            comment = (_RUN_COMMENT + run_id).replace("'", "''")
            conn.exec_driver_sql(f"COMMENT ON TABLE {quote(stage)} IS '{comment}'")


def render_rows(table: str, rows: Sequence[dict]) -> tuple[tuple[str, ...], str]:
    """Check ``rows`` (all of one shape) against ``table`` and render them as COPY text; return columns and text."""
    target = metadata.tables[table]
    columns = check_shape(target, rows)
    json_columns = frozenset(c.name for c in target.columns if isinstance(c.type, JSONB))
    return tuple(columns), copy_text(rows, columns, json_columns).getvalue()


def copy_rendered(conn: Connection, stage: str, columns: Sequence[str], text: str) -> None:
    """COPY rows rendered by :func:`render_rows` into ``stage`` (the driver waits without the interpreter lock)."""
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, psycopg2.extensions.connection), "the store runs on psycopg2 (store/urls.py)"
    with dbapi.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {quote(stage)} ({', '.join(quote(c) for c in columns)}) FROM STDIN {COPY_OPTIONS}",
            io.StringIO(text),
            size=1 << 20,
        )


def copy_rows(conn: Connection, table: str, stage: str, rows: Sequence[dict]) -> list[str]:
    """COPY ``rows`` (all of one shape) into ``stage``; return their columns."""
    columns, text = render_rows(table, rows)
    copy_rendered(conn, stage, columns, text)
    return list(columns)


def merge_stage(conn: Connection, table: str, stage: str, columns: Iterable[str]) -> UpsertCounts:
    """Merge the staged rows into ``table``: the newest version of each key, monotonic, changed data only.

    Rows naming a line item but no order are linked to it first, and merged line items link the
    rows waiting for them (:mod:`ebay_pipelines.store.order_links`).
    """
    target = metadata.tables[table]
    ordered = [c.name for c in target.columns if c.name in set(columns)]
    if not ordered:
        return UpsertCounts()
    if "order_id" in ordered:
        order_links.link_staged(conn, table, stage)
    inserted, written, distinct = conn.exec_driver_sql(merge_sql(target, stage, ordered)).one()
    order_links.link_waiting(conn, table, stage)
    return UpsertCounts(inserted=inserted, updated=written - inserted, unchanged=distinct - written)


def upsert_rows(conn: Connection, table: sa.Table, rows: Iterable[dict]) -> UpsertCounts:
    """Upsert ``rows`` into ``table`` at once, through a temporary stage and the same merge as a sync's.

    Runs in the caller's transaction: a rolled-back upsert leaves nothing, its stage included.
    """
    batch = list(rows)
    if not batch:
        return UpsertCounts()
    stage = f"_upsert_{table.name}"
    create_stages(conn, {table.name: stage}, None, temporary=True)
    columns = copy_rows(conn, table.name, stage, batch)
    counts = merge_stage(conn, table.name, stage, columns)
    drop_stages(conn, [stage])
    return counts


def delete_unseen(conn: Connection, table: str, stage: str, account_id: str) -> int:
    """Delete the account's rows of ``table`` whose key is not staged (a complete snapshot's prune)."""
    key = natural_key(metadata.tables[table])
    match = " AND ".join(f"s.{quote(c)} = t.{quote(c)}" for c in key)
    result = conn.exec_driver_sql(
        f"DELETE FROM {quote(table)} AS t WHERE t.ebay_account_id = %(account)s "
        f"AND NOT EXISTS (SELECT 1 FROM {quote(stage)} AS s WHERE {match})",
        {"account": account_id},
    )
    return result.rowcount


def drop_stages(conn: Connection, stages: Iterable[str]) -> None:
    """Drop staging tables (those already gone are fine)."""
    for stage in stages:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(stage)}")


def drop_orphaned_stages(engine: Engine) -> int:
    """Drop staging tables whose run is no longer ``running`` (it died before its merge); return how many."""
    query = sa.text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN ebay_worker_run r ON r.id = substr(obj_description(c.oid, 'pg_class'), :skip) "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname LIKE :prefix "
        "AND obj_description(c.oid, 'pg_class') LIKE :comment AND (r.id IS NULL OR r.status <> 'running')"
    )
    with engine.begin() as conn:
        names = [
            row[0]
            for row in conn.execute(
                query,
                {
                    "skip": len(_RUN_COMMENT) + 1,
                    "prefix": PREFIX.replace("_", r"\_") + "%",
                    "comment": _RUN_COMMENT + "%",
                },
            )
        ]
        drop_stages(conn, names)
    return len(names)
