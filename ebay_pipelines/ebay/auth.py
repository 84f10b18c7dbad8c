"""OAuth user tokens: the refresh-token grant, token storage and a caching access-token provider.

Tokens and the client secret never reach a log line, a ``repr`` or an exception message.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import requests

from .config import EbaySettings
from .errors import (
    EbayApiError,
    EbayError,
    ErrorContext,
    PayloadError,
    RateLimited,
    ReauthorizationRequired,
    ScopeNotGranted,
    ServerError,
    TransportError,
)
from .parsing import parse_json, utcnow
from .retry import RetryPolicy, call_with_retries, retry_after_seconds

logger = logging.getLogger("ebay_pipelines.ebay")

SCOPE_PREFIX = "https://api.ebay.com/oauth/api_scope"

#: Every scope the sync can use: the base scope (Trading and Post-Order) plus the sell.* scopes
#: of Fulfillment, Finances, Inventory and payment disputes. A refresh asks for the account's
#: granted scopes instead (see :meth:`OAuthClient.refresh`).
DEFAULT_SCOPES: tuple[str, ...] = (
    SCOPE_PREFIX,
    f"{SCOPE_PREFIX}/sell.fulfillment",
    f"{SCOPE_PREFIX}/sell.finances",
    f"{SCOPE_PREFIX}/sell.inventory",
    f"{SCOPE_PREFIX}/sell.payment.dispute",
)


@dataclass(frozen=True)
class AccessToken:
    """An OAuth user access token and when it expires (the token is hidden from ``repr``)."""

    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class GrantedTokens:
    """The answer of the authorization-code grant (tokens hidden from ``repr``).

    eBay's answer has no scope field: the granted scopes are the consented ones, which the
    caller knows (README Wire facts "OAuth scopes").
    """

    access: AccessToken
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: datetime | None = None


@runtime_checkable
class TokenStore(Protocol):
    """Where refresh tokens live and access tokens are cached, per eBay account."""

    def load_refresh_token(self, account_id: str) -> str:
        """Return the account's refresh token (raise ReauthorizationRequired when there is none)."""
        ...

    def load_access_token(self, account_id: str) -> tuple[str, datetime] | None:
        """Return the cached access token and its expiry, or None."""
        ...

    def save_access_token(self, account_id: str, token: str, expires_at: datetime) -> None:
        """Cache a freshly issued access token."""
        ...

    def record_refresh_error(self, account_id: str, message: str) -> None:
        """Remember why the last refresh failed (the message never contains a token)."""
        ...

    def load_scopes(self, account_id: str) -> tuple[str, ...] | None:
        """The scopes the account granted, or None when they are not known."""
        ...


class InMemoryTokenStore:
    """A process-local :class:`TokenStore`, for tests and one-off scripts."""

    def __init__(
        self, refresh_tokens: Mapping[str, str] | None = None, scopes: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self._refresh: dict[str, str] = dict(refresh_tokens or {})
        self._access: dict[str, tuple[str, datetime]] = {}
        self._scopes: dict[str, tuple[str, ...]] = {a: tuple(s) for a, s in (scopes or {}).items()}
        self.refresh_errors: dict[str, str] = {}
        self._lock = threading.Lock()

    def set_refresh_token(self, account_id: str, token: str) -> None:
        """Store (or replace) the refresh token of an account and drop its cached access token."""
        with self._lock:
            self._refresh[account_id] = token
            self._access.pop(account_id, None)
            self.refresh_errors.pop(account_id, None)

    def load_refresh_token(self, account_id: str) -> str:
        """Return the account's refresh token; ReauthorizationRequired when none is stored."""
        with self._lock:
            token = self._refresh.get(account_id)
        if not token:
            raise ReauthorizationRequired(account_id, "no refresh token is stored for this account")
        return token

    def load_access_token(self, account_id: str) -> tuple[str, datetime] | None:
        """Return the cached access token and expiry of an account, or None."""
        with self._lock:
            return self._access.get(account_id)

    def save_access_token(self, account_id: str, token: str, expires_at: datetime) -> None:
        """Cache an access token for an account."""
        with self._lock:
            self._access[account_id] = (token, expires_at)
            self.refresh_errors.pop(account_id, None)

    def record_refresh_error(self, account_id: str, message: str) -> None:
        """Remember the last refresh failure of an account."""
        with self._lock:
            self.refresh_errors[account_id] = message

    def load_scopes(self, account_id: str) -> tuple[str, ...] | None:
        """The scopes given for the account, or None."""
        with self._lock:
            return self._scopes.get(account_id)

    def __repr__(self) -> str:
        return f"InMemoryTokenStore(accounts={sorted(self._refresh)!r})"


class OAuthClient:
    """Exchanges refresh tokens for access tokens at eBay's token endpoint (Basic client auth)."""

    CALL_NAME = "token"

    def __init__(
        self,
        settings: EbaySettings,
        *,
        scopes: Sequence[str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        #: Scopes asked for on every refresh (None: each account's own, see :meth:`refresh`).
        self.scopes = None if scopes is None else tuple(scopes)
        self.retry = retry
        self.session = session or requests.Session()
        #: Counter of token-endpoint HTTP attempts by (account_id, "token").
        self.calls: Counter[tuple[str, str]] = Counter()

    def __repr__(self) -> str:
        return f"OAuthClient(token_url={self.settings.token_url()!r}, client_id={self.settings.client_id!r})"

    def refresh(self, account_id: str, refresh_token: str, scopes: Sequence[str] | None = None) -> AccessToken:
        """Run the refresh-token grant for one account, asking for ``scopes`` (its granted ones).

        With no scopes known (neither here nor on the client) the request has no ``scope``
        parameter: eBay then answers with the consented scopes, where a fixed list beyond them
        would fail with ``invalid_scope`` (README Wire facts "OAuth scopes").
        Raises ReauthorizationRequired (never retried) when eBay answers ``invalid_grant`` and
        ScopeNotGranted on ``invalid_scope``; rate limits, 5xx and connection errors are retried
        per the retry policy.
        """
        wanted = self.scopes if scopes is None else tuple(scopes)
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if wanted:
            form["scope"] = " ".join(wanted)
        token = call_with_retries(
            lambda: self._grant_once(account_id, form, wanted or ()),
            self.retry,
            call_name=self.CALL_NAME,
            account_id=account_id,
        )
        return token.access

    def exchange_code(self, account_id: str, code: str, ru_name: str) -> GrantedTokens:
        """Run the authorization-code grant: ``code`` (decoded once from eBay's redirect) for a refresh token.

        eBay's ``oauth-auth-code-grant-request.html``: ``grant_type=authorization_code``, ``code``
        and ``redirect_uri`` = the RuName, Basic client auth. An expired or used code answers
        ``invalid_grant`` (ReauthorizationRequired); the code lives 5 minutes (``expires_in=299``).
        """
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": ru_name}
        return call_with_retries(
            lambda: self._grant_once(account_id, form, (), code_grant=True),
            self.retry,
            call_name=self.CALL_NAME,
            account_id=account_id,
        )

    def _grant_once(
        self, account_id: str, form: dict[str, str], asked: Sequence[str], code_grant: bool = False
    ) -> GrantedTokens:
        ctx: ErrorContext = {"call_name": self.CALL_NAME, "account_id": account_id}
        self.calls[(account_id, self.CALL_NAME)] += 1
        attempt = self.calls[(account_id, self.CALL_NAME)]
        issued_at = utcnow()
        try:
            response = self.session.post(
                self.settings.token_url(),
                data=form,
                auth=(self.settings.client_id, self.settings.client_secret),
                headers={"Accept": "application/json"},
                timeout=self.retry.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            logger.warning(
                "eBay token refresh account=%s request=%d failed: %s", account_id, attempt, type(exc).__name__
            )
            raise TransportError(f"connection to the token endpoint failed ({type(exc).__name__})", **ctx) from None
        logger.debug("eBay token refresh account=%s request=%d status=%d", account_id, attempt, response.status_code)
        body = _json_or_none(response)
        status = response.status_code
        if status == 200:
            return _parse_grant(body, issued_at, ctx, code_grant)
        error = str((body or {}).get("error") or "") if isinstance(body, dict) else ""
        description = str((body or {}).get("error_description") or "") if isinstance(body, dict) else ""
        if status == 400 and error == "invalid_grant" and code_grant:
            raise EbayApiError(
                "eBay refused the authorization code: it expired (codes live 5 minutes) or was already used; "
                "run `accounts connect` again",
                status=status,
                error_ids=[error],
                **ctx,
            )
        if status == 400 and error == "invalid_grant":
            raise ReauthorizationRequired(account_id, description or "the refresh token was rejected", status=status)
        if status == 400 and error == "invalid_scope":
            raise ScopeNotGranted(
                account_id,
                asked,
                f"eBay refused the scopes asked for on refresh (invalid_scope: {description or 'beyond the grant'})",
                call_name=self.CALL_NAME,
                status=status,
                error_ids=[error],
            )
        if status == 429:
            raise RateLimited(
                "token endpoint rate limit reached", retry_after=retry_after_seconds(response), status=status, **ctx
            )
        if status >= 500:
            raise ServerError(f"token endpoint answered HTTP {status}", status=status, **ctx)
        if status == 401 and error == "invalid_client":
            raise EbayApiError(
                "eBay rejected the application credentials (invalid_client)", status=status, error_ids=[error], **ctx
            )
        raise EbayApiError(
            f"token refresh failed: {error or 'HTTP ' + str(status)} {description}".strip(),
            status=status,
            error_ids=[error] if error else [],
            **ctx,
        )

    def application_token(self, scopes: Sequence[str] = (SCOPE_PREFIX,)) -> AccessToken:
        """Run the client-credentials grant: an application token (no seller), e.g. for Key Management.

        eBay's ``oauth-client-credentials-grant`` page: ``grant_type=client_credentials`` and the
        scopes, Basic client authentication; the answer has no refresh token.
        """
        return call_with_retries(
            lambda: self._application_token_once(scopes), self.retry, call_name="application_token", account_id=""
        )

    def _application_token_once(self, scopes: Sequence[str]) -> AccessToken:
        ctx: ErrorContext = {"call_name": "application_token"}
        self.calls[("", "application_token")] += 1
        issued_at = utcnow()
        try:
            response = self.session.post(
                self.settings.token_url(),
                data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
                auth=(self.settings.client_id, self.settings.client_secret),
                headers={"Accept": "application/json"},
                timeout=self.retry.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransportError(f"connection to the token endpoint failed ({type(exc).__name__})", **ctx) from None
        body = _json_or_none(response)
        status = response.status_code
        if status == 200:
            return _parse_token(body, issued_at, ctx)
        if status == 429:
            raise RateLimited("token endpoint rate limit reached", retry_after=retry_after_seconds(response), **ctx)
        if status >= 500:
            raise ServerError(f"token endpoint answered HTTP {status}", status=status, **ctx)
        error = str(body.get("error") or "") if isinstance(body, dict) else ""
        raise EbayApiError(
            f"the client-credentials grant failed: {error or 'HTTP ' + str(status)}",
            status=status,
            error_ids=[error] if error else [],
            **ctx,
        )


def _json_or_none(response: requests.Response) -> object:
    try:
        return parse_json(response.content)
    except ValueError:
        return None


def _parse_grant(body: object, issued_at: datetime, ctx: ErrorContext, code_grant: bool) -> GrantedTokens:
    access = _parse_token(body, issued_at, ctx)
    if not code_grant:
        return GrantedTokens(access, "")
    assert isinstance(body, dict)
    refresh, lifetime = body.get("refresh_token"), body.get("refresh_token_expires_in")
    if not isinstance(refresh, str) or not refresh:
        raise PayloadError("the authorization-code grant answer has no refresh_token", **ctx)
    expires = None
    if isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool):
        expires = issued_at + timedelta(seconds=float(lifetime))
    return GrantedTokens(access, refresh, expires)


def _parse_token(body: object, issued_at: datetime, ctx: ErrorContext) -> AccessToken:
    if not isinstance(body, dict):
        raise PayloadError("token endpoint answered with a body that is not a JSON object", transient=True, **ctx)
    token = body.get("access_token")
    expires_in = body.get("expires_in")
    if not isinstance(token, str) or not token:
        raise PayloadError("token endpoint answer has no access_token", **ctx)
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)):
        raise PayloadError("token endpoint answer has no numeric expires_in", **ctx)
    return AccessToken(token=token, expires_at=issued_at + timedelta(seconds=float(expires_in)))


class AccessTokenProvider:
    """Hands out a valid access token for one account, refreshing it shortly before expiry.

    ``get()`` returns the cached token while it is valid for longer than ``refresh_margin``;
    otherwise it reuses a still-valid token from the store or runs the refresh grant once and
    saves the result. ``invalidate()`` discards the current token (after eBay rejected it) so the
    next ``get()`` refreshes. ``refresh_count`` counts successful refreshes.
    """

    def __init__(
        self,
        account_id: str,
        oauth: OAuthClient,
        store: TokenStore,
        *,
        refresh_margin: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.account_id = account_id
        self.oauth = oauth
        self.store = store
        self.refresh_margin = refresh_margin
        self.clock = clock
        self.refresh_count = 0
        self._token: AccessToken | None = None
        self._rejected: str | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        state = "cached" if self._token else "empty"
        return f"AccessTokenProvider(account_id={self.account_id!r}, token={state})"

    def _usable(self, token: str, expires_at: datetime) -> bool:
        return token != self._rejected and expires_at - self.refresh_margin > self.clock()

    def get(self) -> str:
        """Return an access token valid for at least ``refresh_margin``, refreshing if needed."""
        with self._lock:
            if self._token and self._usable(self._token.token, self._token.expires_at):
                return self._token.token
            stored = self.store.load_access_token(self.account_id)
            if stored and self._usable(*stored):
                self._token = AccessToken(*stored)
                return stored[0]
            self._token = self._refresh()
            return self._token.token

    def invalidate(self) -> None:
        """Forget the current token because eBay rejected it; the next ``get()`` refreshes."""
        with self._lock:
            if self._token:
                self._rejected = self._token.token
            self._token = None

    def _refresh(self) -> AccessToken:
        try:
            refresh_token = self.store.load_refresh_token(self.account_id)
            token = self.oauth.refresh(self.account_id, refresh_token, self.store.load_scopes(self.account_id))
        except EbayError as exc:
            self.store.record_refresh_error(self.account_id, str(exc))
            if isinstance(exc, ReauthorizationRequired):
                logger.error("eBay account %s must re-authorize: refresh token rejected", self.account_id)
            raise
        self.store.save_access_token(self.account_id, token.token, token.expires_at)
        self.refresh_count += 1
        self._rejected = None
        logger.info(
            "eBay access token refreshed account=%s expires_at=%s", self.account_id, token.expires_at.isoformat()
        )
        return token
