"""Post-Order v2: inquiries, cases and returns (with the refunds they carry).

Searches page with ``limit`` (at most 200) and ``offset`` = 1-based page number, and filter on
creation date (inclusive bounds). A detail call is made for a record only when its summary
lacks a field one of the table's columns needs (each endpoint's ``DetailSpec.lacking``);
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

The endpoint specs ``INQUIRIES``, ``CASES`` and ``RETURNS`` describe the searches and their
details; :mod:`ebay_pipelines.ebay.paging` walks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import DetailSpec, DetailWhen, EndpointSpec, Pagination, WindowSpec
from .parsing import Record, utcnow
from .rest import EbayRestClient

PAGE_SIZE = 200

SEARCH_INQUIRIES = "searchInquiries"
GET_INQUIRY = "getInquiry"
SEARCH_CASES = "searchCases"
GET_CASE = "getCase"
SEARCH_RETURNS = "searchReturns"
GET_RETURN = "getReturn"

#: Where a return's refund date sits: the simulator's and eBay's detail shapes.
REFUND_DATE_PATHS: tuple[str, ...] = (
    "refundInfo.refundDate",
    "detail.refundInfo.refundDate",
    "refundInfo.actualRefundDetail.actualRefund.refundIssuedDate",
    "detail.refundInfo.actualRefundDetail.actualRefund.refundIssuedDate",
    "refundInfo.actualRefundDetail.actualRefund.refundInitiationDate",
    "detail.refundInfo.actualRefundDetail.actualRefund.refundInitiationDate",
)

_PAGING_NOTE = (
    "Post-Order page numbers, page 1 then totalPages back to page 2: creation dates never move, but a record "
    "leaving the search shifts the rest up, into pages not yet read (design §8)."
)


def _search(call: str, path: str, window_prefix: str, detail: DetailSpec) -> EndpointSpec:
    return EndpointSpec(
        call=call,
        api="post-order",
        path=path,
        items_key="members",
        pagination=Pagination.POST_ORDER,
        page_size=PAGE_SIZE,
        paging_note=_PAGING_NOTE,
        window=WindowSpec(start_param=f"{window_prefix}_from", end_param=f"{window_prefix}_to"),
        detail=detail,
    )


INQUIRIES = _search(
    SEARCH_INQUIRIES,
    "/inquiry/search",
    "inquiry_creation_date_range",
    # Inquiry summaries lack the order id, which only the detail carries.
    DetailSpec(
        call=GET_INQUIRY,
        id_field="inquiryId",
        when=DetailWhen.WHEN_LACKING,
        lacking=(("orderId",),),
        path="/inquiry/{id}",
        merge=True,
    ),
)
CASES = _search(
    SEARCH_CASES,
    "/casemanagement/search",
    "case_creation_date_range",
    # Case summaries lack the case type (and the order id), which only the detail carries.
    DetailSpec(
        call=GET_CASE,
        id_field="caseId",
        when=DetailWhen.WHEN_LACKING,
        lacking=(("caseType",), ("orderId",)),
        path="/casemanagement/{id}",
        merge=True,
    ),
)
RETURNS = _search(
    SEARCH_RETURNS,
    "/return/search",
    "creation_date_range",
    # A refunded return's summary lacks the refund date; unrefunded returns need no detail.
    DetailSpec(
        call=GET_RETURN,
        id_field="returnId",
        when=DetailWhen.WHEN_LACKING,
        lacking=(REFUND_DATE_PATHS,),
        only_if=("sellerTotalRefund.actualRefundAmount",),
        path="/return/{id}",
        merge=True,
    ),
)


def iter_inquiries(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    details: bool | None = None,
    known: paging.Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of inquiries created in ``[since, until]`` (summary, merged with detail where needed)."""
    return paging.pages(
        INQUIRIES, rest=client, since=since, until=until, page_size=page_size, details=details, known=known
    )


def iter_cases(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    details: bool | None = None,
    known: paging.Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of cases created in ``[since, until]`` (summary, merged with detail where needed)."""
    return paging.pages(CASES, rest=client, since=since, until=until, page_size=page_size, details=details, known=known)


def iter_returns(
    client: EbayRestClient,
    since: datetime,
    until: datetime,
    *,
    page_size: int = PAGE_SIZE,
    details: bool | None = None,
    known: paging.Known | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Yield pages of returns created in ``[since, until]`` (summary, merged with detail where needed)."""
    return paging.pages(
        RETURNS, rest=client, since=since, until=until, page_size=page_size, details=details, known=known
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
