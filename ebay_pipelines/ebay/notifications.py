"""Marketplace Account Deletion notifications: the endpoint challenge, signatures and payloads.

eBay's sources: the guide ``develop/guides-v2/marketplace-user-account-deletion`` (README Wire
facts "Account deletion"); the Notification API ``getPublicKey``
(``GET /commerce/notification/v1/public_key/{public_key_id}``, an application token of the base
scope, answering ``{key, algorithm, digest}`` with the key as PEM); eBay's notification SDKs
(``eBay/event-notification-java-sdk``, ``eBay/event-notification-nodejs-sdk``), which show the
``X-EBAY-SIGNATURE`` header as base64 JSON ``{"alg", "kid", "signature", "digest"}``, the signature
as base64 DER ECDSA over the message JSON with the key's digest, and 412 for a mismatch.

The SDKs verify the message re-serialized as compact JSON, eBay's own sample verifies that way,
and a consumer keeping the body as received verifies the raw bytes: both readings are accepted.
Nothing here knows the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .auth import SCOPE_PREFIX, OAuthClient
from .config import EbaySettings
from .errors import EbayApiError, EbayError, ErrorContext, ServerError, TransportError
from .parsing import parse_json, utcnow
from .retry import RetryPolicy, call_with_retries

ACCOUNT_DELETION_TOPIC = "MARKETPLACE_ACCOUNT_DELETION"
SIGNATURE_HEADER = "X-EBAY-SIGNATURE"
#: What eBay accepts as a verification token: 32 to 80 of A-Z, a-z, 0-9, '_' and '-'.
VERIFICATION_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,80}")
#: The getPublicKey digests eBay names, as hashes.
_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}


class NotificationRejected(EbayError):
    """A notification that is not eBay's: a malformed body or header, or a signature that fails.

    ``status`` is what the endpoint answers: 400 for a malformed request, 412 for a signature
    that does not verify (what eBay's SDKs answer).
    """


def challenge_response(challenge_code: str, verification_token: str, endpoint_url: str) -> str:
    """eBay's endpoint check: hex SHA-256 of challenge code, verification token and endpoint URL, in that order."""
    digest = hashlib.sha256()
    for part in (challenge_code, verification_token, endpoint_url):
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class SignatureHeader:
    """The decoded ``X-EBAY-SIGNATURE`` header."""

    kid: str
    signature: bytes = field(repr=False)
    alg: str = "ECDSA"
    digest: str = "SHA1"


def parse_signature_header(value: str | None) -> SignatureHeader:
    """Decode ``X-EBAY-SIGNATURE`` (base64 JSON with ``kid`` and a base64 ``signature``)."""
    if not value or not value.strip():
        raise NotificationRejected(f"the {SIGNATURE_HEADER} header is missing", status=400)
    try:
        decoded = json.loads(base64.b64decode(value.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise NotificationRejected(f"the {SIGNATURE_HEADER} header is not base64 JSON", status=400) from None
    if not isinstance(decoded, dict):
        raise NotificationRejected(f"the {SIGNATURE_HEADER} header is not a JSON object", status=400)
    kid, signature = decoded.get("kid"), decoded.get("signature")
    if not isinstance(kid, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", kid):
        raise NotificationRejected(f"the {SIGNATURE_HEADER} header has no valid kid", status=400)
    if not isinstance(signature, str):
        raise NotificationRejected(f"the {SIGNATURE_HEADER} header has no signature", status=400)
    try:
        raw_signature = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise NotificationRejected(f"the {SIGNATURE_HEADER} signature is not base64", status=400) from None
    return SignatureHeader(
        kid=kid,
        signature=raw_signature,
        alg=str(decoded.get("alg") or "ECDSA"),
        digest=str(decoded.get("digest") or "SHA1"),
    )


@dataclass(frozen=True)
class PublicKey:
    """One answer of ``getPublicKey``: the PEM key, its algorithm and digest."""

    key: ec.EllipticCurvePublicKey = field(repr=False)
    algorithm: str
    digest: str


def parse_public_key(body: object) -> PublicKey:
    """Read a ``getPublicKey`` answer; eBay's PEM may lack line breaks around its base64."""
    if not isinstance(body, dict) or not isinstance(body.get("key"), str):
        raise EbayApiError("getPublicKey answered without a key", call_name="getPublicKey")
    algorithm = str(body.get("algorithm") or "ECDSA").upper()
    digest = str(body.get("digest") or "SHA1").upper()
    if algorithm != "ECDSA" or digest not in _DIGESTS:
        raise EbayApiError(f"getPublicKey answered {algorithm}/{digest}, not ECDSA", call_name="getPublicKey")
    text = str(body["key"])
    inner = re.sub(r"-----(BEGIN|END) PUBLIC KEY-----|\s", "", text)
    try:
        key = serialization.load_der_public_key(base64.b64decode(inner))
    except (binascii.Error, ValueError):
        raise EbayApiError("getPublicKey answered a key that is not a public key", call_name="getPublicKey") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise EbayApiError("getPublicKey answered a key that is not an EC key", call_name="getPublicKey")
    return PublicKey(key=key, algorithm=algorithm, digest=digest)


def signed_forms(body: bytes) -> list[bytes]:
    """The byte strings eBay's signature may cover: the body as received, then its compact JSON."""
    forms = [body]
    try:
        compact = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except ValueError:
        return forms
    if compact != body:
        forms.append(compact)
    return forms


def verify_signature(body: bytes, header: SignatureHeader, key: PublicKey) -> bool:
    """Whether the header's ECDSA signature verifies over the body (either reading) with the key's digest."""
    algorithm = _DIGESTS[key.digest]
    for signed in signed_forms(body):
        try:
            key.key.verify(header.signature, signed, ec.ECDSA(algorithm()))
        except InvalidSignature:
            continue
        return True
    return False


@dataclass(frozen=True)
class DeletionNotification:
    """One MARKETPLACE_ACCOUNT_DELETION notification (the user's identifiers are hidden from ``repr``)."""

    notification_id: str
    topic: str
    event_date: datetime | None
    publish_date: datetime | None
    publish_attempt_count: int | None
    username: str | None = field(repr=False)
    user_id: str | None = field(repr=False)
    eias_token: str | None = field(repr=False)

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The user's identifiers eBay named (username, userId, eiasToken), without blanks."""
        return tuple(v for v in (self.username, self.user_id, self.eias_token) if v)

    @property
    def user_id_sha256(self) -> str:
        """SHA-256 (hex) of eBay's user id (of the username when no id was sent): what may be kept."""
        subject = self.user_id or self.username or ""
        return hashlib.sha256(subject.encode("utf-8")).hexdigest()


def _text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 256:
        raise NotificationRejected(f"the notification's {name} is not a string of at most 256 characters", status=400)
    return value.strip() or None


def _when(value: object, name: str) -> datetime | None:
    text = _text(value, name)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NotificationRejected(f"the notification's {name} is not a date", status=400) from None


def parse_deletion_notification(body: bytes) -> DeletionNotification:
    """Read a deletion notification (``{metadata: {topic}, notification: {notificationId, data}}``)."""
    try:
        message = json.loads(body)
    except ValueError:
        raise NotificationRejected("the notification is not JSON", status=400) from None
    metadata = message.get("metadata") if isinstance(message, dict) else None
    notification = message.get("notification") if isinstance(message, dict) else None
    if not isinstance(metadata, dict) or not isinstance(notification, dict):
        raise NotificationRejected("the notification has no metadata or notification object", status=400)
    topic = metadata.get("topic")
    if topic != ACCOUNT_DELETION_TOPIC:
        raise NotificationRejected(f"the notification's topic is not {ACCOUNT_DELETION_TOPIC}", status=400)
    notification_id = _text(notification.get("notificationId"), "notificationId")
    if notification_id is None:
        raise NotificationRejected("the notification has no notificationId", status=400)
    data = notification.get("data")
    if not isinstance(data, dict):
        raise NotificationRejected("the notification has no data object", status=400)
    attempts = notification.get("publishAttemptCount")
    result = DeletionNotification(
        notification_id=notification_id,
        topic=topic,
        event_date=_when(notification.get("eventDate"), "eventDate"),
        publish_date=_when(notification.get("publishDate"), "publishDate"),
        publish_attempt_count=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else None,
        username=_text(data.get("username"), "username"),
        user_id=_text(data.get("userId"), "userId"),
        eias_token=_text(data.get("eiasToken"), "eiasToken"),
    )
    if not result.identifiers:
        raise NotificationRejected("the notification names no username, userId or eiasToken", status=400)
    return result


class PublicKeyClient:
    """Fetches ``getPublicKey`` with an application token; keys are cached per kid, the token until it expires."""

    CALL_NAME = "getPublicKey"

    def __init__(
        self,
        settings: EbaySettings,
        *,
        retry: RetryPolicy = RetryPolicy(max_attempts=3, max_total_seconds=20.0, timeout=10.0),
        session: requests.Session | None = None,
        max_keys: int = 64,
    ) -> None:
        self.settings = settings
        self.retry = retry
        self.session = session or requests.Session()
        self.oauth = OAuthClient(settings, retry=retry, session=self.session)
        self.max_keys = max_keys
        self.fetches = 0
        self._keys: dict[str, PublicKey | None] = {}
        self._token: tuple[str, datetime] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PublicKeyClient(url={self.settings.api_url('notification')!r}, cached={len(self._keys)})"

    def get(self, kid: str) -> PublicKey | None:
        """The public key ``kid`` names, or None when eBay knows no such key (404)."""
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
        key = call_with_retries(lambda: self._fetch_once(kid), self.retry, call_name=self.CALL_NAME, account_id="")
        with self._lock:
            if len(self._keys) >= self.max_keys:
                self._keys.pop(next(iter(self._keys)))
            self._keys[kid] = key
        return key

    def _application_token(self) -> str:
        with self._lock:
            if self._token and self._token[1] - timedelta(minutes=5) > utcnow():
                return self._token[0]
        token = self.oauth.application_token((SCOPE_PREFIX,))
        with self._lock:
            self._token = (token.token, token.expires_at)
        return token.token

    def _fetch_once(self, kid: str) -> PublicKey | None:
        ctx: ErrorContext = {"call_name": self.CALL_NAME}
        url = f"{self.settings.api_url('notification')}/public_key/{quote(kid, safe='')}"
        self.fetches += 1
        try:
            response = self.session.get(
                url,
                headers={"Authorization": f"Bearer {self._application_token()}", "Accept": "application/json"},
                timeout=self.retry.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransportError(f"connection to getPublicKey failed ({type(exc).__name__})", **ctx) from None
        if response.status_code == 404:
            return None
        if response.status_code == 401:
            with self._lock:
                self._token = None
        if response.status_code >= 500 or response.status_code == 401:
            raise ServerError(f"getPublicKey answered HTTP {response.status_code}", status=response.status_code, **ctx)
        if response.status_code != 200:
            raise EbayApiError(f"getPublicKey answered HTTP {response.status_code}", status=response.status_code, **ctx)
        return parse_public_key(_json(response.content))


def _json(content: bytes) -> Any:
    try:
        return parse_json(content)
    except ValueError:
        return None


class NotificationVerifier:
    """Checks one POSTed notification: header, signature (key from getPublicKey), then payload."""

    def __init__(self, keys: PublicKeyClient) -> None:
        self.keys = keys

    def verify(self, body: bytes, signature_header: str | None) -> DeletionNotification:
        """Return the notification, or raise NotificationRejected (400 malformed, 412 forged)."""
        header = parse_signature_header(signature_header)
        key = self.keys.get(header.kid)
        if key is None:
            raise NotificationRejected(f"eBay knows no public key {header.kid!r}", status=412)
        if not verify_signature(body, header, key):
            raise NotificationRejected("the notification's signature does not verify", status=412)
        return parse_deletion_notification(body)
