"""A partition-aware IO manager that upserts family partitions into PostgreSQL.

``handle_output`` receives :class:`StagedSync` handles (a family partition, or one account's range
of days, already fetched by the asset and waiting in staging tables; each is merged in one
transaction with the compatibility mirrors, and no eBay call happens here). A family with several
tables yields the same handles for each table's output: the first output merges everything, later
outputs only report their table's counts. Nothing loads tables back into memory: downstream assets
(the problem grid) read them in SQL and depend on them through ``deps``.

A run of many accounts hands a :class:`SyncBatch` instead: each staged account is merged in its
own transaction; when every account landed (or was skipped), Dagster materializes the run's
partitions as usual. When some failed, the landed accounts' partitions are logged as
materialized, one event per table and partition, and the output fails naming the failed accounts,
so Dagster shows only their partitions as failed.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import sqlalchemy as sa

from ebay_pipelines.defs.failures import retry_only_transient
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.batch import SyncBatch
from ebay_pipelines.sync.partition_sync import StagedSync


def _table_name(context: dg.OutputContext | dg.InputContext) -> str:
    return context.asset_key.path[-1]


class PostgresUpsertIOManager(dg.ConfigurableIOManager):
    """Upserts family asset partitions into their PostgreSQL tables."""

    postgres: dg.ResourceDependency[PostgresResource]

    def handle_output(self, context: dg.OutputContext, obj: Any) -> Iterator[Any]:  # type: ignore[override]
        """Write the output of one asset partition (see the module docstring).

        A generator, so materializations logged before a failure still reach the event log.
        """
        if obj is None:
            return
        engine = self.postgres.get_engine()
        table = _table_name(context)
        if isinstance(obj, SyncBatch):
            yield from self._write_batch(context, engine, table, obj)
            return
        if isinstance(obj, tuple) and obj and all(isinstance(s, StagedSync) for s in obj):
            self._write_syncs(context, engine, table, obj)
            return
        raise TypeError(f"{table}: cannot store a {type(obj).__name__}")

    def _write_batch(self, context: dg.OutputContext, engine: sa.Engine, table: str, batch: SyncBatch) -> Iterator[Any]:
        """Merge each account of a many-account run on its own; fail naming the failed accounts, if any."""
        batch.merge(engine)
        landed = [o.staged for o in batch.landed if o.staged is not None]
        if not batch.failed:
            if landed:
                self._report(context, table, landed)
            return
        if batch.reported:
            return
        batch.reported = True
        events = [
            dg.AssetMaterialization(
                asset_key=dg.AssetKey(name),
                partition=key,
                metadata={
                    "account": outcome.plan.account_id,
                    "rows_upserted": dg.MetadataValue.int(outcome.staged.result.counts.for_table(name).written),
                    "worker_run_id": outcome.staged.run.run_id,
                },
            )
            for name in batch.tables
            for outcome in batch.landed
            if outcome.staged is not None and outcome.staged.result is not None
            for key in outcome.plan.keys
        ]
        for event in events:
            context.log_event(event)
        if events:
            # Dagster hands logged events on after each yielded item; what is yielded itself is
            # reported only when the output succeeds, which it does not.
            yield events[-1]
        raise dg.Failure(
            description=batch.failure_text(),
            metadata={
                "failed_accounts": ", ".join(o.plan.account_id for o in batch.failed),
                "landed_accounts": ", ".join(o.plan.account_id for o in batch.landed),
            },
            allow_retries=False,
        )

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
                partition_sync.abandon_after_failure(engine, syncs[len(results) + 1 :], sync.partition_key)
                raise
        self._report(context, table, syncs)

    def _report(
        self, context: dg.OutputContext, table: str, syncs: "tuple[StagedSync, ...] | list[StagedSync]"
    ) -> None:
        """The table's counts over the merged syncs, as the output's metadata."""
        results = [s.result for s in syncs if s.result is not None]
        counts = [r.counts.for_table(table) for r in results]
        summaries = [r.summary for r in results]
        skipped = [s["prune_skipped"] for s in summaries if s.get("prune_skipped")]
        left_out = [note for s in summaries for note in s.get("left_out") or []]
        coverage = [s["inventory_api_coverage"] for s in summaries if s.get("inventory_api_coverage")]
        unreadable = [u for s in summaries for u in s.get("unreadable", [])]
        context.add_output_metadata(
            {
                **({"prune_skipped": "; ".join(dict.fromkeys(skipped))} if skipped else {}),
                **({"left_out": "; ".join(dict.fromkeys(left_out))} if left_out else {}),
                **({"inventory_api_coverage": "; ".join(dict.fromkeys(coverage))} if coverage else {}),
                **({"unreadable": dg.MetadataValue.json(unreadable)} if unreadable else {}),
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

    def load_input(self, context: dg.InputContext) -> Any:
        """Refuse: tables are read in SQL by their consumers, never loaded through the IO manager."""
        raise TypeError(
            f"{_table_name(context)} is not loaded into memory: read it in SQL and depend on it with deps=[...]"
        )
