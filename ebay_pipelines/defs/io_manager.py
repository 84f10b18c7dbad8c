"""A partition-aware IO manager that upserts into PostgreSQL and reads partitions back.

``handle_output`` receives either :class:`StagedSync` handles (a family partition, or one account's
range of days, already fetched by the asset and waiting in staging tables; each is merged in one
transaction with the compatibility mirrors, and no eBay call happens here) or a DataFrame (a
derived, per-account snapshot such as ``problem_orders``). A family with several tables yields the
same handles for each table's output: the first output merges everything, later outputs only
report their table's counts. ``load_input`` reads a partition (or a range) back as a DataFrame.
"""

import math
from datetime import timedelta
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from ebay_pipelines.defs.failures import retry_only_transient
from ebay_pipelines.defs.partitions import parse_partition_key
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.store.partition_writer import RowPage, SnapshotScope, write_partition
from ebay_pipelines.store.tables import metadata as table_metadata
from ebay_pipelines.sync.families import FAMILY_OF_TABLE
from ebay_pipelines.sync.partition_sync import StagedSync
from ebay_pipelines.sync.windows import day_start


def _table_name(context: dg.OutputContext | dg.InputContext) -> str:
    return context.asset_key.path[-1]


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


class PostgresUpsertIOManager(dg.ConfigurableIOManager):
    """Upserts asset partitions into their PostgreSQL table and loads them back as DataFrames."""

    postgres: dg.ResourceDependency[PostgresResource]
    batch_rows: int = 1000

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        """Write the output of one asset partition (see the module docstring)."""
        if obj is None:
            return
        engine = self.postgres.get_engine()
        table = _table_name(context)
        if isinstance(obj, tuple) and obj and all(isinstance(s, StagedSync) for s in obj):
            self._write_syncs(context, engine, table, obj)
            return
        if isinstance(obj, pd.DataFrame):
            self._write_account_snapshot(context, engine, table, obj)
            return
        raise TypeError(f"{table}: cannot store a {type(obj).__name__}")

    def _write_syncs(
        self, context: dg.OutputContext, engine: sa.Engine, table: str, syncs: tuple[StagedSync, ...]
    ) -> None:
        """Write each sync of the run (one per account and day range) and report the table's counts."""
        results = []
        for sync in syncs:
            try:
                with retry_only_transient(
                    f"account {sync.account_id} family {sync.family} partition {sync.partition_key}"
                ):
                    results.append(sync.merge(engine))
            except BaseException:
                for later in syncs[len(results) + 1 :]:
                    later.abandon(engine, f"not written: partition {sync.partition_key} of the same run failed")
                raise
        counts = [r.counts.for_table(table) for r in results]
        summaries = [r.summary for r in results]
        context.add_output_metadata(
            {
                "account": ", ".join(dict.fromkeys(s.account_id for s in syncs)),
                "window_from": min(s["window_from"] for s in summaries),
                "window_to": max(s["window_to"] for s in summaries),
                "rows_fetched": dg.MetadataValue.int(sum(r.fetched for r in results)),
                "rows_upserted": dg.MetadataValue.int(sum(c.written for c in counts)),
                "rows_inserted": dg.MetadataValue.int(sum(c.inserted for c in counts)),
                "rows_updated": dg.MetadataValue.int(sum(c.updated for c in counts)),
                "rows_unchanged": dg.MetadataValue.int(sum(c.unchanged for c in counts)),
                "rows_deleted": dg.MetadataValue.int(sum(r.deleted.get(table, 0) for r in results)),
                "api_calls": dg.MetadataValue.int(sum(s.get("api_calls") or 0 for s in summaries)),
                "pages": dg.MetadataValue.int(sum(r.pages for r in results)),
                "duration_s": dg.MetadataValue.float(round(sum(r.seconds for r in results), 3)),
                "worker_run_id": syncs[0].run.run_id
                if len(syncs) == 1
                else ", ".join(str(s.run.run_id) for s in syncs),
            }
        )

    def _write_account_snapshot(
        self, context: dg.OutputContext, engine: sa.Engine, table: str, frame: pd.DataFrame
    ) -> None:
        account_id = parse_partition_key(context.partition_key).account_id
        records = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        pages = (
            RowPage(rows={table: records[i : i + self.batch_rows]}, fetched=len(records[i : i + self.batch_rows]))
            for i in range(0, max(len(records), 1), self.batch_rows)
        )
        result = write_partition(
            engine,
            pages,
            run=None,
            summary={"account": account_id},
            snapshot=SnapshotScope(account_id, (table,)),
            batch_rows=self.batch_rows,
        )
        counts = result.counts.for_table(table)
        context.add_output_metadata(
            {
                "account": account_id,
                "rows": dg.MetadataValue.int(len(records)),
                "rows_inserted": dg.MetadataValue.int(counts.inserted),
                "rows_updated": dg.MetadataValue.int(counts.updated),
                "rows_deleted": dg.MetadataValue.int(result.deleted.get(table, 0)),
            }
        )

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        """Read the upstream partition(s) back; AssetIn metadata may name ``columns`` and ``where``."""
        table_name = _table_name(context)
        table = table_metadata.tables[table_name]
        options = context.definition_metadata or {}
        columns = [table.c[c] for c in options.get("columns", [])] or [c for c in table.c if c.name != "raw"]
        query = sa.select(*columns)
        for column, value in (options.get("where") or {}).items():
            query = query.where(table.c[column] == value)
        if context.has_asset_partitions:
            targets = [parse_partition_key(k) for k in context.asset_partition_keys]
            accounts = sorted({t.account_id for t in targets})
            query = query.where(table.c.ebay_account_id.in_(accounts))
            days = sorted({t.day for t in targets if t.day is not None})
            spec = FAMILY_OF_TABLE.get(table_name)
            window_column = spec.window_columns.get(table_name) if spec else None
            if days and window_column and not options.get("all_days"):
                overlap = spec.overlap if spec else timedelta(0)
                query = query.where(
                    table.c[window_column] >= day_start(days[0]) - overlap,
                    table.c[window_column] < day_start(days[-1]) + timedelta(days=1),
                )
        with self.postgres.get_engine().connect() as conn:
            return pd.read_sql(query, conn)
