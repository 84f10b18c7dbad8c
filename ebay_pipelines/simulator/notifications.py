"""eBay's Notification API in the simulator: ``getPublicKey`` and signed account-deletion notifications.

Sources: the Notification API ``getPublicKey`` (``GET /commerce/notification/v1/public_key/{id}``,
an application token, ``{key, algorithm, digest}`` with a PEM key; HTTP 404 for an unknown id, the
status its page lists) and eBay's notification SDKs (``eBay/event-notification-java-sdk``
test data ``message.json`` / ``public_key_response.json``; ``eBay/event-notification-nodejs-sdk``
``test/test.json``): the message shape, ``X-EBAY-SIGNATURE`` as base64 JSON ``{alg, kid, signature,
digest}`` and an ECDSA (P-256) signature with SHA1 over the message JSON. The key here is derived
from the seed, so a run is reproducible.

eBay's signature covers the message JSON; consumers verify either the body as received or its
compact re-serialization, so :meth:`NotificationSigner.deletion_notification` can send a body that
is exactly the signed bytes (``layout="compact"``) or an indented body whose compact form was signed
(``layout="indented"``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from typing import Literal

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .responses import Response, json_response
from .util import iso_ms

TOPIC = "MARKETPLACE_ACCOUNT_DELETION"
SIGNATURE_HEADER = "X-EBAY-SIGNATURE"


def _key(seed: int, label: str) -> ec.EllipticCurvePrivateKey:
    digest = hashlib.sha256(f"{seed}|{label}".encode()).digest()
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(digest, "big") % (order - 1) + 1, ec.SECP256R1())


def _pem_one_line(key: ec.EllipticCurvePublicKey) -> str:
    """The PEM as eBay sends it: header, base64 and footer on one line."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"-----BEGIN PUBLIC KEY-----{base64.b64encode(der).decode()}-----END PUBLIC KEY-----"


class NotificationSigner:
    """eBay's notification keys: one it publishes (``kid``), one it never issued (for forgeries)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.kid = str(uuid.UUID(bytes=hashlib.sha256(f"{seed}|kid".encode()).digest()[:16], version=4))
        self._key = _key(seed, "notification")
        self._forger = _key(seed, "forger")

    def public_key(self, kid: str) -> dict | None:
        """The ``getPublicKey`` answer for ``kid``, or None when eBay knows no such key."""
        if kid != self.kid:
            return None
        return {"key": _pem_one_line(self._key.public_key()), "algorithm": "ECDSA", "digest": "SHA1"}

    def user_id(self, username: str) -> str:
        """A stable immutable user id for a simulated user (eBay's ids look like ``ma8vp1jySJC``)."""
        return base64.b64encode(hashlib.sha256(f"{self.seed}|uid|{username}".encode()).digest()).decode()[:11]

    def eias_token(self, username: str) -> str:
        """A stable eiasToken for a simulated user (base64, as eBay's)."""
        return base64.b64encode(hashlib.sha256(f"{self.seed}|eias|{username}".encode()).digest()).decode()

    def header(self, signed: bytes, *, forged: bool = False, kid: str | None = None) -> str:
        """``X-EBAY-SIGNATURE`` for ``signed``: with eBay's key, or (``forged``) with one eBay never issued."""
        key = self._forger if forged else self._key
        signature = key.sign(signed, ec.ECDSA(hashes.SHA1()))
        decoded = {"alg": "ecdsa", "kid": kid or self.kid, "signature": base64.b64encode(signature).decode()}
        decoded["digest"] = "SHA1"
        return base64.b64encode(json.dumps(decoded, separators=(",", ":")).encode()).decode()

    def deletion_notification(
        self,
        *,
        username: str | None = None,
        user_id: str | None = None,
        eias_token: str | None = None,
        notification_id: str | None = None,
        when: datetime | None = None,
        attempt: int = 1,
        layout: Literal["compact", "indented"] = "compact",
        forged: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """A MARKETPLACE_ACCOUNT_DELETION notification for a user: ``(body, headers)`` as eBay POSTs them.

        Unset ids are derived from the username. ``forged`` signs with a key eBay never issued.
        """
        if username is None and user_id is None:
            raise ValueError("a deletion notification names a username or a userId")
        name = username or user_id or ""
        stamp = iso_ms(int((when or datetime.now().astimezone()).timestamp() * 1000))
        message = {
            "metadata": {"topic": TOPIC, "schemaVersion": "1.0", "deprecated": False},
            "notification": {
                "notificationId": notification_id or f"{uuid.uuid4()}_{uuid.uuid4()}",
                "eventDate": stamp,
                "publishDate": stamp,
                "publishAttemptCount": attempt,
                "data": {
                    "username": username or name,
                    "userId": user_id or self.user_id(name),
                    "eiasToken": eias_token or self.eias_token(name),
                },
            },
        }
        compact = json.dumps(message, separators=(",", ":")).encode()
        body = compact if layout == "compact" else json.dumps(message, indent=2).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: self.header(compact, forged=forged),
        }
        return body, headers


def public_key_response(signer: NotificationSigner, kid: str) -> Response:
    """``getPublicKey``: the key, or a bare 404 (Not found) for a key eBay never issued."""
    answer = signer.public_key(kid)
    if answer is None:
        return Response(404, b"", "application/json", {})
    return json_response(answer)


def deliver(endpoint_url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> requests.Response:
    """POST a notification to an endpoint, as eBay does."""
    return requests.post(endpoint_url, data=body, headers=headers, timeout=timeout)
