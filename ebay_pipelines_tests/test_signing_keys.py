"""EU/UK sellers sign their Finances calls: keys from Key Management, stored encrypted, verified by the simulator.

Sources: eBay's "Digital Signatures for APIs" guide (``develop/guides/digital-signatures-for-apis``:
every Finances method is signed for sellers domiciled in the EU or the UK, headers
``x-ebay-signature-key`` = the JWE, ``Signature-Input`` ``sig1=("x-ebay-signature-key" "@method"
"@path" "@authority");created=<unix>``, ``Signature``), the Key Management API's createSigningKey
page (``POST /developer/key_management/v1/signing_key``, client-credentials token, answer
``signingKeyId``/``privateKey``/``jwe``/``expirationTime``), eBay's verification service
(``eBay/digital-signature-verification-ebay-api``) and eBay's error answers seen on the wire
(README Wire facts "Digital signatures": 215001 "Missing x-ebay-signature-key header"; 215120
"Signature validation failed"; 215114 "The create time of signature parameters is not in right
range").
"""

from __future__ import annotations

import base64
import json
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from tests_support import fast_definitions, run_family_range

from ebay_pipelines.cli import main
from ebay_pipelines.ebay.auth import AccessTokenProvider, InMemoryTokenStore, OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import SignatureRejected
from ebay_pipelines.ebay.keys import KeyManagementClient
from ebay_pipelines.ebay.rest import EbayRestClient
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.ebay.signing import RequestSigner
from ebay_pipelines.store.accounts import add_account
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.store.signing_keys import load_signing_key
from ebay_pipelines.sync.partition_sync import build_clients

EU = "seller-de"
US = "seller-us"
FIRST, LAST = date(2026, 10, 20), date(2026, 10, 24)
FAST = RetryPolicy(max_attempts=2, initial_delay=0.01, max_total_seconds=2, jitter=0, timeout=5)
# eBay's published sample JWE (guide and verification service): a key this simulator never issued.
FOREIGN_JWE = (
    "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwidGFnIjoiSGdLcjNSSWFlZll0Mkd4blBUUTEwUSIsImFsZyI6IkEyNTZHQ01LVyIs"
    "Iml2IjoiQTVOQXFYUXlITkNIT01GVSJ9.z3JcS0vvxrYboqpySAq_Znww-3V6AllxmJP5JEMkuLY.K1f4MVMEc8ylbfSS.fASwJyMCk2tX"
    "ZsNWk13IcuVgSWTOcynSdAoJrK4WApZANlxAP9J0qr0Jz_4aFldFDSZ5tfuxLGqzJmWU7CiZWwNjk2XoVy8q5ogMrFNFwFXP4SrX1XORh"
    "NLZPTyS5DEqLDPYn2NX944xendEwfcxxXsTSeNCUnmSyfitiscUC04GYOfn0UWQ2buSWx7Yod0IR2GtTGUsM9o3J-riuNDKhw.rRsWM1Sl"
    "_2stTnZLJkWVmQ"
)


def _settings(sim) -> EbaySettings:
    return EbaySettings(sim.client_id, sim.client_secret, base_url=sim.base_url)


def _register(engine: sa.Engine, sim, account: str, marketplace: str, instance=None, **kwargs) -> None:
    add_account(engine, load_cipher(), account, sim.refresh_token_for(account), marketplace_id=marketplace, **kwargs)
    sim.set_marketplace(account, marketplace)
    if instance is not None:
        instance.add_dynamic_partitions("ebay_accounts", [account])


def _rest(sim, account: str, signer: RequestSigner | None) -> EbayRestClient:
    tokens = AccessTokenProvider(
        account, OAuthClient(_settings(sim), retry=FAST), InMemoryTokenStore({account: sim.refresh_token_for(account)})
    )
    return EbayRestClient(account, _settings(sim), tokens, marketplace_id="EBAY_DE", retry=FAST, signing=signer)


def _sync_finances(ebay_env: str, instance, account: str):
    defs = fast_definitions(ebay_env)
    return run_family_range(defs, instance, "finances", f"{account}|{FIRST}", f"{account}|{LAST}")


def _import(tmp_path: Path, account: str, key: dict) -> str:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    result = CliRunner().invoke(main, ["accounts", "signing-key", account, "--import", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def test_eu_account_finances_sync_is_signed_and_verified(ebay_env, sim, dagster_instance, engine) -> None:
    """The guide: every Finances call of an EU-domiciled seller is signed. The first sync creates the
    key through Key Management (createSigningKey), stores it, and each getTransactions page carries a
    signature the simulator verified with the public key it issued; rows land as for any seller."""
    _register(engine, sim, EU, "EBAY_DE", dagster_instance)
    result = _sync_finances(ebay_env, dagster_instance, EU)
    assert result.success
    verified, refused = sim.signatures.verified, sim.signatures.refused
    assert verified[(EU, "getTransactions")] == sim.calls[(EU, "getTransactions")] > 0
    assert not refused
    assert sim.calls[(None, "createSigningKey")] == 1 and len(sim.signatures.all()) == 1
    with engine.connect() as conn:
        stored = load_signing_key(conn, load_cipher(), EU)
        rows = conn.execute(
            sa.text("select count(*) from ebay_finances_transactions where ebay_account_id = :a"), {"a": EU}
        ).scalar()
    assert stored is not None and stored.signing_key_id == sim.signatures.all()[0]["signingKeyId"]
    assert stored.expires_at is not None and rows
    # getPayouts is a Finances method too: the stored key signs it through the same client.
    clients = build_clients(engine, EU)
    clients.rest.get_json("finances", "/payout", [("limit", 1)], "getPayouts")
    assert verified[(EU, "getPayouts")] == 1 and sim.calls[(None, "createSigningKey")] == 1


def test_unsigned_call_is_refused_with_215001(sim) -> None:
    """An EU seller's Finances call without ``x-ebay-signature-key`` is refused with errorId 215001
    ("Missing x-ebay-signature-key header"), reported as a typed, one-line error naming the account."""
    sim.set_marketplace(EU, "EBAY_GB")
    with pytest.raises(SignatureRejected) as caught:
        _rest(sim, EU, None).get_json("finances", "/transaction", [("limit", 1)], "getTransactions")
    error = caught.value
    assert error.error_ids == (215001,) and error.status == 400
    assert "\n" not in str(error) and f"account {EU}" in str(error) and "Missing x-ebay-signature-key" in str(error)
    assert sim.calls[(EU, "getTransactions")] == 1  # a signature error is not retried


def test_tampered_signature_and_stale_time_are_refused(sim) -> None:
    """The simulator verifies cryptographically: the simulator's JWE with another private key fails
    (215120 "Signature validation failed"); a ``created`` an hour old fails with 215114."""
    sim.set_marketplace(EU, "EBAY_FR")
    issued = KeyManagementClient(_settings(sim), retry=FAST).create_signing_key()
    other = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SignatureRejected) as tampered:
        _rest(sim, EU, RequestSigner(other, issued.jwe)).get_json("finances", "/transaction", None, "getTransactions")
    assert tampered.value.error_ids == (215120,) and tampered.value.status == 403
    stale = RequestSigner(issued.private_key, issued.jwe, clock=lambda: time.time() - 3600)
    with pytest.raises(SignatureRejected) as old:
        _rest(sim, EU, stale).get_json("finances", "/transaction", None, "getTransactions")
    assert old.value.error_ids == (215114,)
    _rest(sim, EU, issued.signer()).get_json("finances", "/transaction", None, "getTransactions")
    assert sim.signatures.verified[(EU, "getTransactions")] == 1
    assert sim.signatures.refused[(EU, "getTransactions")] == 2


def test_wrong_key_is_refused_and_reported_as_one_line(ebay_env, sim, dagster_instance, engine, tmp_path) -> None:
    """A key the simulator did not issue (eBay's sample JWE with a key of our own) is refused by the
    simulator (215120) and the failure is one line naming the account, in the run row, the sync state
    and the raised error."""
    _register(engine, sim, EU, "EBAY_DE", dagster_instance)
    own = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _import(tmp_path, EU, {"privateKey": own.decode(), "jwe": FOREIGN_JWE})
    result = _sync_finances(ebay_env, dagster_instance, EU)
    assert not result.success
    assert sim.signatures.refused[(EU, "getTransactions")] == sim.calls[(EU, "getTransactions")] == 1
    assert sim.calls[(None, "createSigningKey")] == 0
    with engine.connect() as conn:
        run = conn.execute(sa.text("select * from ebay_worker_run where ebay_account_id = :a"), {"a": EU}).one()
        state = conn.execute(
            sa.text("select last_error from ebay_sync_state where ebay_account_id = :a and api_family = 'finances'"),
            {"a": EU},
        ).scalar()
    for line in (run.error_message, state):
        assert "\n" not in line and f"digital signature of account {EU}" in line and "215120" in line
    raised = [e.step_failure_data.error.message for e in result.get_step_failure_events()]
    assert raised and all(f"digital signature of account {EU}" in m for m in raised)


def test_us_account_does_not_sign(ebay_env, sim, dagster_instance, engine) -> None:
    """The guide asks signatures only of EU/UK-domiciled sellers: a US account syncs Finances with no
    key created and nothing for the simulator to verify; ``--signing`` makes one sign anyway."""
    _register(engine, sim, US, "EBAY_US", dagster_instance)
    assert _sync_finances(ebay_env, dagster_instance, US).success
    assert sim.calls[(US, "getTransactions")] > 0 and sim.calls[(None, "createSigningKey")] == 0
    assert not sim.signatures.verified and not sim.signatures.refused
    with engine.connect() as conn:
        assert load_signing_key(conn, load_cipher(), US) is None
    _register(engine, sim, "seller-ch", "EBAY_CH", signing=True)
    assert build_clients(engine, "seller-ch").rest.signing is not None
    assert sim.calls[(None, "createSigningKey")] == 1


def test_import_stores_the_key_encrypted(ebay_env, sim, dagster_instance, engine, tmp_path) -> None:
    """``accounts signing-key --import`` takes createSigningKey's answer as a JSON file; the private
    key is stored encrypted (no column holds it in clear), the output never shows it, and the next
    sync signs with it (verified by the simulator, no new key created)."""
    _register(engine, sim, EU, "EBAY_IT", dagster_instance)
    created = KeyManagementClient(_settings(sim), retry=FAST).create_signing_key()
    answer = {**sim.signatures.get(created.signing_key_id), "privateKey": created.private_key}
    output = _import(tmp_path, EU, answer)
    assert created.signing_key_id in output and EU in output and created.private_key not in output
    pem_body = "".join(_pem_of(created.private_key).splitlines()[1:-1])  # the PEM's base64 lines
    with engine.connect() as conn:
        row = conn.execute(sa.text("select * from ebay_tokens where ebay_account_id = :a"), {"a": EU}).one()
    dumped = " ".join(
        base64.b64encode(bytes(v)).decode() if isinstance(v, (bytes, memoryview)) else str(v) for v in row
    )
    raw = b"".join(bytes(v) for v in row if isinstance(v, (bytes, memoryview)))
    assert row.signing_key_encrypted is not None and row.signing_key_id == created.signing_key_id
    assert created.private_key not in dumped and pem_body not in dumped
    assert created.private_key.encode() not in raw and b"PRIVATE KEY" not in raw
    assert _sync_finances(ebay_env, dagster_instance, EU).success
    assert sim.signatures.verified[(EU, "getTransactions")] > 0 and not sim.signatures.refused
    assert sim.calls[(None, "createSigningKey")] == 1  # the test's own; the sync made none


def _pem_of(private_key: str) -> str:
    """The PEM text of a private key given as eBay returns it (bare base64 PKCS#8)."""
    der = base64.b64decode(private_key)
    key = serialization.load_der_private_key(der, password=None)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
