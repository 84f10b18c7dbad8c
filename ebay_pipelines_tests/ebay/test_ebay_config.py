"""EbaySettings: host selection per environment, base-URL override and clear configuration errors."""

from __future__ import annotations

import pytest

from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import ConfigurationError

CREDS = {"EBAY_CLIENT_ID": "app-id-123", "EBAY_CLIENT_SECRET": "s3cr3t-value-xyz"}


def test_production_hosts() -> None:
    s = EbaySettings.from_env({**CREDS})
    assert s.environment == "production"
    assert s.fulfillment_url() == "https://api.ebay.com/sell/fulfillment/v1"
    assert s.disputes_url() == "https://apiz.ebay.com/sell/fulfillment/v1"
    assert s.finances_url() == "https://apiz.ebay.com/sell/finances/v1"
    assert s.inventory_url() == "https://api.ebay.com/sell/inventory/v1"
    assert s.post_order_url() == "https://api.ebay.com/post-order/v2"
    assert s.trading_url() == "https://api.ebay.com/ws/api.dll"
    assert s.identity_url() == "https://api.ebay.com/identity/v1"
    assert s.token_url() == "https://api.ebay.com/identity/v1/oauth2/token"


def test_sandbox_hosts() -> None:
    s = EbaySettings.from_env({**CREDS, "EBAY_ENVIRONMENT": "Sandbox"})
    assert s.environment == "sandbox"
    assert s.fulfillment_url() == "https://api.sandbox.ebay.com/sell/fulfillment/v1"
    assert s.disputes_url() == "https://apiz.sandbox.ebay.com/sell/fulfillment/v1"
    assert s.finances_url() == "https://apiz.sandbox.ebay.com/sell/finances/v1"
    assert s.inventory_url() == "https://api.sandbox.ebay.com/sell/inventory/v1"
    assert s.post_order_url() == "https://api.sandbox.ebay.com/post-order/v2"
    assert s.trading_url() == "https://api.sandbox.ebay.com/ws/api.dll"
    assert s.token_url() == "https://api.sandbox.ebay.com/identity/v1/oauth2/token"


def test_base_url_replaces_every_host() -> None:
    s = EbaySettings.from_env({**CREDS, "EBAY_ENVIRONMENT": "sandbox", "EBAY_API_BASE_URL": "http://127.0.0.1:8765/"})
    for url in (
        s.fulfillment_url(),
        s.disputes_url(),
        s.finances_url(),
        s.inventory_url(),
        s.post_order_url(),
        s.trading_url(),
        s.token_url(),
    ):
        assert url.startswith("http://127.0.0.1:8765/"), url
    assert s.finances_url() == "http://127.0.0.1:8765/sell/finances/v1"
    assert s.trading_url() == "http://127.0.0.1:8765/ws/api.dll"


@pytest.mark.parametrize("missing", ["EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"])
def test_missing_credential_is_named_without_values(missing: str) -> None:
    env = {k: v for k, v in CREDS.items() if k != missing}
    with pytest.raises(ConfigurationError) as info:
        EbaySettings.from_env(env)
    text = str(info.value)
    assert missing in text
    assert "s3cr3t-value-xyz" not in text and "app-id-123" not in text


def test_blank_credential_counts_as_missing() -> None:
    with pytest.raises(ConfigurationError, match="EBAY_CLIENT_SECRET"):
        EbaySettings.from_env({**CREDS, "EBAY_CLIENT_SECRET": "   "})


def test_bad_environment_and_base_url() -> None:
    with pytest.raises(ConfigurationError, match="EBAY_ENVIRONMENT"):
        EbaySettings.from_env({**CREDS, "EBAY_ENVIRONMENT": "staging"})
    with pytest.raises(ConfigurationError, match="EBAY_API_BASE_URL"):
        EbaySettings.from_env({**CREDS, "EBAY_API_BASE_URL": "ftp://x"})


def test_repr_hides_secret_and_settings_are_frozen() -> None:
    s = EbaySettings.from_env(CREDS)
    assert "s3cr3t-value-xyz" not in repr(s)
    with pytest.raises(AttributeError):
        s.client_id = "other"  # type: ignore[misc]


def test_reads_process_environment_through_the_project_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from ebay_pipelines.settings import Settings
    from ebay_pipelines.sync.partition_sync import ebay_settings

    monkeypatch.setenv("EBAY_CLIENT_ID", "from-env")
    monkeypatch.setenv("EBAY_CLIENT_SECRET", "env-secret")
    monkeypatch.delenv("EBAY_ENVIRONMENT", raising=False)
    monkeypatch.delenv("EBAY_API_BASE_URL", raising=False)
    s = ebay_settings(Settings.from_env())
    assert s.client_id == "from-env" and s.base_url is None
