"""Connection settings for eBay: environment, hosts and application credentials."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .errors import ConfigurationError

ApiName = Literal[
    "fulfillment", "disputes", "finances", "inventory", "post-order", "trading", "identity", "commerce-identity"
]

#: Path of each API below its host (a base URL keeps these paths).
API_PATHS: dict[str, str] = {
    "fulfillment": "/sell/fulfillment/v1",
    "disputes": "/sell/fulfillment/v1",
    "finances": "/sell/finances/v1",
    "inventory": "/sell/inventory/v1",
    "post-order": "/post-order/v2",
    "trading": "/ws/api.dll",
    "identity": "/identity/v1",
    "key-management": "/developer/key_management/v1",
    "developer-analytics": "/developer/analytics/v1_beta",
    "notification": "/commerce/notification/v1",
    "commerce-identity": "/commerce/identity/v1",
}

#: Which host family serves each API: ``apiz`` for Finances, payment disputes, Key Management and
#: Identity getUser, ``api`` otherwise.
_APIZ = frozenset({"disputes", "finances", "key-management", "commerce-identity"})

_HOSTS: dict[str, dict[str, str]] = {
    "production": {"api": "https://api.ebay.com", "apiz": "https://apiz.ebay.com", "auth": "https://auth.ebay.com"},
    "sandbox": {
        "api": "https://api.sandbox.ebay.com",
        "apiz": "https://apiz.sandbox.ebay.com",
        "auth": "https://auth.sandbox.ebay.com",
    },
}


@dataclass(frozen=True)
class EbaySettings:
    """Where eBay lives and which application calls it.

    ``base_url`` (for example a local simulator) replaces every eBay host when set.
    The client secret is excluded from ``repr``.
    """

    client_id: str
    client_secret: str = field(repr=False)
    environment: Literal["production", "sandbox"] = "production"
    base_url: str | None = None

    def __post_init__(self) -> None:
        if self.environment not in _HOSTS:
            raise ConfigurationError("EBAY_ENVIRONMENT must be 'production' or 'sandbox'")
        if not self.client_id:
            raise ConfigurationError("EBAY_CLIENT_ID is not set")
        if not self.client_secret:
            raise ConfigurationError("EBAY_CLIENT_SECRET is not set")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ConfigurationError("EBAY_API_BASE_URL must start with http:// or https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EbaySettings:
        """Build settings from EBAY_ENVIRONMENT, EBAY_API_BASE_URL, EBAY_CLIENT_ID and EBAY_CLIENT_SECRET in ``env``.

        The project reads its environment in one place (``ebay_pipelines.settings``), which passes it here.
        """
        environment = (env.get("EBAY_ENVIRONMENT") or "production").strip().lower()
        if environment not in _HOSTS:
            raise ConfigurationError("EBAY_ENVIRONMENT must be 'production' or 'sandbox'")
        for name in ("EBAY_CLIENT_ID", "EBAY_CLIENT_SECRET"):
            if not (env.get(name) or "").strip():
                raise ConfigurationError(f"{name} is not set")
        base_url = (env.get("EBAY_API_BASE_URL") or "").strip() or None
        return cls(
            client_id=env["EBAY_CLIENT_ID"].strip(),
            client_secret=env["EBAY_CLIENT_SECRET"].strip(),
            environment=environment,  # type: ignore[arg-type]
            base_url=base_url.rstrip("/") if base_url else None,
        )

    def host(self, api: ApiName | str) -> str:
        """Return the scheme and host serving ``api`` (or the base URL when one is set)."""
        if api not in API_PATHS:
            raise ConfigurationError(f"unknown eBay API {api!r}")
        if self.base_url:
            return self.base_url.rstrip("/")
        return _HOSTS[self.environment]["apiz" if api in _APIZ else "api"]

    def api_url(self, api: ApiName | str) -> str:
        """Return the base URL of ``api``, e.g. ``https://api.ebay.com/sell/fulfillment/v1``."""
        return self.host(api) + API_PATHS[api]

    def fulfillment_url(self) -> str:
        """Base URL of the Fulfillment API (orders)."""
        return self.api_url("fulfillment")

    def disputes_url(self) -> str:
        """Base URL of the payment-dispute methods of the Fulfillment API (apiz host)."""
        return self.api_url("disputes")

    def finances_url(self) -> str:
        """Base URL of the Finances API (apiz host)."""
        return self.api_url("finances")

    def inventory_url(self) -> str:
        """Base URL of the Inventory API."""
        return self.api_url("inventory")

    def post_order_url(self) -> str:
        """Base URL of the Post-Order v2 API."""
        return self.api_url("post-order")

    def trading_url(self) -> str:
        """Endpoint of the Trading (XML) API."""
        return self.api_url("trading")

    def identity_url(self) -> str:
        """Base URL of the Identity API."""
        return self.api_url("identity")

    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return self.identity_url() + "/oauth2/token"

    def authorize_url(self) -> str:
        """eBay's consent page (``GET /oauth2/authorize`` on auth.ebay.com, or the base URL when one is set)."""
        host = self.base_url.rstrip("/") if self.base_url else _HOSTS[self.environment]["auth"]
        return host + "/oauth2/authorize"

    def user_url(self) -> str:
        """The Identity API's getUser (``GET /commerce/identity/v1/user/`` on the apiz host)."""
        return self.api_url("commerce-identity") + "/user/"
