"""Post-Order v2: inquiries, cases and returns (with the refunds they carry).

Searches page with ``limit`` (at most 200) and ``offset`` = 1-based page number, and filter on
creation date (inclusive bounds). A detail call is made for a record only when its summary
lacks a field one of the table's columns needs (see the ``*_needs_detail`` predicates);
``details=True`` forces and ``details=False`` skips detail calls. Detail fields are laid over
the summary, so each yielded record is the summary plus what the detail added. Given ``known``
(ids -> the records stored by an earlier sync), a record whose summary is unchanged since then
is yielded as the stored record, without a detail call.

Call cost: one search call per 200 records, plus
- inquiries: one getInquiry per inquiry (summaries lack the order id);
- cases: one getCase per case (summaries lack the case type and order id);
- returns: one getReturn per *refunded* return (summaries lack the refund date); returns
  without a refund cost no detail call;
- none for a record whose summary is unchanged since the stored one (see ``known``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from .errors import PayloadError
from .parsing import Record, format_timestamp, utcnow
from .rest import EbayRestClient

PAGE_SIZE = 200

SEARCH_INQUIRIES = "searchInquiries"
GET_INQUIRY = "getInquiry"
SEARCH_CASES = "searchCases"
GET_CASE = "getCase"
SEARCH_RETURNS = "searchReturns"
GET_RETURN = "getReturn"

Known = Callable[[list[str]], Mapping[str, dict[str, Any]]]
"""Given record ids, return the records an earlier sync stored for those of them it knows."""


def inquiry_needs_detail(summary: dict[str, Any]) -> bool:
    """Inquiry summaries lack the order id, which only the detail carries."""
    return not _has_any(summary, ("orderId",))


def case_needs_detail(summary: dict[str, Any]) -> bool:
    """Case summaries lack the case type (and the order id), which only the detail carries."""
    return not _has_any(summary, ("caseType",)) or not _has_any(summary, ("orderId",))


def return_needs_detail(summary: dict[str, Any]) -> bool:
    """A refunded return's summary lacks the refund date; unrefunded returns need no detail."""
    refunded = _has_any(summary, ("sellerTotalRefund.actualRefundAmount",))
    return refunded and not _has_any(summary, REFUND_DATE_PATHS)


#: Where a return's refund date sits: the simulator's and eBay's detail shapes.
REFUND_DATE_PATHS: tuple[str, ...] = (
    "refundInfo.refundDate",
    "detail.refundInfo.refundDate",
    "refundInfo.actualRefundDetail.actualRefund.refundIssuedDate",
    "detail.refundInfo.actualRefundDetail.actualRefund.refundIssuedDate",
    "refundInfo.actualRefundDetail.actualRefund.refundInitiationDate",
    "detail.refundInfo.actualRefundDetail.actualRefund.refundInitiationDate",
)


def _search(
    client: EbayRestClient, path: str, params: dict[str, Any], call_name: str, page_size: int
) -> Iterator[list[dict[str, Any]]]:
    page = 1
    while True:
        body = client.get_json("post-order", path, {**params, "limit": page_size, "offset": page}, call_name)
        client.pages[(client.account_id, call_name)] += 1
        members = body.get("members") if body else None
        if members is None:
            members = []
        if not isinstance(members, list):
            raise PayloadError("'members' is not a list", call_name=call_name, account_id=client.account_id)
        if not members:
            return
        yield members
        output = Record(body, call_name=call_name, account_id=client.account_id).child("paginationOutput")
        total_pages = output.integer("totalPages")
        if total_pages is not None:
            if page >= total_pages:
                return
        elif len(members) < page_size:
            return
        page += 1


def _has_any(summary: dict[str, Any], paths: Iterable[str]) -> bool:
    for path in paths:
        node: Any = summary
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node not in (None, "", [], {}):
            return True
    return False


def _with_details(
    client: EbayRestClient,
    pages: Iterator[list[dict[str, Any]]],
    *,
    id_field: str,
    detail_path: str,
    detail_call: str,
    search_call: str,
    needs_detail: Callable[[dict[str, Any]], bool],
    details: bool | None,
    known: Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    for page in pages:
        result = []
        ids = []
        for summary in page:
            rec = Record(summary, call_name=search_call, account_id=client.account_id, id_field=id_field)
            record_id = rec.text(id_field)
            if not record_id:
                raise rec.fail(id_field, "is missing")
            ids.append(record_id)
        stored = known(ids) if known is not None and details is not False else {}
        for record_id, summary in zip(ids, page):
            wanted = needs_detail(summary) if details is None else details
            previous = stored.get(record_id)
            if wanted and previous is not None and summary_unchanged(summary, previous):
                result.append(dict(previous))
            elif wanted:
                detail = client.get_json("post-order", f"{detail_path}/{quote(record_id, safe='')}", None, detail_call)
                result.append(merge_detail(summary, detail))
            else:
                result.append(summary)
        yield result


def summary_unchanged(summary: dict[str, Any], stored: dict[str, Any]) -> bool:
    """True when every field of ``summary`` equals the stored record's (so its detail is unchanged too)."""
    return all(key in stored and stored[key] == value for key, value in summary.items())


def merge_detail(summary: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """Return the summary with the detail's fields laid over it (detail wins on conflicts)."""
    merged = dict(summary)
    merged.update(detail or {})
    return merged


def _range(since: datetime, until: datetime, prefix: str) -> dict[str, str]:
    return {f"{prefix}_from": format_timestamp(since), f"{prefix}_to": format_timestamp(until)}


def iter_inquiries(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    details: bool | None = None,
    known: Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of inquiries created in ``[since, until]`` (summary, merged with detail where needed)."""
    pages = _search(
        client, "/inquiry/search", _range(since, until, "inquiry_creation_date_range"), SEARCH_INQUIRIES, page_size
    )
    yield from _with_details(
        client,
        pages,
        id_field="inquiryId",
        detail_path="/inquiry",
        detail_call=GET_INQUIRY,
        search_call=SEARCH_INQUIRIES,
        needs_detail=inquiry_needs_detail,
        details=details,
        known=known,
    )


def iter_cases(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    details: bool | None = None,
    known: Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of cases created in ``[since, until]`` (summary, merged with detail where needed)."""
    pages = _search(
        client, "/casemanagement/search", _range(since, until, "case_creation_date_range"), SEARCH_CASES, page_size
    )
    yield from _with_details(
        client,
        pages,
        id_field="caseId",
        detail_path="/casemanagement",
        detail_call=GET_CASE,
        search_call=SEARCH_CASES,
        needs_detail=case_needs_detail,
        details=details,
        known=known,
    )


def iter_returns(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    details: bool | None = None,
    known: Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of returns created in ``[since, until]`` (summary, merged with detail where needed)."""
    pages = _search(client, "/return/search", _range(since, until, "creation_date_range"), SEARCH_RETURNS, page_size)
    yield from _with_details(
        client,
        pages,
        id_field="returnId",
        detail_path="/return",
        detail_call=GET_RETURN,
        search_call=SEARCH_RETURNS,
        needs_detail=return_needs_detail,
        details=details,
        known=known,
    )


def _claim_columns(rec: Record) -> dict[str, Any]:
    amount, currency = rec.amount("claimAmount")
    return {
        "order_id": rec.text("orderId"),
        "item_id": rec.text("itemId"),
        "transaction_id": rec.text("transactionId"),
        "buyer": rec.text("buyer"),
        "seller": rec.text("seller"),
        "claim_amount_value": amount,
        "claim_amount_currency": currency,
        "creation_date": rec.timestamp("creationDate"),
        "last_modified_date": rec.timestamp("lastModifiedDate"),
        "respond_by_date": rec.timestamp("respondByDate"),
    }


def inquiry_row(account_id: str, inquiry: dict[str, Any]) -> dict[str, Any]:
    """Return the ``ebay_inquiries`` row of one inquiry (summary or summary merged with detail)."""
    rec = Record(inquiry, call_name=GET_INQUIRY, account_id=account_id, id_field="inquiryId")
    columns = _claim_columns(rec)
    return {
        "ebay_account_id": account_id,
        "inquiry_id": rec.key("inquiryId"),
        "inquiry_status": rec.text("inquiryStatusEnum") or rec.text("status"),
        **columns,
        "raw": inquiry,
        "source_updated_at": columns["last_modified_date"] or columns["creation_date"],
    }


def case_row(account_id: str, case: dict[str, Any]) -> dict[str, Any]:
    """Return the ``ebay_cases`` row of one case (summary or summary merged with detail)."""
    rec = Record(case, call_name=GET_CASE, account_id=account_id, id_field="caseId")
    columns = _claim_columns(rec)
    return {
        "ebay_account_id": account_id,
        "case_id": rec.key("caseId"),
        "case_type": rec.text("caseType"),
        "case_status": rec.text("caseStatusEnum") or rec.text("status"),
        **columns,
        "raw": case,
        "source_updated_at": columns["last_modified_date"] or columns["creation_date"],
    }


def return_refund_row(account_id: str, ret: dict[str, Any], *, fetched_at: datetime | None = None) -> dict[str, Any]:
    """Return the ``ebay_refunds`` row of one return (``refund_id`` = ``'RET-' + returnId``).

    The amount is the seller's actual refund when known, else the estimated one; the status is
    the return's ``status`` (else ``state``); the reason is ``creationInfo.reason``; the refund
    date comes from the detail's refund information. Returns carry no last-change time, so
    ``source_updated_at`` is the fetch time (``fetched_at``, default now).
    """
    rec = Record(ret, call_name=GET_RETURN, account_id=account_id, id_field="returnId")
    return_id = rec.key("returnId")
    actual, actual_cur = rec.amount("sellerTotalRefund.actualRefundAmount")
    estimated, estimated_cur = rec.amount("sellerTotalRefund.estimatedRefundAmount")
    transaction_id = rec.text("creationInfo.item.transactionId")
    return {
        "ebay_account_id": account_id,
        "refund_id": f"RET-{return_id}",
        "refund_source": "return",
        "order_id": rec.text("orderId"),
        "line_item_id": transaction_id,
        "return_id": return_id,
        "transaction_id": transaction_id,
        "item_id": rec.text("creationInfo.item.itemId"),
        "refund_amount_value": actual if actual is not None else estimated,
        "refund_amount_currency": actual_cur if actual is not None else estimated_cur,
        "refund_status": rec.text("status") or rec.text("state"),
        "refund_reason": rec.text("creationInfo.reason"),
        "refund_date": _first_timestamp(rec, REFUND_DATE_PATHS) if actual is not None else None,
        "buyer_username": rec.text("buyerLoginName"),
        "raw": ret,
        "source_updated_at": fetched_at or utcnow(),
    }


def _first_timestamp(rec: Record, paths: Iterable[str]) -> datetime | None:
    for path in paths:
        value = rec.timestamp(path)
        if value is not None:
            return value
    return None
