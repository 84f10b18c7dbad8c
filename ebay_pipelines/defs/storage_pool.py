"""Keep a run worker's connections to Dagster's storage open for the whole run.

Dagster's PostgreSQL storages open a new connection for every statement unless told otherwise,
and a run of many accounts stores hundreds of events (a materialization per account partition
and table, the accounts' log lines): each connection costs PostgreSQL a backend process. A run
worker lives as long as its run, so it keeps a small pool, as Dagster's webserver does.
"""

import threading
import weakref

import dagster as dg

from ebay_pipelines import settings

#: Recycle pooled connections after this many seconds (a long run never holds a stale one).
POOL_RECYCLE_S = 3600

_pooled: "weakref.WeakSet[dg.DagsterInstance]" = weakref.WeakSet()
_lock = threading.Lock()


def pool_storage_connections(instance: dg.DagsterInstance) -> None:
    """Give ``instance``'s storages a connection pool (once; storages other than PostgreSQL ignore it)."""
    with _lock:
        if instance in _pooled or not settings.dagster_storage_pool():
            return
        # The account threads log through the instance too: one connection each, and one for the step.
        instance.optimize_for_webserver(
            statement_timeout=0, pool_recycle=POOL_RECYCLE_S, max_overflow=settings.account_threads() + 1
        )
        _pooled.add(instance)
