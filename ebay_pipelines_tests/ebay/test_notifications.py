"""Account-deletion signatures and payloads against eBay's own published sample.

The sample is eBay's test data in ``eBay/event-notification-nodejs-sdk`` ``test/test.json`` ("VALID"):
a MARKETPLACE_ACCOUNT_DELETION message, its ``X-EBAY-SIGNATURE`` and the ``getPublicKey`` answer
(one-line PEM, ECDSA, SHA1). The message shape is that of README Wire facts "Account deletion" and
eBay's guide ``develop/guides-v2/marketplace-user-account-deletion``.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from ebay_pipelines.ebay.notifications import (
    NotificationRejected,
    challenge_response,
    parse_deletion_notification,
    parse_public_key,
    parse_signature_header,
    verify_signature,
)

SAMPLE_SIGNATURE = (
    "eyJhbGciOiJlY2RzYSIsImtpZCI6Ijk5MzYyNjFhLTdkN2ItNDYyMS1hMGYxLTk2Y2NiNDI4YWY0OSIsInNpZ25hdHVyZSI6Ik1FWUNJ"
    "UUNmeGZJV3V4bVdjSUJRSjljNS9YN2lHREpxczJSQ0dzQkVhQWppbnlycmZBSWhBSVY2d0djVGlCdVY1S0pVaWYyaG9reXJMK1E5c3NI"
    "a2FkK214Mm5FRTI1dyIsImRpZ2VzdCI6IlNIQTEifQ=="
)
SAMPLE_KEY = {
    "key": "-----BEGIN PUBLIC KEY-----MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZhhxXKtR+TOvtDbgTPCkSof02qgBB7IsYOyf"
    "76ilExJ/upAa/vKIKheOoCyOpcLmi4t0b4uepb7LLjmMr90FUg==-----END PUBLIC KEY-----",
    "algorithm": "ECDSA",
    "digest": "SHA1",
}
SAMPLE_MESSAGE = {
    "metadata": {"topic": "MARKETPLACE_ACCOUNT_DELETION", "schemaVersion": "1.0", "deprecated": False},
    "notification": {
        "notificationId": "49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d",
        "eventDate": "2021-03-19T20:43:59.462Z",
        "publishDate": "2021-03-19T20:43:59.679Z",
        "publishAttemptCount": 1,
        "data": {
            "username": "test_user",
            "userId": "ma8vp1jySJC",
            "eiasToken": "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ==",
        },
    },
}


def test_ebays_sample_signature_verifies_in_either_body_layout() -> None:
    """eBay's SDK sample: the signature covers the compact message JSON; an indented body verifies through it."""
    header = parse_signature_header(SAMPLE_SIGNATURE)
    assert header.kid == "9936261a-7d7b-4621-a0f1-96ccb428af49" and header.digest == "SHA1"
    key = parse_public_key(SAMPLE_KEY)
    compact = json.dumps(SAMPLE_MESSAGE, separators=(",", ":")).encode()
    assert verify_signature(compact, header, key)
    assert verify_signature(json.dumps(SAMPLE_MESSAGE, indent=4).encode(), header, key)
    tampered = compact.replace(b"test_user", b"other_user")
    assert not verify_signature(tampered, header, key)


def test_the_sample_payload_names_the_user_and_keeps_only_a_hash_of_the_id() -> None:
    """README Wire facts "Account deletion": the payload names username, userId and eiasToken."""
    notification = parse_deletion_notification(json.dumps(SAMPLE_MESSAGE).encode())
    assert notification.identifiers == ("test_user", "ma8vp1jySJC", SAMPLE_MESSAGE["notification"]["data"]["eiasToken"])
    assert notification.user_id_sha256 == hashlib.sha256(b"ma8vp1jySJC").hexdigest()
    assert "test_user" not in repr(notification)


@pytest.mark.parametrize(
    "header",
    [None, "", "not-base64!", "eyJraWQiOjF9", "W10="],  # missing, empty, not base64, kid not a string, a list
)
def test_a_malformed_signature_header_is_refused_as_400(header: str | None) -> None:
    """eBay's SDKs fail a header that is not base64 JSON with kid and signature; the endpoint answers 400."""
    with pytest.raises(NotificationRejected) as caught:
        parse_signature_header(header)
    assert caught.value.status == 400


def test_the_challenge_response_is_sha256_of_code_token_and_url_in_that_order() -> None:
    """eBay's guide: hash challengeCode, then verificationToken, then endpoint; hex digest."""
    token, url = "t" * 32, "https://example.com/hook"
    assert challenge_response("abc", token, url) == hashlib.sha256(f"abc{token}{url}".encode()).hexdigest()
    assert challenge_response("abc", token, url) != challenge_response("abc", token, url + "/")
