"""Connecting a seller: consent URL, eBay's redirect, the code exchange, getUser, and the store.

``ebay-pipelines accounts connect`` drives this; the redirect arrives pasted, as an argument, or
on a local callback (:mod:`ebay_pipelines.callback`). Nothing is stored unless every step
succeeded: a declined consent, a foreign ``state`` or a refused code leave the store untouched.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from ebay_pipelines import settings as project_settings
from ebay_pipelines.ebay import consent, scopes
from ebay_pipelines.ebay.auth import OAuthClient
from ebay_pipelines.ebay.errors import EbayError
from ebay_pipelines.ebay.identity import EbayUser, get_user
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.ids import validate_account_id
from ebay_pipelines.store.accounts import list_accounts, validate_marketplace
from ebay_pipelines.store.consent import store_consent
from ebay_pipelines.store.secrets import TokenCipher
from ebay_pipelines.sync.families import FAMILIES, family
from ebay_pipelines.sync.partition_sync import ebay_settings
from ebay_pipelines.sync.scopes import consent_scopes

log = logging.getLogger(__name__)


class ConnectError(ValueError):
    """Connecting failed; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Connected:
    """An account connected through eBay's consent."""

    account_id: str
    marketplace_id: str
    scopes: tuple[str, ...]
    refresh_token_expires_at: datetime | None
    user: EbayUser | None
    #: Why the eBay user is not known (getUser failed), when it is not.
    user_warning: str | None = None

    def describe(self) -> str:
        """One line for people."""
        who = (
            f"eBay user {self.user.username or '?'} (userId {self.user.user_id})"
            if self.user
            else f"eBay user not known ({self.user_warning})"
        )
        until = self.refresh_token_expires_at.strftime("%Y-%m-%d") if self.refresh_token_expires_at else "not known"
        names = " ".join(scopes.short_name(s) for s in self.scopes)
        return (
            f"account {self.account_id} connected ({self.marketplace_id}): {who}; scopes: {names}; "
            f"refresh token valid until {until}"
        )


def ru_name() -> str:
    """The application's RuName (``EBAY_RU_NAME``), or a clear error."""
    value = project_settings.current().ebay_ru_name
    if not value:
        raise ConnectError(
            f"{project_settings.EBAY_RU_NAME_ENV} is not set: set it to your application's RuName "
            "(developer.ebay.com > Application Keysets > User Tokens > Get a Token from eBay via Your Application)"
        )
    return value


@dataclass(frozen=True)
class ConsentRequest:
    """One consent to ask for: the URL the seller opens and the ``state`` its redirect must carry."""

    account_id: str
    marketplace_id: str
    scopes: tuple[str, ...]
    state: str
    url: str


def prepare(
    engine: Engine, account_id: str, marketplace_id: str | None, families: Sequence[str] | None
) -> ConsentRequest:
    """The consent request for ``families`` (default: all), keeping what an existing account already granted."""
    validate_account_id(account_id)
    specs = [family(name) for name in families] if families else list(FAMILIES)
    with engine.connect() as conn:
        existing = next((a for a in list_accounts(conn) if a.account_id == account_id), None)
    marketplace = validate_marketplace(marketplace_id or (existing.marketplace_id if existing else "EBAY_US"))
    wanted = consent_scopes(specs, existing.scopes or () if existing else ())
    settings = ebay_settings(project_settings.current())
    state = consent.new_state()
    return ConsentRequest(
        account_id, marketplace, wanted, state, consent.consent_url(settings, ru_name(), wanted, state)
    )


def complete(
    engine: Engine, cipher: TokenCipher, request: ConsentRequest, redirect: str, retry: RetryPolicy = RetryPolicy()
) -> Connected:
    """Check eBay's redirect, exchange its code, ask getUser, and store the account (all or nothing)."""
    answer = consent.parse_redirect(redirect, request.state)
    settings = ebay_settings(project_settings.current())
    oauth = OAuthClient(settings, retry=retry)
    try:
        granted = oauth.exchange_code(request.account_id, answer.code, ru_name())
    except EbayError as exc:
        raise ConnectError(f"account {request.account_id} not connected: {exc}") from None
    user, warning = None, None
    try:
        user = get_user(settings, granted.access.token, request.account_id, retry)
    except EbayError as exc:
        warning = str(exc)
        log.warning("account %s: getUser failed: %s", request.account_id, exc)
    store_consent(
        engine,
        cipher,
        request.account_id,
        marketplace_id=request.marketplace_id,
        refresh_token=granted.refresh_token,
        refresh_token_expires_at=granted.refresh_token_expires_at,
        scopes=request.scopes,
        username=user.username if user else None,
        immutable_user_id=user.user_id if user else None,
    )
    return Connected(
        request.account_id,
        request.marketplace_id,
        request.scopes,
        granted.refresh_token_expires_at,
        user,
        warning,
    )


def _pending_file(account_id: str) -> Path:
    return project_settings.dagster_home() / "consents" / f"{validate_account_id(account_id)}.json"


def save_pending(request: ConsentRequest) -> None:
    """Remember a consent request until its redirect comes back (``accounts connect --redirect-url``)."""
    path = _pending_file(request.account_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: whoever reads it (the callback, another process) sees all of it or none.
    partial = path.with_suffix(".json.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({**asdict(request), "scopes": list(request.scopes)}, handle)
    os.replace(partial, path)


def load_pending(account_id: str) -> ConsentRequest:
    """The consent request waiting for its redirect, or a clear error when there is none."""
    path = _pending_file(account_id)
    if not path.exists():
        raise ConnectError(
            f"no consent is waiting for account {account_id}: run `ebay-pipelines accounts connect {account_id}` "
            "first, open the URL it prints, then pass the redirect"
        )
    data = json.loads(path.read_text())
    return ConsentRequest(**{**data, "scopes": tuple(data["scopes"])})


def drop_pending(account_id: str) -> None:
    """Forget the account's waiting consent request."""
    _pending_file(account_id).unlink(missing_ok=True)


def finish(engine: Engine, cipher: TokenCipher, request: ConsentRequest, redirect: str) -> Connected:
    """Complete a waiting consent; it is forgotten once connected or declined (a foreign state keeps it)."""
    try:
        connected = complete(engine, cipher, request, redirect)
    except consent.ConsentError as exc:
        if "declined" in str(exc):
            drop_pending(request.account_id)
        raise
    drop_pending(request.account_id)
    return connected
