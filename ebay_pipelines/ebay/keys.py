"""eBay's Key Management API: the signing keys that digital signatures are made with.

``POST https://apiz.ebay.com/developer/key_management/v1/signing_key`` (createSigningKey) with
``{"signingKeyCipher": "ED25519"}`` answers a :class:`SigningKey`: ``signingKeyId``,
``signingKeyCipher``, ``publicKey``, ``privateKey`` (returned once, never again), ``jwe`` (the
public key as JWE, sent as ``x-ebay-signature-key``), ``creationTime`` and ``expirationTime`` (UNIX
seconds; keys live three years). The API is called with an application token from the
client-credentials grant (scope ``https://api.ebay.com/oauth/api_scope``), per its method pages.

This module knows no database; the private key never reaches a log line, a repr or an error.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from .auth import SCOPE_PREFIX, AccessToken, OAuthClient
from .config import EbaySettings
from .errors import ConfigurationError, EbayApiError, ErrorContext, PayloadError, ServerError, TransportError
from .parsing import parse_json, utcnow
from .retry import RetryPolicy, call_with_retries
from .signing import RequestSigner

logger = logging.getLogger("ebay_pipelines.ebay")

API = "key-management"
CIPHERS = ("ED25519", "RSA")


@dataclass(frozen=True)
class SigningKey:
    """One keypair of the Key Management API (the private key is hidden from ``repr``)."""

    private_key: str = field(repr=False)
    jwe: str = field(repr=False)
    signing_key_id: str | None = None
    cipher: str | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None

    def signer(self) -> RequestSigner:
        """A :class:`RequestSigner` for this key (raises ConfigurationError when the key is unusable)."""
        return RequestSigner(self.private_key, self.jwe)

    def expired(self, now: datetime) -> bool:
        """True when eBay no longer accepts the key at ``now``."""
        return self.expires_at is not None and self.expires_at <= now


def _unix(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{name}' must be a UNIX time in seconds")
    return datetime.fromtimestamp(float(value), UTC)


def signing_key_from_json(data: Mapping[str, Any]) -> SigningKey:
    """Read a SigningKey object as Key Management answers it (``privateKey`` and ``jwe`` required).

    The same shape is the import format of ``accounts signing-key --import``: a JSON object with
    ``privateKey`` (PEM, or the bare base64 eBay returns) and ``jwe``, optionally ``signingKeyId``,
    ``signingKeyCipher``, ``creationTime`` and ``expirationTime``. Raises ValueError naming the field.
    """
    if not isinstance(data, Mapping):
        raise ValueError("a signing key must be a JSON object")
    private_key, jwe = data.get("privateKey"), data.get("jwe")
    if not isinstance(private_key, str) or not private_key.strip():
        raise ValueError("the signing key has no 'privateKey'")
    if not isinstance(jwe, str) or len(jwe.strip().split(".")) != 5:
        raise ValueError("the signing key has no 'jwe' in JWE compact form (five dot-separated parts)")
    key_id = data.get("signingKeyId")
    cipher = data.get("signingKeyCipher")
    key = SigningKey(
        private_key=private_key.strip(),
        jwe=jwe.strip(),
        signing_key_id=str(key_id) if key_id not in (None, "") else None,
        cipher=str(cipher) if cipher else None,
        expires_at=_unix(data.get("expirationTime"), "expirationTime"),
        created_at=_unix(data.get("creationTime"), "creationTime"),
    )
    try:
        key.signer()
    except ConfigurationError as exc:
        raise ValueError(exc.message) from None
    return key


class KeyManagementClient:
    """createSigningKey, getSigningKey and getSigningKeys, with an application token."""

    def __init__(
        self,
        settings: EbaySettings,
        oauth: OAuthClient | None = None,
        retry: RetryPolicy = RetryPolicy(),
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry
        self.oauth = oauth or OAuthClient(settings, retry=retry)
        self.session = session or requests.Session()
        #: HTTP attempts by call name.
        self.calls: Counter[str] = Counter()
        self._token: AccessToken | None = None

    def __repr__(self) -> str:
        return f"KeyManagementClient(url={self.settings.api_url(API)!r})"

    def create_signing_key(self, cipher: str = "ED25519", account_id: str | None = None) -> SigningKey:
        """Create a keypair (``ED25519`` by default, as eBay recommends); ``account_id`` only names it in errors."""
        if cipher not in CIPHERS:
            raise ConfigurationError(f"signingKeyCipher must be one of {', '.join(CIPHERS)}")
        body = self._call("POST", "/signing_key", "createSigningKey", {"signingKeyCipher": cipher}, account_id)
        try:
            key = signing_key_from_json(body)
        except ValueError as exc:
            raise PayloadError(str(exc), call_name="createSigningKey", account_id=account_id) from None
        logger.info("eBay signing key %s created (%s)", key.signing_key_id, key.cipher)
        return key

    def get_signing_key(self, signing_key_id: str) -> dict[str, Any]:
        """Metadata of one keypair (eBay never returns the private key again)."""
        return self._call("GET", f"/signing_key/{signing_key_id}", "getSigningKey", None, None)

    def get_signing_keys(self) -> list[dict[str, Any]]:
        """Metadata of every keypair of the application."""
        keys = self._call("GET", "/signing_key", "getSigningKeys", None, None).get("signingKeys")
        return [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []

    def _application_token(self) -> str:
        if self._token is None or self._token.expires_at <= utcnow():
            self._token = self.oauth.application_token((SCOPE_PREFIX,))
        return self._token.token

    def _call(
        self, method: str, path: str, call_name: str, payload: dict[str, Any] | None, account_id: str | None
    ) -> dict[str, Any]:
        ctx: ErrorContext = {"call_name": call_name, "account_id": account_id}

        def attempt() -> dict[str, Any]:
            self.calls[call_name] += 1
            headers = {"Authorization": f"Bearer {self._application_token()}", "Accept": "application/json"}
            data = None
            if payload is not None:
                headers["Content-Type"] = "application/json"
                data = json.dumps(payload).encode("utf-8")
            try:
                response = self.session.request(
                    method, self.settings.api_url(API) + path, data=data, headers=headers, timeout=self.retry.timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise TransportError(f"connection failed ({type(exc).__name__})", **ctx) from None
            status = response.status_code
            try:
                body = parse_json(response.content) if response.content.strip() else {}
            except ValueError:
                body = None
            if 200 <= status < 300 and isinstance(body, dict):
                return body
            if status == 401:
                self._token = None
            if status >= 500:
                raise ServerError(f"eBay answered HTTP {status}", status=status, **ctx)
            if 200 <= status < 300:
                raise PayloadError("answer is not a JSON object", **ctx)
            errors = body.get("errors") if isinstance(body, dict) else None
            first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            raise EbayApiError(
                str(first.get("message") or f"eBay answered HTTP {status}"),
                status=status,
                error_ids=[first["errorId"]] if first.get("errorId") is not None else [],
                **ctx,
            )

        return call_with_retries(attempt, self.retry, call_name=call_name, account_id=account_id or "")
