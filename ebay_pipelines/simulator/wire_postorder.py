"""Render inquiries, cases and returns as Post-Order v2 wire objects.

Post-Order dates are ``{"value": "...Z"}`` objects and amounts ``{"value": 12.34, "currency": "USD"}``
with a JSON number (converted from the exact Decimal only at this edge).
"""

from __future__ import annotations

from decimal import Decimal

from .generator import MS_DAY, OrderPlan
from .queries import World
from .util import MS_HOUR, iso_ms, money


def date_obj(ms: int) -> dict:
    """A Post-Order date ``{"value": "2026-10-01T10:00:00.000Z"}``."""
    return {"value": iso_ms(ms)}


def num_amount(value: Decimal, currency: str) -> dict:
    """A Post-Order amount with a numeric value."""
    return {"value": float(money(value)), "currency": currency}


def _latest(events: list[tuple[int, str]], now: int) -> tuple[int, str]:
    best = events[0]
    for ev in events:
        if ev[0] <= now:
            best = ev
    return best


class PostOrderRenderer:
    """Builds Post-Order summaries and details as of a given now."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.gen = world.gen
        self.currency = world.cfg.currency

    def _line(self, account: str, plan: OrderPlan):
        d = self.gen.order_detail(account, plan.day, plan.idx, plan)
        return d, d.lines[plan.ret_line]

    # ------------------------------------------------------------------ inquiries
    def _inquiry_events(self, plan: OrderPlan) -> list[tuple[int, str]]:
        c = plan.inq_at
        assert c is not None, "only plans with an inquiry have inquiry events"
        close = plan.case_at if plan.case_at is not None else c + 2 * MS_DAY + int(plan.u_extra * 2 * MS_DAY)
        final = "CLOSED_WITH_ESCALATION" if plan.case_at is not None else "CLOSED"
        return [(c, "OPEN"), (c + 12 * MS_HOUR, "WAITING_BUYER_RESPONSE"), (close, final)]

    def inquiry_summary(self, account: str, plan: OrderPlan, now: int) -> dict:
        """An InquirySummaryType as of ``now``."""
        d, ln = self._line(account, plan)
        lmd, status = _latest(self._inquiry_events(plan), now)
        assert plan.inq_at is not None
        return {
            "inquiryId": self.gen.inquiry_id(account, plan.day, plan.idx),
            "inquiryStatusEnum": status,
            "buyer": d.buyer.username,
            "seller": self.gen.seller_id(account),
            "itemId": ln.item_id,
            "transactionId": ln.line_item_id,
            "claimAmount": num_amount(ln.total, self.currency),
            "creationDate": date_obj(plan.inq_at),
            "lastModifiedDate": date_obj(lmd),
            "respondByDate": date_obj(plan.inq_at + 3 * MS_DAY),
        }

    def inquiry(self, account: str, plan: OrderPlan, now: int) -> dict:
        """Inquiry detail: the summary plus state, item title and history; like eBay's
        InquiryDetailsResponse it names the line item (itemId, transactionId), never the order."""
        _, ln = self._line(account, plan)
        out = self.inquiry_summary(account, plan, now)
        status = out["inquiryStatusEnum"]
        out.update(
            {
                "state": "CLOSED" if status.startswith("CLOSED") else "OPEN",
                "status": status,
                "itemTitle": ln.title,
                "quantity": ln.quantity,
                "inquiryHistoryDetails": {
                    "history": [
                        {
                            "action": action,
                            "actor": "BUYER"
                            if action == "OPEN"
                            else "SELLER"
                            if action.startswith("WAITING")
                            else "SYSTEM",
                            "date": date_obj(t),
                        }
                        for t, action in self._inquiry_events(plan)
                        if t <= now
                    ]
                },
            }
        )
        if plan.case_at is not None and plan.case_at <= now:
            out["caseId"] = self.gen.case_id(account, plan.day, plan.idx)
        return out

    # ------------------------------------------------------------------ cases
    def _case_events(self, plan: OrderPlan) -> list[tuple[int, str]]:
        e = plan.case_at
        assert e is not None, "only plans with a case have case events"
        return [(e, "OPEN"), (e + 2 * MS_DAY, "WAITING_CS"), (e + 4 * MS_DAY, "CLOSED")]

    def case_summary(self, account: str, plan: OrderPlan, now: int) -> dict:
        """A CaseSummaryType as of ``now``."""
        d, ln = self._line(account, plan)
        lmd, status = _latest(self._case_events(plan), now)
        assert plan.case_at is not None
        return {
            "caseId": self.gen.case_id(account, plan.day, plan.idx),
            "caseStatusEnum": status,
            "buyer": d.buyer.username,
            "seller": self.gen.seller_id(account),
            "itemId": ln.item_id,
            "transactionId": ln.line_item_id,
            "claimAmount": num_amount(ln.total, self.currency),
            "creationDate": date_obj(plan.case_at),
            "lastModifiedDate": date_obj(lmd),
            "respondByDate": date_obj(plan.case_at + 3 * MS_DAY),
        }

    def case(self, account: str, plan: OrderPlan, now: int) -> dict:
        """Case detail: the summary plus caseType and the originating inquiry/return; like eBay's
        CaseDetailsResponse it names the line item (itemId, transactionId), never the order."""
        out = self.case_summary(account, plan, now)
        out.update(
            {
                "caseType": plan.case_type,
                "state": "CLOSED" if out["caseStatusEnum"] == "CLOSED" else "OPEN",
                "status": out["caseStatusEnum"],
            }
        )
        if plan.case_type == "ITEM_NOT_RECEIVED":
            out["inquiryId"] = self.gen.inquiry_id(account, plan.day, plan.idx)
        else:
            out["returnId"] = self.gen.return_id(account, plan.day, plan.idx)
        return out

    # ------------------------------------------------------------------ returns
    def _return_events(self, plan: OrderPlan) -> list[tuple[int, str]]:
        r = plan.ret_at
        assert r is not None, "only plans with a return have return events"
        if plan.refund_at is not None:
            mid = r + (plan.refund_at - r) // 2
            return [(r, "RETURN_REQUESTED"), (mid, "ITEM_SHIPPED"), (plan.refund_at, "CLOSED")]
        assert plan.case_at is not None, "a return without a refund is escalated to a case"
        # The return closes with its case (CaseStatusEnum CLOSED, see ``_case_events``; ReturnStateEnum CLOSED).
        return [(r, "RETURN_REQUESTED"), (plan.case_at, "ESCALATED"), (plan.case_at + 4 * MS_DAY, "CLOSED")]

    def return_closed(self, plan: OrderPlan, now: int) -> bool:
        """Whether the return is closed as of ``now`` (ReturnStateEnum CLOSED)."""
        return _latest(self._return_events(plan), now)[1] == "CLOSED"

    def return_summary(self, account: str, plan: OrderPlan, now: int) -> dict:
        """A ReturnSummaryType as of ``now``."""
        d, ln = self._line(account, plan)
        _, state = _latest(self._return_events(plan), now)
        assert plan.ret_at is not None
        estimated = num_amount(ln.total, self.currency)
        refund: dict = {"estimatedRefundAmount": estimated}
        refunded = plan.refund_at is not None and plan.refund_at <= now
        if refunded:
            refund["actualRefundAmount"] = num_amount(d.refund_amount, self.currency)
        out = {
            "returnId": self.gen.return_id(account, plan.day, plan.idx),
            "orderId": d.order_id,
            "buyerLoginName": d.buyer.username,
            "sellerLoginName": self.gen.seller_id(account),
            "currentType": "MONEY_BACK",
            "state": state,
            "status": state,
            "creationInfo": {
                "item": {"itemId": ln.item_id, "transactionId": ln.line_item_id, "returnQuantity": ln.quantity},
                "reason": d.return_reason,
                "type": "MONEY_BACK",
                "creationDate": date_obj(plan.ret_at),
                "comments": {"content": "Item is not as described."},
            },
            "buyerTotalRefund": dict(refund),
            "sellerTotalRefund": dict(refund),
        }
        if state == "RETURN_REQUESTED":
            out["sellerResponseDue"] = {
                "activityDue": "SELLER_APPROVE_REQUEST",
                "respondByDate": date_obj(plan.ret_at + 3 * MS_DAY),
            }
        return out

    def return_detail(self, account: str, plan: OrderPlan, now: int) -> dict:
        """A ReturnDetailType as of ``now``: item, refund and close information.

        ``refundInfo`` (RefundInfoType) holds the ``estimatedRefundDetail`` from the start and, once
        the seller refunded, ``actualRefundDetail`` (ActualRefundDetailType): ``actualRefund``
        {itemizedRefundDetail[], totalAmount} with ``refundIssuedDate`` and ``refundStatus`` beside it.
        """
        d, ln = self._line(account, plan)
        estimated = num_amount(ln.total, self.currency)
        out: dict = {
            "buyerLoginName": d.buyer.username,
            "itemDetail": {
                "itemId": ln.item_id,
                "transactionId": ln.line_item_id,
                "itemTitle": ln.title,
                "itemPrice": num_amount(ln.unit_price, self.currency),
                "returnQuantity": ln.quantity,
            },
            "refundInfo": {
                "estimatedRefundDetail": {
                    "itemizedRefundDetails": [{"refundFeeType": "PURCHASE_PRICE", "estimatedAmount": estimated}]
                }
            },
        }
        if plan.refund_at is not None and plan.refund_at <= now:
            actual = num_amount(d.refund_amount, self.currency)
            out["refundInfo"]["actualRefundDetail"] = {
                "actualRefund": {
                    "itemizedRefundDetail": [{"refundFeeType": "PURCHASE_PRICE", "refundAmount": actual}],
                    "totalAmount": actual,
                },
                "refundIssuedDate": date_obj(plan.refund_at),
                "refundStatus": "SUCCESS",
            }
            out["closeInfo"] = {"returnCloseReason": "REFUND_ISSUED", "returnCloseDate": date_obj(plan.refund_at)}
        return out

    def get_return(self, account: str, plan: OrderPlan, now: int, fieldgroups: str = "FULL") -> dict:
        """The getReturn answer (GetDetailResponse): ``detail`` for FULL (GetReturnFieldGroupEnum's
        default for this method), ``summary`` for SUMMARY."""
        if fieldgroups == "SUMMARY":
            return {"summary": self.return_summary(account, plan, now)}
        return {"detail": self.return_detail(account, plan, now)}
