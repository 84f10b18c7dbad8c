"""Marketplace Account Deletion end to end: eBay's signed notification -> endpoint -> sensor -> purge.

Sources: eBay's guide ``develop/guides-v2/marketplace-user-account-deletion/marketplace-user-account-deletion``
and README Wire facts "Account deletion" (challenge formula, X-EBAY-SIGNATURE, the payload's username,
userId and eiasToken); the Notification API ``getPublicKey`` page (application token, ``{key, algorithm,
digest}``); eBay's ``event-notification-java-sdk`` / ``event-notification-nodejs-sdk`` (message and header
shapes, 412 for a signature that does not verify). Data comes from the simulator over HTTP through the
real sync path into PostgreSQL; the purge runs as the sensor's run of the purge job.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.dialects.postgresql import JSONB
from tests_support import fast_definitions, register_account, run_family_range

from ebay_pipelines.defs.deletion import account_deletion_sensor
from ebay_pipelines.defs.resources import PostgresResource
from ebay_pipelines.deletion_endpoint import create_app
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.notifications import NotificationVerifier, PublicKeyClient
from ebay_pipelines.simulator.notifications import deliver
from ebay_pipelines.store.accounts import add_account
from ebay_pipelines.store.purge import PLACEHOLDER
from ebay_pipelines.store.secrets import load_cipher
from ebay_pipelines.sync import problems

ACCOUNT = "acct-1"
DAY = date(2026, 10, 31)
TOKEN = "verification_token-for-the-deletion-endpoint-0123"
ENDPOINT_URL = "https://ebay-hooks.example.com/ebay/account-deletion"
#: Families whose rows name buyers: orders, finances, disputes, Post-Order and messages.
BUYER_FAMILIES = ("orders", "transactions", "finances", "refunds", "disputes", "inquiries", "cases", "messages")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def endpoint(ebay_env: str, sim, engine: sa.Engine) -> Iterator[str]:
    """The deletion endpoint served by uvicorn on a local port, checking keys against the simulator."""
    settings = EbaySettings(sim.client_id, sim.client_secret, base_url=sim.base_url)
    app = create_app(lambda: engine, NotificationVerifier(PublicKeyClient(settings)), TOKEN, ENDPOINT_URL)
    yield from serve(app)


def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free local port while the caller runs; yield its endpoint URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{server.config.port}/ebay/account-deletion"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def synced(ebay_env: str, sim, dagster_instance, engine: sa.Engine):
    """Thirty days of every buyer-naming family synced for the account, and its problem grid built."""
    register_account(engine, sim, ACCOUNT, dagster_instance)
    defs = fast_definitions(ebay_env)
    first = DAY - timedelta(days=29)
    for family in BUYER_FAMILIES:
        result = run_family_range(defs, dagster_instance, family, f"{ACCOUNT}|{first}", f"{ACCOUNT}|{DAY}")
        assert result.success, family
    problems.rebuild(engine, ACCOUNT)
    return defs, dagster_instance


def purge_by_sensor(defs: dg.Definitions, instance: dg.DagsterInstance, database_url: str) -> list[str]:
    """Evaluate the deletion sensor and run each purge it requests; return the notification ids run."""
    context = dg.build_sensor_context(
        instance=instance, resources={"postgres": PostgresResource(database_url=database_url)}
    )
    result = account_deletion_sensor(context)
    if isinstance(result, dg.SkipReason):
        return []
    job = defs.resolve_job_def("ebay_account_deletion_job")
    for request in result:
        assert job.execute_in_process(run_config=request.run_config, instance=instance).success
    return [r.tags["ebay/notification_id"] for r in result]


def scan(engine: sa.Engine, needles: list[str]) -> dict[str, int]:
    """Rows of EVERY table whose text or jsonb columns hold one of ``needles``: {"table.column": rows}."""
    found: dict[str, int] = {}
    inspector = sa.inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], (sa.Text, sa.String, JSONB, sa.JSON)):
                    continue
                text = f'"{column["name"]}"::text'
                where = " OR ".join(f"strpos({text}, :n{i}) > 0" for i in range(len(needles)))
                params = {f"n{i}": n for i, n in enumerate(needles)}
                count = conn.execute(sa.text(f'SELECT count(*) FROM "{table}" WHERE {where}'), params).scalar()
                if count:
                    found[f"{table}.{column['name']}"] = count
    return found


def rows_with(engine: sa.Engine, needle: str) -> set[str]:
    """The raw JSON texts, of every data row, that hold ``needle`` (to tell whose a name is)."""
    out: set[str] = set()
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            if "raw" in {c["name"] for c in sa.inspect(engine).get_columns(table)}:
                out |= set(
                    conn.execute(
                        sa.text(f"SELECT raw::text FROM {table} WHERE strpos(raw::text, :n) > 0"), {"n": needle}
                    ).scalars()
                )
    return out


def fingerprint(engine: sa.Engine) -> dict[str, str]:
    """An md5 of every table's rows: equal fingerprints mean nothing changed."""
    with engine.connect() as conn:
        return {
            t: conn.execute(
                sa.text(f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t}\" x")
            ).scalar()
            for t in sa.inspect(engine).get_table_names()
        }


def order_facts(engine: sa.Engine, where: str, params: dict[str, Any]) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT order_id, creation_date, total_value, total_currency, order_payment_status, "
                f"order_fulfillment_status, line_item_count FROM ebay_orders WHERE {where}"
            ),
            params,
        ).all()
    return {r.order_id: tuple(r[1:]) for r in rows}


def pick_buyer(engine: sa.Engine) -> dict[str, str]:
    """A buyer with an order and a Post-Order problem whose name and street are nobody else's."""
    with engine.connect() as conn:
        candidates = conn.execute(
            sa.text(
                "SELECT DISTINCT o.buyer_username, o.raw->'buyer'->'buyerRegistrationAddress' AS contact "
                "FROM ebay_orders o JOIN ebay_inquiries i ON i.buyer = o.buyer_username "
                "UNION SELECT DISTINCT o.buyer_username, o.raw->'buyer'->'buyerRegistrationAddress' "
                "FROM ebay_orders o JOIN ebay_cases c ON c.buyer = o.buyer_username ORDER BY 1"
            )
        ).all()
    for username, contact in candidates:
        name, street = contact["fullName"], contact["contactAddress"]["addressLine1"]
        if all(username in raw for needle in (name, street) for raw in rows_with(engine, needle)):
            return {
                "username": username,
                "name": name,
                "street": street,
                "email": contact["email"],
                "phone": contact["primaryPhone"]["phoneNumber"],
            }
    raise AssertionError("no buyer with an inquiry or case has a name of their own in 30 days of data")


def pick_message_sender(engine: sa.Engine) -> dict[str, str]:
    """A buyer who wrote to the seller, whose name (in the message text) is nobody else's."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT sender, body FROM ebay_messages WHERE NOT coalesce(is_sent, false) ORDER BY message_id")
        ).all()
    for sender, body in rows:
        name = body.removeprefix("Hi, this is ").split(".")[0]
        if all(sender in raw for raw in rows_with(engine, name)):
            return {"username": sender, "name": name}
    raise AssertionError("no message sender has a name of their own")


def test_the_challenge_answer_is_ebays_formula(endpoint: str) -> None:
    """eBay's guide (marketplace-user-account-deletion): challengeResponse = hex(sha256(code + token + URL)), JSON."""
    import requests

    code = "a8628072-3d33-45ee-9004-bee86830a22d"
    answer = requests.get(endpoint, params={"challenge_code": code}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    expected = hashlib.sha256((code + TOKEN + ENDPOINT_URL).encode()).hexdigest()
    assert answer.json() == {"challengeResponse": expected}
    assert requests.get(endpoint, timeout=10).status_code == 400


def test_a_deleted_buyer_is_purged_from_every_table(
    endpoint: str, synced, sim, engine: sa.Engine, database_url: str
) -> None:
    """eBay's guide: delete the user's personal data; a buyer of orders, Post-Order problems and messages."""
    defs, instance = synced
    buyer = pick_buyer(engine)
    writer = pick_message_sender(engine)
    facts_before = order_facts(engine, "buyer_username = :u", {"u": buyer["username"]})
    assert facts_before, "the buyer has orders"
    others = "SELECT count(DISTINCT buyer_username) FROM ebay_orders WHERE buyer_username <> ALL(:gone)"
    gone = [buyer["username"], writer["username"], PLACEHOLDER]
    with engine.connect() as conn:
        other_buyers = conn.execute(sa.text(others), {"gone": gone}).scalar()

    notices = []
    for person in (buyer, writer):
        body, headers = sim.deletion_notification(username=person["username"])
        data = json.loads(body)["notification"]["data"]
        person["user_id"], person["eias"] = data["userId"], data["eiasToken"]
        notices.append(json.loads(body)["notification"]["notificationId"])
        assert deliver(endpoint, body, headers).status_code == 204

    needles = [v for person in (buyer, writer) for k, v in person.items() if k not in ("user_id", "eias")]
    before = scan(engine, needles)
    assert {"ebay_orders.raw", "ebay_orders.buyer_username", "ebay_inquiries.raw", "ebay_messages.body"} <= set(before)
    assert "ebay_account_deletion_notifications.username" in before

    assert sorted(purge_by_sensor(defs, instance, database_url)) == sorted(notices)

    identifiers = [person[k] for person in (buyer, writer) for k in ("user_id", "eias")]
    assert scan(engine, needles + identifiers) == {}
    assert order_facts(engine, "order_id = ANY(:ids)", {"ids": list(facts_before)}) == facts_before
    with engine.connect() as conn:
        assert set(
            conn.execute(
                sa.text("SELECT buyer_username FROM ebay_orders WHERE order_id = ANY(:ids)"),
                {"ids": list(facts_before)},
            ).scalars()
        ) == {PLACEHOLDER}
        # Everybody else keeps their name on their orders.
        assert conn.execute(sa.text(others), {"gone": gone}).scalar() == other_buyers > 0


def test_a_deleted_seller_is_disabled_its_tokens_gone_and_its_rows_purged(
    endpoint: str, ebay_env: str, sim, dagster_instance, engine: sa.Engine, database_url: str
) -> None:
    """eBay's guide: a deleted user may be one of our sellers: the account stops, its tokens go, its id leaves every row."""
    seller = sim.services.world.gen.seller_id(ACCOUNT)
    user_id = sim.user_id(ACCOUNT)
    register_account(engine, sim, ACCOUNT, dagster_instance)
    add_account(engine, load_cipher(), ACCOUNT, sim.refresh_token_for(ACCOUNT), ebay_user_id=seller)
    defs = fast_definitions(ebay_env)
    first = DAY - timedelta(days=9)
    for family in ("orders", "messages", "finances"):
        assert run_family_range(defs, dagster_instance, family, f"{ACCOUNT}|{first}", f"{ACCOUNT}|{DAY}").success
    facts = order_facts(engine, "true", {})
    assert facts
    assert {"ebay_orders.seller_id", "ebay_orders.raw", "ebay_messages.sender", "ebay_accounts.ebay_user_id"} <= set(
        scan(engine, [seller])
    )

    body, headers = sim.deletion_notification(username=seller, user_id=user_id)
    assert deliver(endpoint, body, headers).status_code == 204
    assert len(purge_by_sensor(defs, dagster_instance, database_url)) == 1

    assert scan(engine, [seller, user_id]) == {}
    assert order_facts(engine, "true", {}) == facts
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT enabled FROM ebay_accounts WHERE ebay_account_id = :a"), {"a": ACCOUNT}
            ).scalar()
            is False
        )
        assert conn.execute(sa.text("SELECT count(*) FROM ebay_tokens")).scalar() == 0
        assert set(conn.execute(sa.text("SELECT seller_id FROM ebay_orders")).scalars()) == {PLACEHOLDER}


def test_forged_malformed_and_unknown_key_notifications_are_refused_and_change_nothing(
    endpoint: str, synced, sim, engine: sa.Engine, database_url: str
) -> None:
    """eBay's SDKs answer 412 to a signature that does not verify; nothing of such a request is stored."""
    import requests

    defs, instance = synced
    buyer = pick_buyer(engine)
    before = fingerprint(engine)

    body, headers = sim.deletion_notification(username=buyer["username"], forged=True)
    assert deliver(endpoint, body, headers).status_code == 412
    body, headers = sim.deletion_notification(username="someone_else")
    tampered = body.replace(b"someone_else", buyer["username"].encode())
    assert deliver(endpoint, tampered, headers).status_code == 412
    unknown = {
        **headers,
        "X-EBAY-SIGNATURE": sim.notifications.header(body, kid="9936261a-0000-4000-8000-000000000000"),
    }
    assert deliver(endpoint, body, unknown).status_code == 412
    assert deliver(endpoint, body, {**headers, "X-EBAY-SIGNATURE": "not base64 json"}).status_code == 400
    assert deliver(endpoint, body, {"Content-Type": "application/json"}).status_code == 400
    signed_garbage = b'{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION"}}'
    garbage = {**headers, "X-EBAY-SIGNATURE": sim.notifications.header(signed_garbage)}
    assert requests.post(endpoint, data=signed_garbage, headers=garbage, timeout=10).status_code == 400

    assert fingerprint(engine) == before
    assert purge_by_sensor(defs, instance, database_url) == []
    assert fingerprint(engine) == before


def test_a_redelivered_notification_changes_nothing_more_and_the_audit_holds_counts_and_a_hash(
    endpoint: str, synced, sim, engine: sa.Engine, database_url: str
) -> None:
    """eBay re-sends a notification it saw no 2xx for (publishAttemptCount): acknowledged, nothing more changes."""
    defs, instance = synced
    buyer = pick_buyer(engine)
    body, headers = sim.deletion_notification(username=buyer["username"], layout="indented")
    notification = json.loads(body)["notification"]
    assert deliver(endpoint, body, headers).status_code == 204
    assert len(purge_by_sensor(defs, instance, database_url)) == 1
    after_purge = fingerprint(engine)

    assert deliver(endpoint, body, headers).status_code == 204
    assert purge_by_sensor(defs, instance, database_url) == []
    assert fingerprint(engine) == after_purge

    with engine.connect() as conn:
        audit = conn.execute(sa.text("SELECT * FROM ebay_account_deletion_audit")).mappings().all()
        stored = conn.execute(sa.text("SELECT * FROM ebay_account_deletion_notifications")).mappings().one()
    assert len(audit) == 1
    row = audit[0]
    assert row["notification_id"] == notification["notificationId"]
    assert row["ebay_user_id_sha256"] == hashlib.sha256(notification["data"]["userId"].encode()).hexdigest()
    assert (
        row["rows_changed"]["ebay_orders"] >= 1
        and row["rows_changed"]["ebay_inquiries"] + row["rows_changed"].get("ebay_cases", 0) >= 1
    )
    assert all(isinstance(n, int) and n > 0 for n in row["rows_changed"].values())
    assert set(row) == {"notification_id", "ebay_user_id_sha256", "rows_changed", "purged_at"}
    assert stored["status"] == "processed" and stored["processed_at"] is not None
    assert stored["username"] is None and stored["ebay_user_id"] is None and stored["eias_token"] is None


def test_the_purge_covers_every_data_table_and_the_problem_grid() -> None:
    """eBay's guide: personal data leaves every table; the list comes from the family table and the schema."""
    from ebay_pipelines.store.tables import metadata
    from ebay_pipelines.sync.deletion import NOT_SCRUBBED, purged_tables
    from ebay_pipelines.sync.families import DATA_TABLES

    names = [t.name for t in purged_tables()]
    assert names[: len(DATA_TABLES)] == list(DATA_TABLES)
    assert {"problem_orders", "problem_order_items", "ebay_api_worker_log"} <= set(names)
    assert set(names) | NOT_SCRUBBED == set(metadata.tables)


@pytest.mark.parametrize(
    ("token", "url", "message"),
    [
        ("short", ENDPOINT_URL, "32 to 80 characters"),
        (TOKEN, "http://ebay-hooks.example.com/x", "https://"),
        (TOKEN, "https://192.168.1.5/x", "public address"),
        (None, ENDPOINT_URL, "EBAY_NOTIFICATION_VERIFICATION_TOKEN"),
    ],
)
def test_notifications_serve_stops_with_one_line_on_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, token: str | None, url: str, message: str
) -> None:
    """eBay's guide: the verification token is 32-80 of A-Z a-z 0-9 _ -, the endpoint a public HTTPS URL."""
    from click.testing import CliRunner

    from ebay_pipelines.cli import main

    if token is None:
        monkeypatch.delenv("EBAY_NOTIFICATION_VERIFICATION_TOKEN", raising=False)
    else:
        monkeypatch.setenv("EBAY_NOTIFICATION_VERIFICATION_TOKEN", token)
    monkeypatch.setenv("EBAY_NOTIFICATION_ENDPOINT_URL", url)
    result = CliRunner().invoke(main, ["notifications", "serve", "--port", "0"])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_the_asgi_app_object_reads_the_settings_and_stores_a_signed_notification(
    ebay_env: str, sim, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """eBay's guide: any ASGI server can serve ``ebay_pipelines.deletion_endpoint:app`` from the settings."""
    from ebay_pipelines.deletion_endpoint import _SettingsApp

    monkeypatch.setenv("EBAY_NOTIFICATION_VERIFICATION_TOKEN", TOKEN)
    monkeypatch.setenv("EBAY_NOTIFICATION_ENDPOINT_URL", ENDPOINT_URL)
    import requests

    for url in serve(_SettingsApp()):
        answer = requests.get(url, params={"challenge_code": "xyz"}, timeout=10).json()
        assert answer == {"challengeResponse": hashlib.sha256(f"xyz{TOKEN}{ENDPOINT_URL}".encode()).hexdigest()}
        body, headers = sim.deletion_notification(username="some_buyer")
        assert deliver(url, body, headers).status_code == 204
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ebay_account_deletion_notifications")).scalar() == 1
