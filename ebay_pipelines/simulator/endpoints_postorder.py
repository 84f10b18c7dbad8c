"""Post-Order v2 endpoints: inquiry, case and return search and detail.

Search pagination: ``limit`` (1..200, default 25) and ``offset``, which counts the entries skipped
(default 0; eBay's PaginationOutput type page) or, with ``SimulatorConfig.postorder_offset="pages"``,
is a 1-based page number (default 1; as clients report). ``paginationOutput.offset`` echoes it.
A creation-date start more than 18 months back is refused with a 400 (the search pages: "cannot be
set back more than 18 months in the past"; shared eBay notes, Wire facts: "18 months").
"""

from __future__ import annotations

from collections.abc import Callable

from .generator import OrderPlan
from .responses import Request, Response, json_response, parse_int, postorder_error
from .services import Services
from .util import MS_DAY, months_back_ms, parse_iso

#: How far back a search's creation-date range may start, in calendar months.
REACH_MONTHS = 18


def _page(svc: Services, raw: str | None, limit: int) -> tuple[int, int] | Response:
    """``(records skipped, offset echoed)`` for the request's ``offset``, in the configured reading."""
    pages = svc.config.postorder_offset == "pages"
    offset = parse_int(raw, 1 if pages else 0)
    if offset is None or offset < 0:
        return postorder_error(400, 1104, "The offset must be a non-negative integer.")
    if pages:
        offset = max(1, offset)
        return (offset - 1) * limit, offset
    return offset, offset


def _window(svc: Services, req: Request, prefix: str, now: int) -> tuple[int, int] | Response:
    raw_from, raw_to = req.q(f"{prefix}_from"), req.q(f"{prefix}_to")
    try:
        start = parse_iso(raw_from) if raw_from else None
        end = parse_iso(raw_to) if raw_to else None
    except ValueError:
        return postorder_error(400, 1101, f"Invalid date in {prefix}.")
    oldest = months_back_ms(now, REACH_MONTHS)
    if start is not None and start < oldest:
        return postorder_error(
            400, 1101, f"The {prefix}_from date cannot be set back more than {REACH_MONTHS} months in the past."
        )
    if start is None and end is None:
        start, end = max(svc.world.gen.hist_start, oldest), now
    elif start is None:
        assert end is not None
        start = end - 90 * MS_DAY
    elif end is None:
        end = start + 90 * MS_DAY
    if start > end:
        return postorder_error(400, 1102, "The date range start must be before its end.")
    return start, end


def _search(
    svc: Services,
    req: Request,
    account: str,
    now: int,
    prefix: str,
    finder: Callable[[str, int, int, int], list[OrderPlan]],
    render: Callable[[str, OrderPlan, int], dict],
    total_key: str,
    extra: Callable[[int], dict] | None = None,
    keep: Callable[[OrderPlan], bool] | None = None,
) -> Response:
    limit = parse_int(req.q("limit"), 25)
    if limit is None or not 1 <= limit <= 200:
        return postorder_error(400, 1103, "The limit must be an integer between 1 and 200.")
    paged = _page(svc, req.q("offset"), limit)
    if isinstance(paged, Response):
        return paged
    skip, offset = paged
    window = _window(svc, req, prefix, now)
    if isinstance(window, Response):
        return window
    plans = finder(account, window[0], window[1], now)
    if keep is not None:
        plans = [p for p in plans if keep(p)]
    total = len(plans)
    pages = -(-total // limit)
    members = [render(account, p, now) for p in plans[skip : skip + limit]]
    body: dict = extra(total) if extra is not None else {}
    body["members"] = members
    body["paginationOutput"] = {"limit": limit, "offset": offset, "totalEntries": total, "totalPages": pages}
    body[total_key] = total
    return json_response(body)


def search_inquiries(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /post-order/v2/inquiry/search."""
    return _search(
        svc,
        req,
        account,
        now,
        "inquiry_creation_date_range",
        svc.world.inquiries,
        svc.postorder.inquiry_summary,
        "totalNumberOfInquiries",
    )


def search_cases(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /post-order/v2/casemanagement/search."""
    return _search(
        svc,
        req,
        account,
        now,
        "case_creation_date_range",
        svc.world.cases,
        svc.postorder.case_summary,
        "totalNumberOfCases",
    )


def search_returns(svc: Services, req: Request, account: str, now: int) -> Response:
    """GET /post-order/v2/return/search.

    ``return_state`` (ReturnCountFilterEnum) selects the returns: none or ``ALL_OPEN`` answers open
    returns only (CountSummaryType: the default is ALL_OPEN); the configured closed value
    (``CLOSED`` per ReturnCountFilterEnum, or ``ALL_CLOSED``) answers closed returns only; any other
    value is refused with a 400. ``countSummary`` counts the returns answered under their type.
    """
    state = req.q("return_state")
    closed_value = svc.config.closed_return_state
    if state not in (None, "", "ALL_OPEN", closed_value):
        return postorder_error(400, 1106, f"The return_state value {state} is invalid.")
    closed = state == closed_value
    postorder = svc.postorder

    def keep(plan: OrderPlan) -> bool:
        return postorder.return_closed(plan, now) == closed

    def count_summary(total: int) -> dict:
        return {"countSummary": [{"type": state if closed else "ALL_OPEN", "count": total}]}

    return _search(
        svc,
        req,
        account,
        now,
        "creation_date_range",
        svc.world.returns,
        postorder.return_summary,
        "total",
        count_summary,
        keep,
    )


def _detail(
    svc: Services,
    account: str,
    now: int,
    prefix: str,
    value: str,
    attr: str,
    render: Callable[[str, OrderPlan, int], dict],
    what: str,
) -> Response:
    plan = svc.world.find_by_prefixed_id(account, prefix, value, now)
    when = getattr(plan, attr) if plan is not None else None
    if plan is None or when is None or when > now:
        return postorder_error(404, 1105, f"The {what} id {value} is invalid.")
    return json_response(render(account, plan, now))


def get_inquiry(svc: Services, req: Request, account: str, now: int, inquiry_id: str) -> Response:
    """GET /post-order/v2/inquiry/{inquiryId}."""
    return _detail(svc, account, now, "1", inquiry_id, "inq_at", svc.postorder.inquiry, "inquiry")


def get_case(svc: Services, req: Request, account: str, now: int, case_id: str) -> Response:
    """GET /post-order/v2/casemanagement/{caseId}."""
    return _detail(svc, account, now, "2", case_id, "case_at", svc.postorder.case, "case")


def get_return(svc: Services, req: Request, account: str, now: int, return_id: str) -> Response:
    """GET /post-order/v2/return/{returnId}: a GetDetailResponse, ``detail`` for ``fieldgroups`` FULL (the
    default, GetReturnFieldGroupEnum), ``summary`` for SUMMARY; other values are refused with a 400."""
    fieldgroups = req.q("fieldgroups") or "FULL"
    if fieldgroups not in ("FULL", "SUMMARY"):
        return postorder_error(400, 1107, f"The fieldgroups value {fieldgroups} is invalid.")

    def render(account: str, plan: OrderPlan, now: int) -> dict:
        return svc.postorder.get_return(account, plan, now, fieldgroups)

    return _detail(svc, account, now, "3", return_id, "ret_at", render, "return")
