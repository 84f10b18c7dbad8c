"""Post-Order v2 endpoints: inquiry, case and return search and detail.

Search pagination: ``limit`` (1..200, default 25) and ``offset`` = 1-based page number.
"""

from __future__ import annotations

from collections.abc import Callable

from .generator import OrderPlan
from .responses import Request, Response, json_response, parse_int, postorder_error
from .services import Services
from .util import MS_DAY, parse_iso


def _window(svc: Services, req: Request, prefix: str, now: int) -> tuple[int, int] | Response:
    raw_from, raw_to = req.q(f"{prefix}_from"), req.q(f"{prefix}_to")
    try:
        start = parse_iso(raw_from) if raw_from else None
        end = parse_iso(raw_to) if raw_to else None
    except ValueError:
        return postorder_error(400, 1101, f"Invalid date in {prefix}.")
    if start is None and end is None:
        start, end = svc.world.gen.hist_start, now
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
    extra: dict | None = None,
) -> Response:
    limit = parse_int(req.q("limit"), 25)
    page = parse_int(req.q("offset"), 1)
    if limit is None or not 1 <= limit <= 200:
        return postorder_error(400, 1103, "The limit must be an integer between 1 and 200.")
    if page is None or page < 0:
        return postorder_error(400, 1104, "The offset must be a positive page number.")
    page = max(1, page)
    window = _window(svc, req, prefix, now)
    if isinstance(window, Response):
        return window
    plans = finder(account, window[0], window[1], now)
    total = len(plans)
    pages = -(-total // limit)
    members = [render(account, p, now) for p in plans[(page - 1) * limit : page * limit]]
    body: dict = dict(extra or {})
    body["members"] = members
    body["paginationOutput"] = {"limit": limit, "offset": page, "totalEntries": total, "totalPages": pages}
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
    """GET /post-order/v2/return/search."""
    return _search(
        svc,
        req,
        account,
        now,
        "creation_date_range",
        svc.world.returns,
        svc.postorder.return_summary,
        "total",
        {"countSummary": []},
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
    """GET /post-order/v2/return/{returnId}."""
    return _detail(svc, account, now, "3", return_id, "ret_at", svc.postorder.return_detail, "return")
