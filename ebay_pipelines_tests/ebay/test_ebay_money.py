"""Order totals under both of eBay's readings of collect-and-remit tax (fieldGroups or not)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ebay_pipelines.ebay import fulfillment, paging

from .conftest import ACCOUNT, NOW, Wired


@pytest.mark.parametrize("tax_breakdown", [False, True])
def test_order_rows_say_whether_totals_include_ebay_collected_tax(wired: Wired, tax_breakdown: bool) -> None:
    """Fulfillment PricingSummary.total and LineItem.total hold 'Collect and Remit' tax only with
    ``fieldGroups=TAX_BREAKDOWN``, when ``taxes[]`` repeats the ``ebayCollectAndRemitTaxes[]`` type; without
    it ``taxes[]`` is empty (README "Wire facts": Collect-and-remit taxes). The rows hold the same tax and
    say which reading the total follows."""
    params = [("fieldGroups", "TAX_BREAKDOWN")] if tax_breakdown else []
    pages = paging.pages(fulfillment.ORDERS, rest=wired.rest, since=NOW - timedelta(days=20), until=NOW, params=params)
    orders = [o for page in pages for o in page]
    taxed = [o for o in orders if any(li.get("ebayCollectAndRemitTaxes") for li in o["lineItems"])]
    assert taxed
    for order in taxed:
        row, lines = fulfillment.order_and_line_item_rows(ACCOUNT, order)
        assert row["total_includes_ebay_collected_tax"] is tax_breakdown
        assert row["ebay_collected_tax_value"] == sum(line["ebay_collected_tax_value"] or 0 for line in lines)
        assert row["tax_value"] == (row["ebay_collected_tax_value"] if tax_breakdown else None)
        for line in lines:
            assert line["tax_value"] == (line["ebay_collected_tax_value"] or 0 if tax_breakdown else 0)
