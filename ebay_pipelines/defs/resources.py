"""Dagster resources: the PostgreSQL of the eBay tables and the eBay API clients."""

import dagster as dg
from sqlalchemy.engine import Engine

from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.store.database import cached_engine, resolve_target
from ebay_pipelines.sync.partition_sync import EbayClients, build_clients


class PostgresResource(dg.ConfigurableResource):
    """The PostgreSQL database of the eBay tables (default: from the environment / embedded)."""

    database_url: str | None = None

    def get_engine(self) -> Engine:
        """Return this process's shared engine for the eBay tables."""
        return cached_engine(self.database_url or resolve_target().ebay_url)


class EbayApiResource(dg.ConfigurableResource):
    """Builds an account's eBay clients; hosts and app keys come from the environment."""

    retry_max_attempts: int = 6
    retry_initial_delay_s: float = 1.0
    retry_max_total_s: float = 300.0
    retry_jitter_s: float = 1.0
    request_timeout_s: float = 60.0

    def retry_policy(self) -> RetryPolicy:
        """The HTTP retry policy of the clients."""
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            initial_delay=self.retry_initial_delay_s,
            max_total_seconds=self.retry_max_total_s,
            jitter=self.retry_jitter_s,
            timeout=self.request_timeout_s,
        )

    def clients_for(self, engine: Engine, account_id: str) -> EbayClients:
        """Return fresh clients for one account (tokens from ``ebay_tokens``)."""
        return build_clients(engine, account_id, EbaySettings.from_env(), self.retry_policy())
