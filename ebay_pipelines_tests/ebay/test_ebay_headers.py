"""Headers actually sent over HTTP: marketplace, auth scheme per API, Trading headers, signatures.

A ``requests`` response hook records each real request as it went over the wire.
"""

from __future__ import annotations

import base64
import logging
import re
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ebay_pipelines.ebay import finances, fulfillment, inventory, postorder, selling
from ebay_pipelines.ebay.auth import AccessTokenProvider, InMemoryTokenStore, OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.rest import EbayRestClient
from ebay_pipelines.ebay.signing import RequestSigner
from ebay_pipelines.ebay.trading import TradingClient

from .conftest import ACCOUNT, FAST, window


def _recording_session(sent: list[requests.PreparedRequest]) -> requests.Session:
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: sent.append(response.request))
    return session


def _clients(sim, sent, signing=None):
    settings = EbaySettings(client_id=sim.client_id, client_secret=sim.client_secret, base_url=sim.base_url)
    store = InMemoryTokenStore({ACCOUNT: sim.refresh_token_for(ACCOUNT)})
    tokens = AccessTokenProvider(ACCOUNT, OAuthClient(settings, retry=FAST), store)
    session = _recording_session(sent)
    rest = EbayRestClient(
        ACCOUNT, settings, tokens, marketplace_id="EBAY_GB", retry=FAST, signing=signing, session=session
    )
    trading = TradingClient(ACCOUNT, settings, tokens, site_id=3, retry=FAST, session=session)
    return rest, trading, tokens


def test_marketplace_and_auth_scheme_on_every_call(sim) -> None:
    sent: list[requests.PreparedRequest] = []
    rest, trading, tokens = _clients(sim, sent)
    since, until = window(10)
    list(fulfillment.iter_orders(rest, since, until, page_size=100))
    list(finances.iter_transactions(rest, since, until))
    list(inventory.iter_inventory_items(rest, page_size=20))
    list(postorder.iter_cases(rest, since, until))
    list(selling.iter_active_listings(trading))
    token = tokens.get()
    rest_requests = [r for r in sent if "/ws/api.dll" not in r.url]
    assert len(rest_requests) > 5
    for request in rest_requests:
        assert request.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_GB"
        scheme = "IAF" if "/post-order/" in request.url else "Bearer"
        assert request.headers["Authorization"] == f"{scheme} {token}"
    trading_requests = [r for r in sent if "/ws/api.dll" in r.url]
    assert trading_requests
    for request in trading_requests:
        assert request.headers["X-EBAY-API-CALL-NAME"] == "GetMyeBaySelling"
        assert request.headers["X-EBAY-API-SITEID"] == "3"
        assert request.headers["X-EBAY-API-COMPATIBILITY-LEVEL"] == "1379"
        assert request.headers["X-EBAY-API-IAF-TOKEN"] == token
        assert request.headers["Content-Type"] == "text/xml"
        body = request.body if isinstance(request.body, bytes) else request.body.encode()
        assert b'xmlns="urn:ebay:apis:eBLBaseComponents"' in body and token.encode() not in body
        assert b"<ActiveList><Include>true</Include><Pagination><EntriesPerPage>200</EntriesPerPage>" in body


def test_one_session_reuses_connections(sim, caplog) -> None:
    sent: list[requests.PreparedRequest] = []
    rest, _, tokens = _clients(sim, sent)
    tokens.get()
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    since, until = window(30)
    list(fulfillment.iter_orders(rest, since, until, page_size=20))
    assert len(sent) >= 19
    opened = [r for r in caplog.records if "Starting new HTTP connection" in r.getMessage()]
    assert len(opened) == 1


def test_finances_calls_are_signed(sim) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    sent: list[requests.PreparedRequest] = []
    rest, _, _ = _clients(sim, sent, signing=RequestSigner(pem, "test-jwe"))
    since, until = window(20)
    assert list(finances.iter_transactions(rest, since, until, page_size=200))
    list(fulfillment.iter_orders(rest, since, until))
    signed = [r for r in sent if "/sell/finances/" in r.url]
    assert len(signed) > 1
    for request in signed:
        assert request.headers["x-ebay-signature-key"] == "test-jwe"
        assert "Content-Digest" not in request.headers
        m = re.fullmatch(r'sig1=\(("[^)]*")\);created=(\d+)', request.headers["Signature-Input"])
        assert m and m.group(1) == '"x-ebay-signature-key" "@method" "@path" "@authority"'
        url = urlsplit(request.url)
        base = "\n".join(
            [
                '"x-ebay-signature-key": test-jwe',
                '"@method": GET',
                f'"@path": {url.path}',
                f'"@authority": {url.netloc}',
                f'"@signature-params": ({m.group(1)});created={m.group(2)}',
            ]
        ).encode()
        signature = base64.b64decode(request.headers["Signature"].removeprefix("sig1=:").removesuffix(":"))
        key.public_key().verify(signature, base)
    assert all("Signature" not in r.headers for r in sent if "/sell/finances/" not in r.url)
