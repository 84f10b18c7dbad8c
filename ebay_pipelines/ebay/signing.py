"""eBay digital signatures for API calls (required for EU/UK sellers on the Finances API).

Implements eBay's "Digital Signatures for APIs" scheme, an HTTP message signature per
RFC 9421 with a Content-Digest per RFC 9530:

- ``x-ebay-signature-key``: the public key as JWE issued by eBay's Key Management API;
- ``Content-Digest``: ``sha-256=:<base64>:`` over the body, only when there is a body;
- ``Signature-Input``: ``sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=<unix>``
  (without ``"content-digest"`` when there is no body);
- ``Signature``: ``sig1=:<base64 signature>:`` over the RFC 9421 signature base.

Ed25519 keys are preferred by eBay; RSA keys (RSASSA-PKCS1-v1_5 with SHA-256) are accepted too.

Which calls: the guide requires signatures, for sellers domiciled in the EU or the UK, on every
Finances method, Fulfillment ``issueRefund``, Trading ``GetAccount`` and the Post-Order refund,
return-decision and cancellation methods. Of these the project calls only Finances
(``getTransactions``, ``getPayouts``); payment disputes and Post-Order searches are not listed.
Signatures on other calls or for other sellers are ignored by eBay, so signing more never hurts.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from .errors import ConfigurationError

SIGNATURE_LABEL = "sig1"
_DEFAULT_PORTS = {"http": 80, "https": 443}

#: The APIs of this project whose calls the guide lists as signed (all Finances methods).
SIGNED_APIS: tuple[str, ...] = ("finances",)

#: eBay marketplaces of the EU and the UK. eBay asks for signatures for sellers *domiciled* there;
#: the account's marketplace stands in for its domicile (``accounts add --signing`` covers the rest).
SIGNING_MARKETPLACES = frozenset(
    {
        "EBAY_AT",
        "EBAY_BE",
        "EBAY_DE",
        "EBAY_ES",
        "EBAY_FR",
        "EBAY_GB",
        "EBAY_IE",
        "EBAY_IT",
        "EBAY_NL",
        "EBAY_PL",
    }
)


def requires_signature(marketplace_id: str) -> bool:
    """True when sellers of ``marketplace_id`` (an EU or UK marketplace) must sign Finances calls."""
    return marketplace_id.upper() in SIGNING_MARKETPLACES


def is_signature_error(error_ids: Iterable[int | str]) -> bool:
    """True when eBay's error ids are digital-signature errors (the 215xxx ACCESS family).

    Seen on the wire: 215001 "Missing x-ebay-signature-key header", 215114 "The create time of
    signature parameters is not in right range", 215120 and 215122 "Signature validation failed".
    """
    for error_id in error_ids:
        try:
            number = int(error_id)
        except (TypeError, ValueError):
            continue
        if 215000 <= number < 216000:
            return True
    return False


def content_digest(body: bytes) -> str:
    """Return the Content-Digest header value (``sha-256=:<base64>:``) of ``body``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def authority_of(url: str) -> str:
    """Return the RFC 9421 ``@authority`` of ``url``: lower-case host, port only when not the default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{parts.port}"
    return host


def path_of(url: str) -> str:
    """Return the RFC 9421 ``@path`` of ``url`` (the path without the query, ``/`` when empty)."""
    return urlsplit(url).path or "/"


def signature_params(components: Iterable[str], created: int) -> str:
    """Return the serialized signature parameters, e.g. ``("@method" "@path");created=1``."""
    inner = " ".join(f'"{name}"' for name in components)
    return f"({inner});created={created}"


def signature_base(values: list[tuple[str, str]], params: str) -> str:
    """Return the RFC 9421 signature base for ordered ``(component, value)`` pairs and the params."""
    lines = [f'"{name}": {value}' for name, value in values]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines)


class RequestSigner:
    """Adds eBay's digital-signature headers to requests of selected APIs.

    ``private_key_pem`` is the private key from eBay's Key Management API (PEM, with or
    without the BEGIN/END lines), ``jwe`` the matching public key as JWE. ``apis`` names the
    API families whose calls are signed (the Finances API by default).
    """

    def __init__(
        self,
        private_key_pem: str | bytes,
        jwe: str,
        *,
        apis: Iterable[str] = SIGNED_APIS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = _load_private_key(private_key_pem)
        self._jwe = jwe.strip()
        if not self._jwe:
            raise ConfigurationError("the signing key JWE is empty")
        self.apis = frozenset(apis)
        self._clock = clock

    def __repr__(self) -> str:
        return f"RequestSigner(algorithm={self.algorithm!r}, apis={sorted(self.apis)!r})"

    @property
    def algorithm(self) -> str:
        """``ed25519`` or ``rsa-v1_5-sha256``."""
        return "ed25519" if isinstance(self._key, ed25519.Ed25519PrivateKey) else "rsa-v1_5-sha256"

    def applies_to(self, api: str) -> bool:
        """Return True when calls of ``api`` are signed."""
        return api in self.apis

    def headers(
        self, method: str, url: str, body: bytes | None = None, *, created: int | None = None
    ) -> dict[str, str]:
        """Return the signature headers for one request (``created`` defaults to now)."""
        created = int(self._clock()) if created is None else int(created)
        headers = {"x-ebay-signature-key": self._jwe}
        values: list[tuple[str, str]] = []
        if body:
            headers["Content-Digest"] = content_digest(body)
            values.append(("content-digest", headers["Content-Digest"]))
        values += [
            ("x-ebay-signature-key", self._jwe),
            ("@method", method.upper()),
            ("@path", path_of(url)),
            ("@authority", authority_of(url)),
        ]
        params = signature_params([name for name, _ in values], created)
        base = signature_base(values, params).encode("utf-8")
        if isinstance(self._key, ed25519.Ed25519PrivateKey):
            signature = self._key.sign(base)
        else:
            signature = self._key.sign(base, padding.PKCS1v15(), hashes.SHA256())
        headers["Signature-Input"] = f"{SIGNATURE_LABEL}={params}"
        headers["Signature"] = f"{SIGNATURE_LABEL}=:{base64.b64encode(signature).decode('ascii')}:"
        return headers


def _load_private_key(pem: str | bytes) -> ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    data = data.strip()
    if b"-----BEGIN" not in data:
        data = b"-----BEGIN PRIVATE KEY-----\n" + data + b"\n-----END PRIVATE KEY-----\n"
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ConfigurationError("the signing private key is not a valid PEM private key") from None
    if not isinstance(key, (ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
        raise ConfigurationError("the signing private key must be Ed25519 or RSA")
    return key
