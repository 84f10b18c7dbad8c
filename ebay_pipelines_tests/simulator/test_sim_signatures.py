"""The simulator's check of digital signatures, an independent verifier of the project's signer.

Sources: eBay's "Digital Signatures for APIs" guide (``develop/guides/digital-signatures-for-apis``:
``Content-Digest`` ``sha-256=:<base64>:`` over the body, signed first among the components; Ed25519
or RSA keys from the Key Management API's createSigningKey) and eBay's verification service
(``eBay/digital-signature-verification-ebay-api``: the JWE carries the public key, the body digest is
checked, the RFC 9421 base is rebuilt from the request). Error ids as seen on the wire (README Wire
facts "Digital signatures"): 215001, 215120.
"""

from __future__ import annotations

from email.message import Message

import pytest

from ebay_pipelines.ebay.signing import RequestSigner
from ebay_pipelines.simulator.responses import Request
from ebay_pipelines.simulator.signatures import MISSING_KEY, VALIDATION_FAILED, SignatureAuthority, SignatureFault

URL = "https://apiz.ebay.com/post-order/v2/return/5000012345/issue_refund"


def _request(headers: dict[str, str], body: bytes, host: str = "apiz.ebay.com") -> Request:
    message = Message()
    message["Host"] = host
    for name, value in headers.items():
        message[name] = value
    return Request("POST", "/post-order/v2/return/5000012345/issue_refund", {}, message, body, "")


@pytest.mark.parametrize("cipher", ["ED25519", "RSA"])
def test_a_signed_body_verifies_and_any_change_is_refused(cipher: str) -> None:
    """A POST signed by the project's RequestSigner with a createSigningKey key (either cipher)
    verifies, Content-Digest included; a changed body or a dropped digest fails with 215120."""
    authority = SignatureAuthority(seed=5)
    key = authority.create(cipher)
    body = b'{"refundDetail": {"itemizedRefundDetail": []}}'
    headers = RequestSigner(key["privateKey"], key["jwe"]).headers("POST", URL, body)
    assert headers["Signature-Input"].startswith('sig1=("content-digest" "x-ebay-signature-key" "@method"')
    authority.verify(_request(headers, body))
    for request in (
        _request(headers, body + b" "),
        _request({k: v for k, v in headers.items() if k != "Content-Digest"}, body),
        _request(headers, body, host="api.ebay.com"),
    ):
        with pytest.raises(SignatureFault) as fault:
            authority.verify(request)
        assert fault.value.error is VALIDATION_FAILED


def test_a_key_of_another_ebay_and_a_missing_key_are_refused() -> None:
    """A JWE issued under another secret cannot be read (215120); no ``x-ebay-signature-key`` is 215001."""
    issuer, checker = SignatureAuthority(seed=5), SignatureAuthority(seed=6)
    key = issuer.create("ED25519")
    headers = RequestSigner(key["privateKey"], key["jwe"]).headers("POST", URL, b"{}")
    with pytest.raises(SignatureFault) as foreign:
        checker.verify(_request(headers, b"{}"))
    assert foreign.value.error is VALIDATION_FAILED
    with pytest.raises(SignatureFault) as missing:
        issuer.verify(_request({k: v for k, v in headers.items() if k != "x-ebay-signature-key"}, b"{}"))
    assert missing.value.error is MISSING_KEY
