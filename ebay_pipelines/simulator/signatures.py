"""Digital signatures on the simulated eBay: Key Management keys and the check of signed calls.

eBay's "Digital Signatures for APIs" guide and its verification service
(``eBay/digital-signature-verification-ebay-api``): calls of every Finances method made for a
seller domiciled in the EU or the UK carry ``x-ebay-signature-key`` (the public key as JWE),
``Signature-Input`` (``sig1=(<components>);created=<unix>``), ``Signature`` (``sig1=:<base64>:``)
and, with a body, ``Content-Digest`` (``sha-256=:<base64>:``). eBay's verifier decrypts the JWE to
read the public key (claims ``pkey``, base64 X.509 SubjectPublicKeyInfo, and ``cipher``), rebuilds
the RFC 9421 signature base from the request and verifies the signature with it.

The simulator does the same: its JWE is a real compact JWE (``alg=dir``, ``enc=A256GCM``) of those
claims under a key only the simulator holds, so a JWE it did not issue, or one altered, cannot be
read, just as eBay cannot read another party's. Errors, as eBay answers them on the wire:
215001 "Missing x-ebay-signature-key header", 215114 "The create time of signature parameters is
not in right range" (``created`` more than five minutes from now), 215120 "Signature validation
failed" (any other fault). Signatures are checked against the wall clock, not the simulated one:
they prove when a request was sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .responses import Request, Response, rest_error
from .util import digest

#: Marketplaces of sellers domiciled in the EU or the UK.
SIGNING_MARKETPLACES = frozenset(
    {"EBAY_AT", "EBAY_BE", "EBAY_DE", "EBAY_ES", "EBAY_FR", "EBAY_GB", "EBAY_IE", "EBAY_IT", "EBAY_NL", "EBAY_PL"}
)
#: The components eBay's guide puts in ``Signature-Input`` (``content-digest`` first when there is a body).
REQUIRED_COMPONENTS = ("x-ebay-signature-key", "@method", "@path", "@authority")
CREATED_TOLERANCE_S = 300
KEY_LIFETIME_S = 3 * 365 * 24 * 3600

MISSING_KEY = (215001, "Missing x-ebay-signature-key header")
CREATED_RANGE = (215114, "The create time of signature parameters is not in right range")
VALIDATION_FAILED = (215120, "Signature validation failed")

_INPUT = re.compile(r'^\s*([A-Za-z0-9_-]+)=\(((?:\s*"[^"]+")*)\s*\)((?:;[a-z]+=(?:"[^"]*"|\d+))*)\s*$')
_SIGNATURE = re.compile(r"^\s*([A-Za-z0-9_-]+)=:([A-Za-z0-9+/=]+):\s*$")
_DIGEST = re.compile(r"^\s*sha-256=:([A-Za-z0-9+/=]+):\s*$")


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignatureFault(Exception):
    """Why a signed call is refused: eBay's error id and message."""

    def __init__(self, error: tuple[int, str], detail: str) -> None:
        super().__init__(detail)
        self.error = error


def signature_error(error: tuple[int, str]) -> Response:
    """eBay's answer for a refused signature (ACCESS/REQUEST; 400 for a missing key or stale time, else 403)."""
    error_id, message = error
    status = 403 if error is VALIDATION_FAILED else 400
    return rest_error(status, error_id, "ACCESS", "REQUEST", message, f"{message} to fulfill the request.")


class SignatureAuthority:
    """Issues signing keys (createSigningKey) and verifies signed calls; thread-safe.

    ``verified`` counts calls whose signature verified, ``refused`` the refusals, both by
    ``(account, endpoint)``. An account signs when its marketplace (``set_marketplace``, else the
    simulator's ``default_marketplace``) is an EU/UK one.
    """

    def __init__(
        self, seed: int, default_marketplace: str = "EBAY_US", wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._jwe_key = digest(seed, "jwe-key")[:32]
        self._seed = seed
        self._default = default_marketplace
        self._clock = wall_clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}
        self._marketplaces: dict[str, str] = {}
        self.verified: Counter[tuple[str, str]] = Counter()
        self.refused: Counter[tuple[str, str]] = Counter()

    # ------------------------------------------------------------------ domicile
    def set_marketplace(self, account: str, marketplace_id: str) -> None:
        """Where the seller is registered (its domicile stands for it)."""
        with self._lock:
            self._marketplaces[account] = marketplace_id.upper()

    def signs(self, account: str) -> bool:
        """True when the account's Finances calls must be signed."""
        with self._lock:
            marketplace = self._marketplaces.get(account, self._default)
        return marketplace in SIGNING_MARKETPLACES

    # ------------------------------------------------------------------ Key Management
    def create(self, cipher: str) -> dict[str, Any]:
        """A new keypair as createSigningKey answers it (the private key is not kept)."""
        now = int(self._clock())
        with self._lock:
            number = len(self._keys) + 1
        key_id = digest(self._seed, "signing-key-id", number).hex()[:32]
        if cipher == "ED25519":
            private: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey = ed25519.Ed25519PrivateKey.from_private_bytes(
                digest(self._seed, "signing-key", number)[:32]
            )
            algorithm = "Ed25519"
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            algorithm = "RSA"
        spki = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        pkcs8 = private.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_b64 = base64.b64encode(spki).decode("ascii")
        claims = {"pkey": public_b64, "cipher": algorithm, "kid": key_id, "exp": now + KEY_LIFETIME_S}
        record = {
            "signingKeyId": key_id,
            "signingKeyCipher": cipher,
            "publicKey": public_b64,
            "jwe": self._encrypt(claims, key_id),
            "creationTime": now,
            "expirationTime": now + KEY_LIFETIME_S,
        }
        with self._lock:
            self._keys[key_id] = record
        return {**record, "privateKey": base64.b64encode(pkcs8).decode("ascii")}

    def get(self, key_id: str) -> dict[str, Any] | None:
        """getSigningKey: the keypair's public data (never the private key)."""
        with self._lock:
            record = self._keys.get(key_id)
        return dict(record) if record else None

    def all(self) -> list[dict[str, Any]]:
        """getSigningKeys: every keypair's public data."""
        with self._lock:
            return [dict(r) for r in self._keys.values()]

    def _encrypt(self, claims: dict[str, Any], key_id: str) -> str:
        header = _b64u(json.dumps({"alg": "dir", "enc": "A256GCM", "kid": key_id}, separators=(",", ":")).encode())
        iv = secrets.token_bytes(12)
        sealed = AESGCM(self._jwe_key).encrypt(iv, json.dumps(claims).encode(), header.encode("ascii"))
        return ".".join((header, "", _b64u(iv), _b64u(sealed[:-16]), _b64u(sealed[-16:])))

    def _public_key(self, jwe: str) -> ed25519.Ed25519PublicKey | rsa.RSAPublicKey:
        parts = jwe.strip().split(".")
        if len(parts) != 5:
            raise SignatureFault(VALIDATION_FAILED, "the JWE is not in compact form")
        header, _, iv, ciphertext, tag = parts
        try:
            plain = AESGCM(self._jwe_key).decrypt(_unb64u(iv), _unb64u(ciphertext) + _unb64u(tag), header.encode())
            claims = json.loads(plain)
            key = serialization.load_der_public_key(base64.b64decode(claims["pkey"]))
        except (InvalidTag, ValueError, KeyError, TypeError):
            raise SignatureFault(VALIDATION_FAILED, "the JWE was not issued by this eBay") from None
        if not isinstance(key, (ed25519.Ed25519PublicKey, rsa.RSAPublicKey)):
            raise SignatureFault(VALIDATION_FAILED, "unsupported key type")
        if int(claims.get("exp") or 0) <= self._clock():
            raise SignatureFault(VALIDATION_FAILED, "the signing key expired")
        return key

    # ------------------------------------------------------------------ verification
    def check(self, account: str, endpoint: str, req: Request) -> Response | None:
        """None when the call may proceed; eBay's error answer when its signature is missing or wrong."""
        if not self.signs(account):
            return None
        try:
            self.verify(req)
        except SignatureFault as fault:
            with self._lock:
                self.refused[(account, endpoint)] += 1
            return signature_error(fault.error)
        with self._lock:
            self.verified[(account, endpoint)] += 1
        return None

    def verify(self, req: Request) -> None:
        """Verify the request's signature as RFC 9421 and eBay's guide say; raise SignatureFault if it fails."""
        jwe = req.headers.get("x-ebay-signature-key")
        if not jwe:
            raise SignatureFault(MISSING_KEY, "no x-ebay-signature-key header")
        key = self._public_key(jwe)
        found = _INPUT.match(req.headers.get("Signature-Input") or "")
        signature = _SIGNATURE.match(req.headers.get("Signature") or "")
        if not found or not signature or found.group(1) != signature.group(1):
            raise SignatureFault(VALIDATION_FAILED, "Signature-Input or Signature missing or malformed")
        components = re.findall(r'"([^"]+)"', found.group(2))
        params = dict(re.findall(r';([a-z]+)=("[^"]*"|\d+)', found.group(3)))
        if any(c not in components for c in REQUIRED_COMPONENTS):
            raise SignatureFault(VALIDATION_FAILED, "a required component is not covered")
        if "created" not in params or abs(int(params["created"]) - self._clock()) > CREATED_TOLERANCE_S:
            raise SignatureFault(CREATED_RANGE, "created is missing or out of range")
        if req.body:
            self._check_digest(req, components)
        base = self._base(req, components, found.group(0).split("=", 1)[1].strip())
        try:
            raw = base64.b64decode(signature.group(2), validate=True)
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(raw, base)
            else:
                key.verify(raw, base, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise SignatureFault(VALIDATION_FAILED, "the signature does not verify") from None

    @staticmethod
    def _check_digest(req: Request, components: list[str]) -> None:
        found = _DIGEST.match(req.headers.get("Content-Digest") or "")
        if not found or "content-digest" not in components:
            raise SignatureFault(VALIDATION_FAILED, "a body without a signed sha-256 Content-Digest")
        if base64.b64decode(found.group(1)) != hashlib.sha256(req.body).digest():
            raise SignatureFault(VALIDATION_FAILED, "the Content-Digest does not match the body")

    @staticmethod
    def _base(req: Request, components: list[str], signature_params: str) -> bytes:
        """The RFC 9421 signature base, rebuilt from the request as received."""
        host = (req.headers.get("Host") or "").strip().lower()
        if host.endswith(":80") or host.endswith(":443"):
            host = host.rsplit(":", 1)[0]
        derived = {"@method": req.method.upper(), "@path": req.path or "/", "@authority": host}
        lines = []
        for name in components:
            if name.startswith("@"):
                if name not in derived:
                    raise SignatureFault(VALIDATION_FAILED, f"unsupported component {name}")
                value = derived[name]
            else:
                header = req.headers.get(name)
                if header is None:
                    raise SignatureFault(VALIDATION_FAILED, f"header {name} is covered but absent")
                value = header.strip()
            lines.append(f'"{name}": {value}')
        lines.append(f'"@signature-params": {signature_params}')
        return "\n".join(lines).encode("utf-8")
