"""Hostile and malformed eBay answers: parsed rows or a typed error, never an unhandled exception.

Each family's real fetch (the production code: HTTP client, pagination, row functions) runs against
the simulator, whose "body" fault replaces one answer with a hypothesis-generated variant of a real
one: truncated, random bytes, wrongly typed or missing fields, unknown fields, NaN, oversized and
deeply nested values, duplicated XML elements. The outcome must be rows whose values PostgreSQL can
store (or are refused with UnstorableValue naming table and column), or an EbayError naming the call
and the account. Hostile strings written through the partition sync round-trip into PostgreSQL
unchanged, except NUL characters, which are refused with a clear error.

``EBAY_PIPELINES_HOSTILE_EXAMPLES`` sets the examples per eBay call (default 25).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from tests_support import register_account

from ebay_pipelines.ebay.auth import AccessTokenProvider, InMemoryTokenStore, OAuthClient
from ebay_pipelines.ebay.config import EbaySettings
from ebay_pipelines.ebay.errors import EbayError
from ebay_pipelines.ebay.rest import EbayRestClient
from ebay_pipelines.ebay.retry import RetryPolicy
from ebay_pipelines.ebay.trading import TradingClient
from ebay_pipelines.simulator import EbaySimulator, FaultRule, SimulatorConfig
from ebay_pipelines.simulator.server import match_route
from ebay_pipelines.store.tables import metadata, natural_key
from ebay_pipelines.store.values import UnstorableValue, check_rows
from ebay_pipelines.sync import partition_sync
from ebay_pipelines.sync.families import FAMILIES, FAMILIES_BY_NAME, FetchContext
from ebay_pipelines.sync.partition_sync import EbayClients
from ebay_pipelines.sync.windows import Window

ACCOUNT = "hostile-1"
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
EXAMPLES = int(os.environ.get("EBAY_PIPELINES_HOSTILE_EXAMPLES", "25"))
FAST = RetryPolicy(max_attempts=2, initial_delay=0.001, jitter=0.001, max_delay=0.01, max_total_seconds=5, timeout=5)

# (family, eBay call whose answer is replaced): every call of every family
CALLS = [(spec.name, call) for spec in FAMILIES for call in spec.ebay_calls]

HOSTILE_TEXT = [
    "'; DROP TABLE ebay_orders; --",
    "Robert'); DELETE FROM ebay_tokens;--",
    "\"double\" 'single' `back` \\slash",
    "emoji 🎉👩‍👩‍👧 ok",
    "x" * 10_000,
    "nul\x00byte",
    "\u202eright-to-left",
    "line\nbreak\ttab",
    "",
    "   ",
    "lone \ud800 surrogate",
    "<Tag>&amp;</Tag>",
    "%s %(x)s {0} $1",
    "1e999999",
    "NaN",
    "-0",
    "y" * 1_000_000,
]


class RecordingSession(requests.Session):
    """A real HTTP session that keeps the first answer body of each eBay call (the seeds of variants)."""

    def __init__(self) -> None:
        super().__init__()
        self.first: dict[str, bytes] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        name = request.headers.get("X-EBAY-API-CALL-NAME")
        if not name:
            found = match_route(request.method or "GET", urlsplit(request.url or "").path)
            name = found[0].name if found else "unknown"
        self.first.setdefault(name, response.content)
        return response


@pytest.fixture(scope="module")
def hsim() -> Iterator[EbaySimulator]:
    """A small simulated eBay (few SKUs and listings) so each example costs a handful of calls."""
    simulator = EbaySimulator(
        SimulatorConfig(
            seed=13, now=NOW, orders_per_day=6, inventory_skus=3, active_listings=4, purchases=4, history_days=40
        )
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def clients(hsim: EbaySimulator) -> Iterator[EbayClients]:
    """Clients of ACCOUNT against the module's simulator, recording first answers."""
    settings_ = EbaySettings(client_id=hsim.client_id, client_secret=hsim.client_secret, base_url=hsim.base_url)
    session = RecordingSession()
    oauth = OAuthClient(settings_, retry=FAST)
    tokens = AccessTokenProvider(ACCOUNT, oauth, InMemoryTokenStore({ACCOUNT: hsim.refresh_token_for(ACCOUNT)}))
    rest = EbayRestClient(ACCOUNT, settings_, tokens, retry=FAST, session=session)
    trading = TradingClient(ACCOUNT, settings_, tokens, retry=FAST, session=session)
    yield EbayClients(ACCOUNT, rest, trading, oauth)
    session.close()


def fetch(clients: EbayClients, family: str) -> list:
    """Run a family's production fetch over the last days (2 for messages, 30 otherwise)."""
    spec = FAMILIES_BY_NAME[family]
    days = 2 if family == "messages" else 30
    window = Window(NOW - timedelta(days=days), NOW) if spec.windowed else None
    return list(spec.fetch(FetchContext(ACCOUNT, window, clients.rest, clients.trading, NOW)))


@pytest.fixture(scope="module")
def seeds(hsim: EbaySimulator, clients: EbayClients) -> dict[str, bytes]:
    """The first real answer of every call the families make."""
    for family in {f for f, _ in CALLS}:
        assert fetch(clients, family), f"the simulator gave {family} no data to start from"
    recorded = clients.rest.session.first
    missing = {c for _, c in CALLS} - set(recorded)
    assert not missing, f"no real answer recorded for {missing}"
    return dict(recorded)


# ------------------------------------------------------------------------------------------------
# Strategies: variants of a real answer
# ------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(HOSTILE_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += _paths(child, prefix + (i,))
    return found


def _parent(doc: Any, path: tuple) -> Any:
    node = doc
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


@st.composite
def json_variant(draw: st.DrawFn, seed: bytes) -> bytes:
    """A real JSON answer with 1-3 fields replaced by hostile values, deleted, or joined by unknown ones."""
    doc = json.loads(seed)
    paths = [p for p in _paths(doc) if p]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        if (
            not isinstance(parent, (dict, list))
            or (isinstance(parent, list) and path[-1] >= len(parent))
            or (isinstance(parent, dict) and path[-1] not in parent)
        ):
            continue
        action = draw(st.sampled_from(["replace", "replace", "delete", "extra", "nest"]))
        if action == "replace":
            parent[path[-1]] = draw(json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif action == "extra" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        elif action == "nest":
            value: Any = draw(json_values)
            for _ in range(draw(st.sampled_from([10, 200, 5000]))):
                value = [value]
            parent[path[-1]] = value
    try:
        text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    except RecursionError:
        text = "[" * 5000
    return text.encode("utf-8", "surrogatepass")


def _xml_safe(text: str) -> str:
    return "".join(
        c for c in text if c in "\t\n\r" or 0x20 <= ord(c) <= 0xD7FF or 0xE000 <= ord(c) <= 0xFFFD or ord(c) >= 0x10000
    )


@st.composite
def xml_variant(draw: st.DrawFn, seed: bytes) -> bytes:
    """A real Trading answer with elements given hostile text, deleted, duplicated, or joined by unknown ones."""
    root = etree.fromstring(seed)
    for _ in range(draw(st.integers(1, 3))):
        elements = list(root.iter())
        element = elements[draw(st.integers(0, len(elements) - 1))]
        action = draw(st.sampled_from(["text", "text", "delete", "duplicate", "extra"]))
        parent = element.getparent()
        if action == "text":
            element.text = _xml_safe(draw(st.text(max_size=30) | st.sampled_from(HOSTILE_TEXT)))
        elif action == "delete" and parent is not None:
            parent.remove(element)
        elif action == "duplicate" and parent is not None:
            parent.append(copy.deepcopy(element))
        elif action == "extra":
            child = etree.SubElement(element, "{urn:ebay:apis:eBLBaseComponents}UnknownField")
            child.text = _xml_safe(draw(st.text(max_size=20)))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def variants(seed: bytes, xml: bool) -> st.SearchStrategy[bytes]:
    """Truncations, random bytes and mutated documents of one real answer."""
    truncated = st.integers(0, max(0, len(seed) - 1)).map(lambda n: seed[:n])
    mutated = xml_variant(seed) if xml else json_variant(seed)
    return st.one_of(truncated, st.binary(max_size=300), mutated, mutated)


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------


def _assert_rows_are_sound(pages: list) -> None:
    for page in pages:
        for table_name, rows in page.rows.items():
            table = metadata.tables[table_name]
            for row in rows:
                assert set(row) <= set(table.c.keys()), set(row) - set(table.c.keys())
                for column in natural_key(table):
                    assert row[column] is not None, f"{table_name}.{column} is missing"
            try:
                check_rows(table_name, rows)
            except UnstorableValue as refused:
                assert refused.table == table_name and refused.column in table.c


@pytest.mark.parametrize(("family", "call"), CALLS)
def test_hostile_answer_gives_rows_or_a_typed_error(
    family: str, call: str, hsim: EbaySimulator, clients: EbayClients, seeds: dict[str, bytes]
) -> None:
    outcomes: dict[str, int] = {"rows": 0, "error": 0}

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(body=variants(seeds[call], xml=call[0].isupper()))
    def check(body: bytes) -> None:
        hsim.faults.clear()
        hsim.faults.add(FaultRule(kind="body", endpoint=call, account=ACCOUNT, times=1, body=body))
        try:
            pages = fetch(clients, family)
        except EbayError as exc:
            outcomes["error"] += 1
            assert exc.call_name and exc.account_id == ACCOUNT, repr(exc)
            assert f"account={ACCOUNT}" in str(exc) and exc.call_name in str(exc)
            return
        outcomes["rows"] += 1
        _assert_rows_are_sound(pages)

    try:
        check()
    finally:
        hsim.faults.clear()
    assert outcomes["error"] > 0, "no hostile answer was refused"


# ------------------------------------------------------------------------------------------------
# Round trips into PostgreSQL
# ------------------------------------------------------------------------------------------------

DAY = date(2026, 10, 30)


def _first_order(seeds: dict[str, bytes]) -> dict:
    return json.loads(seeds["getOrders"])["orders"][0]


def _sync_orders(engine: sa.Engine, hsim: EbaySimulator, clients: EbayClients, orders: list[dict]) -> None:
    body = json.dumps({"orders": orders, "total": len(orders), "limit": 200, "offset": 0}, ensure_ascii=False)
    hsim.faults.clear()
    hsim.faults.add(
        FaultRule(
            kind="body", endpoint="getOrders", account=ACCOUNT, times=1, body=body.encode("utf-8", "surrogatepass")
        )
    )
    began = partition_sync.begin(
        engine,
        FAMILIES_BY_NAME["orders"],
        ACCOUNT,
        DAY,
        partition_key=f"{ACCOUNT}|{DAY}",
        clients_factory=lambda: clients,
    )
    assert isinstance(began, partition_sync.PartitionSync)
    began.write(engine)


def _stored_order(engine: sa.Engine, order_id: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(sa.text("select * from ebay_orders where order_id = :o"), {"o": order_id}).one()


@pytest.fixture
def registered(engine: sa.Engine, hsim: EbaySimulator, monkeypatch: pytest.MonkeyPatch, tmp_path) -> sa.Engine:
    monkeypatch.setenv("EBAY_PIPELINES_SECRET_KEY", "test-secret-key-for-ebay-pipelines")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    register_account(engine, hsim, ACCOUNT)
    return engine


def test_hostile_strings_round_trip_or_are_refused_clearly(
    registered: sa.Engine, hsim: EbaySimulator, clients: EbayClients, seeds: dict[str, bytes]
) -> None:
    engine = registered
    seed = _first_order(seeds)

    @settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=st.sampled_from([t for t in HOSTILE_TEXT if "\ud800" not in t]) | st.text(max_size=300))
    def check(value: str) -> None:
        order = copy.deepcopy(seed)
        order["buyer"] = {**(order.get("buyer") or {}), "username": value}
        order["salesRecordReference"] = value
        order["buyerCheckoutNotes"] = value
        if "\x00" in value:
            with pytest.raises(UnstorableValue) as refused:
                _sync_orders(engine, hsim, clients, [order])
            assert refused.value.table == "ebay_orders" and "NUL" in str(refused.value)
            assert refused.value.column in {"buyer_username", "sales_record_reference", "raw"}
            with engine.connect() as conn:
                reason = conn.execute(
                    sa.text(
                        "select error_message from ebay_worker_run where status = 'error' "
                        "order by started_at desc limit 1"
                    )
                ).scalar()
            assert reason.startswith("UnstorableValue: cannot store ebay_orders.") and order["orderId"] in reason
            return
        _sync_orders(engine, hsim, clients, [order])
        row = _stored_order(engine, order["orderId"])
        assert row.buyer_username == value and row.sales_record_reference == value
        assert row.raw["buyerCheckoutNotes"] == value and row.raw["buyer"]["username"] == value

    try:
        check()
    finally:
        hsim.faults.clear()


def _normalized(value: Any) -> Any:
    """JSON as PostgreSQL jsonb gives it back: numbers compared by value, not by their Python type."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items()}
    return [_normalized(v) for v in value]


OPTIONAL_ORDER_FIELDS = {
    "buyer": ["buyer_username"],
    "cancelStatus": ["cancel_state"],
    "salesRecordReference": ["sales_record_reference"],
    "sellerId": ["seller_id"],
    "orderPaymentStatus": ["order_payment_status"],
    "orderFulfillmentStatus": ["order_fulfillment_status"],
    "totalFeeBasisAmount": ["total_fee_basis_amount_value"],
    "totalMarketplaceFee": ["total_marketplace_fee_value"],
    "fulfillmentStartInstructions": ["ship_to_country"],
    "pricingSummary": ["price_subtotal_value", "total_value", "tax_value", "delivery_cost_value"],
}
storable_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30).filter(lambda s: "\x00" not in s),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8).filter(lambda s: "\x00" not in s), inner, max_size=3)
    ),
    max_leaves=8,
)


def test_unknown_fields_are_kept_and_missing_optional_fields_become_null(
    registered: sa.Engine, hsim: EbaySimulator, clients: EbayClients, seeds: dict[str, bytes]
) -> None:
    engine = registered
    seed = _first_order(seeds)

    @settings(
        max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(
        extra=st.dictionaries(
            st.text(min_size=1, max_size=12).filter(lambda k: k not in seed and "\x00" not in k),
            storable_json,
            min_size=1,
            max_size=3,
        ),
        dropped=st.sets(st.sampled_from(sorted(OPTIONAL_ORDER_FIELDS)), min_size=1),
    )
    def check(extra: dict, dropped: set[str]) -> None:
        order = {k: v for k, v in copy.deepcopy(seed).items() if k not in dropped}
        order.update(extra)
        _sync_orders(engine, hsim, clients, [order])
        row = _stored_order(engine, order["orderId"])
        for key, value in extra.items():
            assert _normalized(row.raw[key]) == _normalized(value)
        for field in dropped:
            assert field not in row.raw
            for column in OPTIONAL_ORDER_FIELDS[field]:
                assert getattr(row, column) is None, (field, column)

    try:
        check()
    finally:
        hsim.faults.clear()
