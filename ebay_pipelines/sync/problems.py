"""What eBay's problem statuses mean for the seller: the rules the problem grid is built with.

Every status list is named here once. Values are eBay's documented enums (Post-Order
InquiryStatusEnum, CaseStatusEnum, ReturnStateEnum; Fulfillment DisputeStateEnum), covering
what the simulator generates (inquiries OPEN -> WAITING_BUYER_RESPONSE -> CLOSED or
CLOSED_WITH_ESCALATION; cases OPEN -> WAITING_CS -> CLOSED; returns RETURN_REQUESTED ->
ITEM_SHIPPED -> CLOSED or ESCALATED; disputes OPEN -> ACTION_NEEDED -> CLOSED).
"""

from __future__ import annotations

import sqlalchemy as sa

from ebay_pipelines.store.problem_grid import GridBuild, GridRules, rebuild_problem_grid

#: Post-Order inquiries are "item not received" claims by definition.
INQUIRY_REASON = "ITEM_NOT_RECEIVED"
INQUIRY_CLOSED = ("CLOSED", "CLOSED_WITH_ESCALATION", "CS_CLOSED")
#: OPEN: the buyer opened it and the seller has not answered yet.
INQUIRY_ACTION = ("OPEN", "WAITING_SELLER_RESPONSE")

CASE_CLOSED = ("CLOSED", "CS_CLOSED")
#: OPEN: escalated and awaiting the seller's answer; REFUND_AGREED_BUT_FAILED: the seller's refund must be redone.
CASE_ACTION = ("OPEN", "REFUND_AGREED_BUT_FAILED")

DISPUTE_CLOSED = ("CLOSED",)
DISPUTE_ACTION = ("ACTION_NEEDED",)

RETURN_CLOSED = ("CLOSED",)
#: Return states in which eBay waits for the seller (approve, refund, or answer a partial-refund or
#: replacement request); a return whose raw carries ``sellerResponseDue`` awaits the seller too.
RETURN_ACTION = (
    "RETURN_REQUESTED",
    "RETURN_REQUESTED_TIMEOUT",
    "ITEM_DELIVERED",
    "PARTIAL_REFUND_REQUESTED",
    "REPLACEMENT_REQUESTED",
    "REPLACEMENT_DELIVERED",
)

#: The outcome of a finance refund: the money went back to the buyer.
REFUND_OUTCOME = "REFUNDED"

RULES = GridRules(
    inquiry_reason=INQUIRY_REASON,
    inquiry_closed=INQUIRY_CLOSED,
    inquiry_action=INQUIRY_ACTION,
    case_closed=CASE_CLOSED,
    case_action=CASE_ACTION,
    dispute_closed=DISPUTE_CLOSED,
    dispute_action=DISPUTE_ACTION,
    return_closed=RETURN_CLOSED,
    return_action=RETURN_ACTION,
    refund_outcome=REFUND_OUTCOME,
    # ReturnSummaryType.sellerResponseDue {activityDue, respondByDate{value}}: the seller's next step and deadline.
    return_seller_due=("sellerResponseDue",),
    return_respond_by=("sellerResponseDue", "respondByDate", "value"),
    # ReturnSummaryType.creationInfo.creationDate{value}.
    return_opened_at=("creationInfo", "creationDate", "value"),
    # getReturn's GetDetailResponse detail (ReturnDetailType) closeInfo{returnCloseReason, returnCloseDate{value}}.
    return_closed_at=("detail", "closeInfo", "returnCloseDate", "value"),
    return_close_reason=("detail", "closeInfo", "returnCloseReason"),
)


def rebuild(engine: sa.Engine, account_id: str) -> GridBuild:
    """Rebuild ``account_id``'s problem grid from its synced tables with eBay's rules."""
    return rebuild_problem_grid(engine, account_id, RULES)
