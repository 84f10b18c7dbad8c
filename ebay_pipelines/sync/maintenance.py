"""Token refresh ahead of expiry and account health probes, for every enabled account."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from ebay_pipelines import settings as project_settings
from ebay_pipelines.ebay import scopes
from ebay_pipelines.ebay.auth import AccessTokenProvider, OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import EbayError, ReauthorizationRequired
from ebay_pipelines.ebay.health import ProbeResult, probe_account
from ebay_pipelines.store.accounts import list_accounts
from ebay_pipelines.store.consent import granted_scopes
from ebay_pipelines.store.coverage import inventory_api_coverage
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.store.tokens import DatabaseTokenStore, reauthorization_reason
from ebay_pipelines.sync.partition_sync import build_clients, ebay_settings, require_reauthorization

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenRefreshResult:
    """What happened to one account's access token."""

    account_id: str
    ok: bool
    needs_reauthorization: bool = False
    error: str | None = None


def refresh_tokens(
    engine: Engine, margin: timedelta = timedelta(minutes=45), settings: EbaySettings | None = None
) -> list[TokenRefreshResult]:
    """Make sure every enabled account holds an access token valid for at least ``margin``."""
    settings = settings or ebay_settings(project_settings.current())
    store = DatabaseTokenStore(engine, load_cipher())
    oauth = OAuthClient(settings)
    with engine.connect() as conn:
        accounts = list_accounts(conn, enabled_only=True)
    results = []
    for account in accounts:
        with engine.connect() as conn:
            waiting = reauthorization_reason(conn, account.account_id)
        if waiting:
            # eBay already rejected this refresh token: asking again cannot succeed.
            results.append(TokenRefreshResult(account.account_id, False, True, waiting))
            continue
        provider = AccessTokenProvider(account.account_id, oauth, store, refresh_margin=margin)
        try:
            provider.get()
        except ReauthorizationRequired as exc:
            log.warning("account %s: %s", account.account_id, exc)
            require_reauthorization(engine, account.account_id, str(exc))
            results.append(TokenRefreshResult(account.account_id, False, True, str(exc)))
            continue
        except EbayError as exc:
            log.warning("account %s: token refresh failed: %s", account.account_id, exc)
            results.append(TokenRefreshResult(account.account_id, False, False, str(exc)))
            continue
        results.append(TokenRefreshResult(account.account_id, True))
    return results


#: How long before its refresh token expires an account's health warns.
EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class TokenLifetime:
    """Where an account's refresh token stands: expired (or rejected), expiring soon, or fine."""

    expires_at: datetime | None
    expired: str | None = None
    warning: str | None = None


def token_lifetime(engine: Engine, account_id: str, now: datetime | None = None) -> TokenLifetime:
    """The account's refresh-token state: ``expired`` holds the re-authorize reason, ``warning`` a 30-day notice."""
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        expired = reauthorization_reason(conn, account_id)
        expires_at = next((a.refresh_token_expires_at for a in list_accounts(conn) if a.account_id == account_id), None)
    if expired or expires_at is None or expires_at - now > EXPIRY_WARNING:
        return TokenLifetime(expires_at, expired)
    days = max(0, (expires_at - now).days)
    return TokenLifetime(
        expires_at,
        warning=f"the refresh token of account {account_id} expires on {expires_at:%Y-%m-%d} (in {days} days): "
        f"the seller must consent again before then with `ebay-pipelines accounts connect {account_id}`",
    )


def account_health(engine: Engine, account_id: str) -> list[ProbeResult]:
    """Probe one account's token and each eBay API it syncs from (none when it must re-authorize).

    An account whose refresh token expired or was rejected gets one failed ``oauth`` result with
    the reason and no eBay call; APIs whose scope the account did not grant are not called.
    """
    with engine.connect() as conn:
        waiting = reauthorization_reason(conn, account_id)
        granted, denied = granted_scopes(conn, account_id)
    if waiting:
        return [ProbeResult("oauth", "token", False, 0.0, waiting)]
    refused = set(denied)
    not_granted = {}
    for api in ("fulfillment", "disputes", "finances", "inventory", "post-order", "trading"):
        groups = scopes.needed([api])
        have = (set(granted) if granted is not None else set().union(*groups)) - refused
        lacking = [g[0] for g in groups if not have.intersection(g)]
        if lacking:
            not_granted[api] = scopes.short_name(lacking[0])
    clients = build_clients(engine, account_id)
    return probe_account(clients.rest, clients.trading, not_granted=not_granted)


def inventory_coverage(engine: Engine, account_id: str) -> str | None:
    """Why the account's stored Inventory API items are none while it has active listings (None: they are not)."""
    with engine.connect() as conn:
        return inventory_api_coverage(conn, account_id)
