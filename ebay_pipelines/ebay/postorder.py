"""Post-Order v2: inquiries, cases and returns (with the refunds they carry).

Searches page with ``limit`` (at most 200) and ``offset`` = 1-based page number, and filter on
creation date (inclusive bounds). A detail call is made for a record only when its summary
lacks a field one of the table's columns needs (each endpoint's ``DetailSpec.lacking``);
``details=True`` forces and ``details=False`` skips detail calls. Detail fields are laid over
the summary, so each yielded record is the summary plus what the detail added. Given ``known``
(ids -> the records stored by an earlier sync), a record whose summary is unchanged since then
is yielded as the stored record, without a detail call.

Call cost: one search call per 200 records (returns: one search of open and one of closed
returns per window, see ``RETURN_SEARCHES``), plus
- inquiries: none (InquirySummaryType holds every column; the detail, InquiryDetailsResponse,
  adds no order id either);
- cases: one getCase per new or changed case (CaseSummaryType lacks the case type;
  CaseDetailsResponse holds no order id);
- returns: one getReturn per *refunded* return (summaries lack the refund date); returns
  without a refund cost no detail call;
- none for a record whose summary is unchanged since the stored one (see ``known``).

Inquiries and cases name their line item (``itemId`` + ``transactionId``), never their order:
the store links them to ``order_line_items`` (:mod:`ebay_pipelines.store.order_links`).

The endpoint specs ``INQUIRIES``, ``CASES`` and ``RETURNS`` describe the searches and their
details; :mod:`ebay_pipelines.ebay.paging` walks them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from . import paging
from .endpoints import DetailSpec, DetailWhen, EndpointSpec, Pagination, Reach, Variant, WindowSpec
from .parsing import Record, utcnow
from .rest import EbayRestClient

PAGE_SIZE = 200

SEARCH_INQUIRIES = "searchInquiries"
GET_INQUIRY = "getInquiry"
SEARCH_CASES = "searchCases"
GET_CASE = "getCase"
SEARCH_RETURNS = "searchReturns"
GET_RETURN = "getReturn"

#: Where getReturn (GetDetailResponse ``{detail: ReturnDetailType, summary}``) puts the date of the
#: seller's refund: ``refundInfo.actualRefundDetail`` (ActualRefundDetailType) holds ``actualRefund``
#: and, beside it, ``refundIssuedDate``.
REFUND_DATE_PATH = "detail.refundInfo.actualRefundDetail.refundIssuedDate"
#: The actual refund's total in the detail (RefundDetailType ``totalAmount``), when the summary lacks it.
REFUND_TOTAL_PATH = "detail.refundInfo.actualRefundDetail.actualRefund.totalAmount"

#: ``return/search`` answers open returns only without ``return_state`` (CountSummaryType: the
#: default is ALL_OPEN); closed (refunded) returns need a search of their own. ReturnCountFilterEnum
#: spells the value ``CLOSED``; an older reading says ``ALL_CLOSED``, tried when eBay refuses the first.
RETURN_SEARCHES = (
    Variant("return_state", (None,)),
    Variant("return_state", ("CLOSED", "ALL_CLOSED")),
)

_PAGING_NOTE = (
    "Post-Order page numbers, page 1 then totalPages back to page 2: creation dates never move, but a record "
    "leaving the search shifts the rest up, into pages not yet read (design §8)."
)


def _search(
    call: str, path: str, window_prefix: str, detail: DetailSpec | None, variants: tuple[Variant, ...] = ()
) -> EndpointSpec:
    return EndpointSpec(
        call=call,
        api="post-order",
        path=path,
        items_key="members",
        pagination=Pagination.POST_ORDER,
        page_size=PAGE_SIZE,
        paging_note=_PAGING_NOTE,
        # A start at most 18 months back (the search pages; shared eBay notes, Wire facts: "18 months").
        window=WindowSpec(
            start_param=f"{window_prefix}_from",
            end_param=f"{window_prefix}_to",
            oldest_start=Reach(months=18, what=call.removeprefix("search").lower()),
        ),
        variants=variants,
        detail=detail,
    )


#: InquirySummaryType holds every column of ``ebay_inquiries``; no detail call.
INQUIRIES = _search(SEARCH_INQUIRIES, "/inquiry/search", "inquiry_creation_date_range", None)
CASES = _search(
    SEARCH_CASES,
    "/casemanagement/search",
    "case_creation_date_range",
    # CaseSummaryType lacks the case type, which only CaseDetailsResponse carries. The detail's other
    # fields (its status and state) move with the case, so a case whose summary changed is read again;
    # an unchanged one is taken as stored.
    DetailSpec(
        call=GET_CASE,
        id_field="caseId",
        when=DetailWhen.WHEN_LACKING,
        lacking=(("caseType",),),
        path="/casemanagement/{id}",
        merge=True,
    ),
)
RETURNS = _search(
    SEARCH_RETURNS,
    "/return/search",
    "creation_date_range",
    # A refunded return's summary lacks the refund date; unrefunded returns need no detail.
    # fieldgroups=FULL asks for the detail container under either reading of GetDetailResponse.
    DetailSpec(
        call=GET_RETURN,
        id_field="returnId",
        when=DetailWhen.WHEN_LACKING,
        lacking=((REFUND_DATE_PATH,),),
        only_if=("sellerTotalRefund.actualRefundAmount",),
        path="/return/{id}",
        merge=True,
        params=(("fieldgroups", "FULL"),),
    ),
    RETURN_SEARCHES,
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

    Every return has a row, open or closed; it is a refund only once the seller refunded it:
    ``refund_amount_*`` is the actual refund (TotalRefundAmountType ``actualRefundAmount``, else the
    detail's ActualRefundDetailType ``actualRefund.totalAmount``) and ``refund_date`` its
    ``refundIssuedDate``; both stay NULL while no refund was issued. ``estimated_refund_*`` is
    ``estimatedRefundAmount``, ``return_state`` the ReturnStateEnum ``state``; ``refund_status`` is
    the return's ``status`` (else ``state``); the reason is ``creationInfo.reason``. Returns carry no
    last-change time, so ``source_updated_at`` is the fetch time (``fetched_at``, default now).
    """
    rec = Record(ret, call_name=GET_RETURN, account_id=account_id, id_field="returnId")
    return_id = rec.key("returnId")
    actual, actual_cur = rec.amount("sellerTotalRefund.actualRefundAmount")
    if actual is None:
        actual, actual_cur = rec.amount(REFUND_TOTAL_PATH)
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
        "refund_amount_value": actual,
        "refund_amount_currency": actual_cur if actual is not None else None,
        "estimated_refund_value": estimated,
        "estimated_refund_currency": estimated_cur if estimated is not None else None,
        "return_state": rec.text("state"),
        "refund_status": rec.text("status") or rec.text("state"),
        "refund_reason": rec.text("creationInfo.reason"),
        "refund_date": rec.timestamp(REFUND_DATE_PATH) if actual is not None else None,
        "buyer_username": rec.text("buyerLoginName"),
        "raw": ret,
        "source_updated_at": fetched_at or utcnow(),
    }
