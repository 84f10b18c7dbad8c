"""Field parsing, XML conversion, error typing and row-key shapes on hand-made wire objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from lxml import etree

from ebay_pipelines.ebay import buying, finances, fulfillment, inventory, messages, postorder, selling
from ebay_pipelines.ebay.errors import (
    ConfigurationError,
    EbayApiError,
    PayloadError,
    RateLimited,
    ReauthorizationRequired,
    RetriesExhausted,
    ServerError,
    TradingError,
    TransportError,
    is_transient,
)
from ebay_pipelines.ebay.parsing import Record, date_windows, format_timestamp, parse_json, parse_timestamp
from ebay_pipelines.ebay.xmlconv import element_to_dict, parse_xml
from ebay_pipelines.store import tables


def columns(table) -> set[str]:
    return {c.name for c in table.columns} - {"synced_at"}


def test_amounts_are_decimals_from_strings_and_numbers() -> None:
    rec = Record(
        {
            "a": {"value": "12.34", "currency": "USD"},
            "b": {"value": 0.1, "currency": "EUR"},
            "c": {"#text": "9.99", "@currencyID": "GBP"},
        },
        call_name="x",
        account_id="acct",
    )
    assert rec.amount("a") == (Decimal("12.34"), "USD")
    assert rec.amount("b") == (Decimal("0.1"), "EUR")
    assert rec.amount("c") == (Decimal("9.99"), "GBP")
    assert rec.amount("missing") == (None, None)


def test_timestamps_are_aware_utc() -> None:
    rec = Record(
        {"t": "2026-10-01T10:00:00.123Z", "p": {"value": "2026-10-01T10:00:00.000Z"}, "o": "2026-10-01T12:00:00+02:00"},
        call_name="x",
        account_id="acct",
    )
    assert rec.timestamp("t") == datetime(2026, 10, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert rec.timestamp("p") == datetime(2026, 10, 1, 10, tzinfo=UTC)
    assert rec.timestamp("o") == datetime(2026, 10, 1, 10, tzinfo=UTC)
    assert rec.timestamp("o").tzinfo is UTC


@pytest.mark.parametrize(
    ("data", "reader", "path"),
    [
        ({"id": "R1", "qty": "many"}, "integer", "qty"),
        ({"id": "R1", "qty": True}, "integer", "qty"),
        ({"id": "R1", "amt": {"value": "1,00", "currency": "USD"}}, "amount", "amt"),
        ({"id": "R1", "amt": ["1.00"]}, "amount", "amt"),
        ({"id": "R1", "when": 1700000000}, "timestamp", "when"),
        ({"id": "R1", "when": "yesterday"}, "timestamp", "when"),
        ({"id": "R1", "name": {"first": "x"}}, "text", "name"),
        ({"id": "R1", "a": "scalar"}, "text", "a.b"),
    ],
)
def test_wrong_types_raise_payload_error_naming_call_record_account(data, reader, path) -> None:
    rec = Record(data, call_name="getThings", account_id="acct-9", id_field="id")
    with pytest.raises(PayloadError) as info:
        getattr(rec, reader)(path)
    err = info.value
    assert (err.call_name, err.account_id, err.record_id) == ("getThings", "acct-9", "R1")
    assert "getThings" in str(err) and "acct-9" in str(err) and "R1" in str(err)
    assert not is_transient(err)


def test_order_row_with_wrong_type_names_order() -> None:
    order = {"orderId": "O-1", "lineItems": [], "pricingSummary": {"total": {"value": {"oops": 1}, "currency": "USD"}}}
    with pytest.raises(PayloadError) as info:
        fulfillment.order_row("acct-1", order)
    assert "O-1" in str(info.value) and "getOrders" in str(info.value) and "acct-1" in str(info.value)


def test_format_timestamp_and_windows() -> None:
    t = datetime(2026, 10, 1, 0, 0, 0, 987654, tzinfo=UTC)
    assert format_timestamp(t) == "2026-10-01T00:00:00.987Z"
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 10, 1))
    assert parse_timestamp("2026-10-01T00:00:00.987Z") == t.replace(microsecond=987000)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    windows = date_windows(start, start + timedelta(days=200), timedelta(days=90))
    assert len(windows) == 3
    assert windows[0] == (start, start + timedelta(days=90) - timedelta(milliseconds=1))
    assert windows[1][0] == start + timedelta(days=90)
    assert windows[-1][1] == start + timedelta(days=200)
    assert date_windows(start, start, timedelta(days=1)) == [(start, start)]


def test_xml_to_dict_is_faithful() -> None:
    root = parse_xml(
        b'<?xml version="1.0"?><R xmlns="urn:ebay:apis:eBLBaseComponents"><Item><ItemID>1</ItemID>'
        b'<CurrentPrice currencyID="USD">9.99</CurrentPrice><Pic>a</Pic><Pic>b</Pic><Empty/>'
        b"<Text>  Hi &amp; bye\n</Text></Item></R>"
    )
    item = element_to_dict(root[0])
    assert item == {
        "ItemID": "1",
        "CurrentPrice": {"@currencyID": "USD", "#text": "9.99"},
        "Pic": ["a", "b"],
        "Empty": "",
        "Text": "  Hi & bye\n",
    }


def test_xml_parser_refuses_entities_and_network() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<r xmlns="urn:ebay:apis:eBLBaseComponents"><a>&x;</a></r>'
    )
    root = parse_xml(evil)
    assert "root:" not in (element_to_dict(root).get("a") or "")
    with pytest.raises(etree.XMLSyntaxError):
        parse_xml(b"<r><unclosed></r>")


def test_is_transient() -> None:
    assert is_transient(RateLimited("x", retry_after=1))
    assert is_transient(ServerError("x", status=503))
    assert is_transient(TransportError("x"))
    assert is_transient(requests.ConnectionError())
    assert is_transient(RetriesExhausted(ServerError("x", status=500), attempts=3, elapsed=1.0))
    assert is_transient(TradingError("limit", error_codes=["518"]))
    assert not is_transient(ReauthorizationRequired("acct-1", "revoked"))
    assert not is_transient(EbayApiError("bad filter", status=400, error_ids=[30700]))
    assert not is_transient(TradingError("bad", error_codes=["37"], classifications=["RequestError"]))
    assert not is_transient(ConfigurationError("EBAY_CLIENT_ID is not set"))
    assert not is_transient(ValueError())
    assert "eBay account acct-1 must re-authorize: revoked" in str(ReauthorizationRequired("acct-1", "revoked"))


def test_errors_survive_pickling() -> None:
    import pickle

    errors = [
        ReauthorizationRequired("acct-1", "revoked"),
        RetriesExhausted(
            RateLimited("slow down", retry_after=2, call_name="getOrders", account_id="a", status=429),
            attempts=4,
            elapsed=1.5,
        ),
        PayloadError("bad", record_id="R1", call_name="getOrders", account_id="a", transient=True),
        TradingError("limit", error_codes=["518"], call_name="GetMyMessages", account_id="a"),
    ]
    for err in errors:
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and str(copy) == str(err) and is_transient(copy) == is_transient(err)
    assert pickle.loads(pickle.dumps(errors[1])).last_error.retry_after == 2


# ---------------------------------------------------------------------------- minimal wire objects

ORDER = {
    "orderId": "10-00001-00001",
    "creationDate": "2026-10-01T10:00:00.000Z",
    "lastModifiedDate": "2026-10-02T10:00:00.000Z",
    "pricingSummary": {"total": {"value": "20.00", "currency": "USD"}},
    "paymentSummary": {
        "refunds": [
            {"amount": {"value": "5.00", "currency": "USD"}, "refundStatus": "REFUNDED"},
            {"amount": {"value": "7.00", "currency": "USD"}, "refundStatus": "FAILED"},
        ]
    },
    "lineItems": [
        {
            "lineItemId": "1",
            "taxes": [
                {"amount": {"value": "1.10", "currency": "USD"}},
                {"amount": {"value": "0.40", "currency": "USD"}},
            ],
            "refunds": [
                {"amount": {"value": "2.50", "currency": "USD"}},
                {"amount": {"value": "2.50", "currency": "USD"}},
            ],
            "deliveryCost": {"shippingCost": {"value": "3.99", "currency": "USD"}},
            "unknownNewField": {"x": 1},
        },
    ],
    "someFutureField": True,
}
TXN = {
    "transactionId": "T1",
    "transactionType": "REFUND",
    "transactionDate": "2026-10-03T00:00:00.000Z",
    "amount": {"value": "5.00", "currency": "USD"},
    "orderId": "O1",
    "orderLineItems": [
        {
            "lineItemId": "L1",
            "feeBasisAmount": {"value": "20.00", "currency": "USD"},
            "marketplaceFees": [
                {"feeType": "FINAL_VALUE_FEE", "amount": {"value": "2.65", "currency": "USD"}},
                {"feeType": "FINAL_VALUE_FEE_FIXED_PER_ORDER", "amount": {"value": "0.30", "currency": "USD"}},
            ],
        }
    ],
    "references": [{"referenceId": "R1", "referenceType": "RETURN_ID"}],
}


def test_row_shapes_on_minimal_objects() -> None:
    order_row = fulfillment.order_row("a", ORDER)
    assert set(order_row) == columns(tables.ebay_orders)
    assert order_row["refunded_amount_value"] == Decimal("5.00")
    assert order_row["raw"] is ORDER and order_row["source_updated_at"] == datetime(2026, 10, 2, 10, tzinfo=UTC)
    (line,) = fulfillment.line_item_rows("a", ORDER)
    assert set(line) == columns(tables.order_line_items)
    assert line["tax_value"] == Decimal("1.50") and line["refunded_amount_value"] == Decimal("5.00")
    assert line["legacy_transaction_id"] == "1" and line["delivery_cost_value"] == Decimal("3.99")
    assert set(fulfillment.dispute_row("a", {"paymentDisputeId": "D"})) == columns(tables.ebay_disputes)
    assert set(finances.finance_transaction_row("a", TXN)) == columns(tables.ebay_finances_transactions)
    assert set(finances.legacy_transaction_row("a", TXN)) == columns(tables.ebay_transactions)
    fees = finances.fee_rows("a", TXN)
    assert [(f["line_item_id"], f["fee_seq"]) for f in fees] == [("L1", 0), ("L1", 1)]
    assert all(set(f) == columns(tables.ebay_finances_fees) for f in fees)
    refund = finances.refund_row_from_transaction("a", TXN)
    assert set(refund) == columns(tables.ebay_refunds)
    assert refund["refund_id"] == "FIN-T1" and refund["return_id"] == "R1" and refund["refund_source"] == "finances"
    with pytest.raises(ValueError):
        finances.refund_row_from_transaction("a", {**TXN, "transactionType": "SALE"})
    charge = {
        "transactionId": "C1",
        "transactionType": "NON_SALE_CHARGE",
        "feeType": "AD_FEE",
        "amount": {"value": "1.25", "currency": "USD"},
    }
    (charge_fee,) = finances.fee_rows("a", charge)
    assert charge_fee["line_item_id"] == "" and charge_fee["amount_value"] == Decimal("1.25")
    assert set(inventory.inventory_row("a", {"sku": "S"})) == columns(tables.ebay_inventory)
    assert set(inventory.offer_row("a", {"offerId": "1", "sku": "S"})) == columns(tables.ebay_offers)
    assert set(postorder.inquiry_row("a", {"inquiryId": "1"})) == columns(tables.ebay_inquiries)
    assert set(postorder.case_row("a", {"caseId": "1"})) == columns(tables.ebay_cases)
    ret = postorder.return_refund_row("a", {"returnId": "9"})
    assert set(ret) == columns(tables.ebay_refunds) and ret["refund_id"] == "RET-9"
    assert set(messages.message_row("a", {"MessageID": "1"})) == columns(tables.ebay_messages)
    assert set(selling.active_listing_row("a", {"ItemID": "1"})) == columns(tables.ebay_active_inventory)
    assert set(buying.purchase_row("a", {"TransactionID": "1", "Item": {"ItemID": "5"}})) == columns(tables.ebay_buyer)


def test_parse_json_is_strict_and_keeps_long_integers_exact() -> None:
    assert parse_json(b'{"total": {"value": "12.50"}, "n": 3, "f": 1.25}') == {
        "total": {"value": "12.50"},
        "n": 3,
        "f": 1.25,
    }
    assert parse_json(b'{"id": 123456789012345678901234567890}') == {"id": 123456789012345678901234567890}
    # 19 digits may pass 64 bits: 2**63 and 2**64 stay exact, beside a shorter integer and digits in text.
    assert parse_json(
        b'[12, 9223372036854775808, "1234567890123456789012", 18446744073709551616, 123456789012345678]'
    ) == [
        12,
        2**63,
        "1234567890123456789012",
        2**64,
        123456789012345678,
    ]
    assert parse_json('{"text": "lone \\ud800 escape"}') == {"text": "lone \ud800 escape"}
    for bad in (b'{"a": NaN}', b'{"a": Infinity}', b"[" * 5000 + b"]" * 5000, b'{"a": 1,}', b""):
        with pytest.raises(ValueError):
            parse_json(bad)
