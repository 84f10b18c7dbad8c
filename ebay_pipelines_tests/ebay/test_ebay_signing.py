"""Digital signatures: eBay's published sample, and verification with the public key."""

from __future__ import annotations

import base64
import re

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from ebay_pipelines.ebay.errors import ConfigurationError
from ebay_pipelines.ebay.signing import RequestSigner

# The Ed25519 test key of RFC 9421 (B.1.4), which eBay's signature guide also uses.
ED25519_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----"""
ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----"""
SAMPLE_JWE = (
    "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwidGFnIjoiSGdLcjNSSWFlZll0Mkd4blBUUTEwUSIsImFsZyI6IkEyNTZHQ01LVyIs"
    "Iml2IjoiQTVOQXFYUXlITkNIT01GVSJ9.z3JcS0vvxrYboqpySAq_Znww-3V6AllxmJP5JEMkuLY.K1f4MVMEc8ylbfSS.fASwJyMCk2tX"
    "ZsNWk13IcuVgSWTOcynSdAoJrK4WApZANlxAP9J0qr0Jz_4aFldFDSZ5tfuxLGqzJmWU7CiZWwNjk2XoVy8q5ogMrFNFwFXP4SrX1XORh"
    "NLZPTyS5DEqLDPYn2NX944xendEwfcxxXsTSeNCUnmSyfitiscUC04GYOfn0UWQ2buSWx7Yod0IR2GtTGUsM9o3J-riuNDKhw.rRsWM1Sl"
    "_2stTnZLJkWVmQ"
)


def _reconstruct_base(headers: dict[str, str], method: str, path: str, authority: str) -> bytes:
    """Rebuild the RFC 9421 signature base from the produced headers, independently of the signer."""
    match = re.fullmatch(r"sig1=\((?P<components>[^)]*)\);created=(?P<created>\d+)", headers["Signature-Input"])
    assert match, headers["Signature-Input"]
    components = re.findall(r'"([^"]+)"', match["components"])
    values = {
        "content-digest": headers.get("Content-Digest"),
        "x-ebay-signature-key": headers["x-ebay-signature-key"],
        "@method": method,
        "@path": path,
        "@authority": authority,
    }
    lines = [f'"{c}": {values[c]}' for c in components]
    lines.append(f'"@signature-params": ({match["components"]});created={match["created"]}')
    return "\n".join(lines).encode()


def _signature_bytes(headers: dict[str, str]) -> bytes:
    match = re.fullmatch(r"sig1=:(?P<sig>[A-Za-z0-9+/=]+):", headers["Signature"])
    assert match, headers["Signature"]
    return base64.b64decode(match["sig"])


def test_matches_ebays_published_sample() -> None:
    signer = RequestSigner(ED25519_PRIVATE, SAMPLE_JWE)
    headers = signer.headers("POST", "http://localhost:8080/verifysignature", b'{"hello": "world"}', created=1659651955)
    assert headers["Content-Digest"] == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
    assert headers["Signature-Input"] == (
        'sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority");created=1659651955'
    )
    assert headers["Signature"] == (
        "sig1=:uunxYrXKC8KaoupD5D1DKdmQmrOhz6b4Xbhb3o9d4x4xFIpg++XzEZztOyeOI59rMMjM3NIcFgxBH0c1ckpfBw==:"
    )
    assert headers["x-ebay-signature-key"] == SAMPLE_JWE


def test_get_without_body_verifies_with_public_key() -> None:
    signer = RequestSigner(ED25519_PRIVATE, SAMPLE_JWE, clock=lambda: 1_700_000_000.9)
    url = "https://apiz.ebay.com/sell/finances/v1/transaction?filter=transactionDate:%5B..%5D&limit=1000"
    headers = signer.headers("get", url)
    assert "Content-Digest" not in headers
    assert headers["Signature-Input"] == (
        'sig1=("x-ebay-signature-key" "@method" "@path" "@authority");created=1700000000'
    )
    base = _reconstruct_base(headers, "GET", "/sell/finances/v1/transaction", "apiz.ebay.com")
    public = serialization.load_pem_public_key(ED25519_PUBLIC.encode())
    assert isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(_signature_bytes(headers), base)  # raises InvalidSignature when wrong
    tampered = base.replace(b"/transaction", b"/payout")
    with pytest.raises(InvalidSignature):
        public.verify(_signature_bytes(headers), tampered)


def test_authority_keeps_non_default_port_and_body_is_digested() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    signer = RequestSigner(pem, "jwe-value", clock=lambda: 42)
    body = b'{"amount": "1.00"}'
    headers = signer.headers("POST", "http://127.0.0.1:54321/sell/finances/v1/x", body)
    base = _reconstruct_base(headers, "POST", "/sell/finances/v1/x", "127.0.0.1:54321")
    assert b'"content-digest": sha-256=:' in base
    key.public_key().verify(_signature_bytes(headers), base)


def test_rsa_keys_are_supported() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    signer = RequestSigner(pem.decode(), "jwe", clock=lambda: 1)
    headers = signer.headers("GET", "https://apiz.ebay.com/sell/finances/v1/payout")
    base = _reconstruct_base(headers, "GET", "/sell/finances/v1/payout", "apiz.ebay.com")
    key.public_key().verify(_signature_bytes(headers), base, padding.PKCS1v15(), hashes.SHA256())
    assert signer.algorithm == "rsa-v1_5-sha256"


def test_bad_key_and_safe_repr() -> None:
    with pytest.raises(ConfigurationError):
        RequestSigner("not a key", "jwe")
    signer = RequestSigner(ED25519_PRIVATE, SAMPLE_JWE)
    assert "MC4CAQ" not in repr(signer) and SAMPLE_JWE not in repr(signer)
    assert signer.applies_to("finances") and not signer.applies_to("fulfillment")
    # PEM body without the BEGIN/END lines is accepted too.
    body_only = "".join(ED25519_PRIVATE.splitlines()[1:-1])
    assert RequestSigner(body_only, SAMPLE_JWE).headers("GET", "https://a/b", created=1)["Signature"]
