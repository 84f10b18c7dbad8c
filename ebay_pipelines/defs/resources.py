"""Dagster resources: the PostgreSQL of the eBay tables and the eBay API clients."""

import dataclasses

import dagster as dg
from sqlalchemy.engine import Engine

from ebay_pipelines import settings
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.store.database import cached_engine, resolve_target
from ebay_pipelines.sync.partition_sync import EbayClients, build_clients, ebay_settings


class PostgresResource(dg.ConfigurableResource):
    """The PostgreSQL database of the eBay tables (default: from the environment / embedded)."""

    database_url: str | None = None
    #: Rows per COPY batch when a sync stages its pages.
    batch_rows: int = 1000

    def get_engine(self) -> Engine:
        """Return this process's shared engine for the eBay tables."""
        return cached_engine(self.database_url or resolve_target().ebay_url)


class EbayApiResource(dg.ConfigurableResource):
    """Builds an account's eBay clients.

    Hosts and application keys are fields (set from ``dg.EnvVar`` by the definitions); fields left
    unset fall back to the project settings at run time.
    """

    environment: str | None = None
    api_base_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

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

    def ebay_settings(self) -> EbaySettings:
        """Where eBay lives and which application calls it."""
        base = settings.current()
        return ebay_settings(
            dataclasses.replace(
                base,
                ebay_environment=self.environment or base.ebay_environment,
                ebay_api_base_url=self.api_base_url or base.ebay_api_base_url,
                ebay_client_id=self.client_id or base.ebay_client_id,
                ebay_client_secret=self.client_secret or base.ebay_client_secret,
            )
        )

    def clients_for(self, engine: Engine, account_id: str) -> EbayClients:
        """Return fresh clients for one account (tokens from ``ebay_tokens``)."""
        return build_clients(engine, account_id, self.ebay_settings(), self.retry_policy())
