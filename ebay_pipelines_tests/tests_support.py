"""Small helpers shared by tests (importable because pytest puts this folder on sys.path)."""

from __future__ import annotations

from conftest import create_database
from ebay_pipelines.store.urls import database_name


def create_dagster_database(server_url: str, ebay_url: str) -> str:
    """Create the sibling database Dagster's storage uses next to a test's eBay database."""
    return create_database(server_url, f"{database_name(ebay_url)}_dagster")
