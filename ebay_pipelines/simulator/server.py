"""HTTP plumbing: routing, authentication, fault injection, call accounting, control endpoints."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from . import endpoints_postorder as po
from . import endpoints_rest as rest
from .churn import ChurnRule
from .consent import INVALID_SCOPE, get_user, lacks_scope
from .endpoints_keys import APPLICATION, key_management
from .endpoints_trading import HANDLERS as TRADING_HANDLERS
from .endpoints_trading import body_token, child, failure, parse_body
from .faults import REQUEST_ERROR_KINDS, FaultRule
from .notifications import public_key_response
from .responses import (
    INVALID_CLIENT,
    INVALID_GRANT,
    JSON,
    XML,
    Request,
    Response,
    insufficient_scope,
    invalid_token,
    json_response,
    oauth_error,
    postorder_error,
    rate_limited,
    rest_error,
)
from .tokens import REFRESH_SECONDS
from .util import from_ms, iso_ms, parse_iso
from .wire_trading import INVALID_TOKEN, RATE_LIMIT, error

if TYPE_CHECKING:
    from .simulator import EbaySimulator

log = logging.getLogger(__name__)

Handler = Callable[..., Response]


class Route:
    """One endpoint: method, path pattern, endpoint name, API family and handler."""

    def __init__(
        self,
        method: str,
        pattern: str,
        name: str,
        family: str,
        handler: Handler | None,
        error_id: int = 0,
        domain: str = "",
    ) -> None:
        self.method = method
        self.regex = re.compile(pattern)
        self.name = name
        self.family = family
        self.handler = handler
        self.error_id = error_id
        self.domain = domain


ROUTES = [
    Route("POST", r"^/identity/v1/oauth2/token$", "token", "token", None),
    Route("GET", r"^/oauth2/authorize$", "authorize", "consent", None),
    Route("GET", r"^/commerce/identity/v1/user/?$", "getUser", "rest", None, 1100, "ACCESS"),
    Route("POST", r"^/developer/key_management/v1/signing_key$", "createSigningKey", "keys", None),
    Route("GET", r"^/developer/key_management/v1/signing_key$", "getSigningKeys", "keys", None),
    Route("GET", r"^/developer/key_management/v1/signing_key/([^/]+)$", "getSigningKey", "keys", None),
    Route("GET", r"^/sell/fulfillment/v1/order$", "getOrders", "rest", rest.get_orders, 30500, rest.FULFILLMENT),
    Route("GET", r"^/sell/fulfillment/v1/order/([^/]+)$", "getOrder", "rest", rest.get_order, 30500, rest.FULFILLMENT),
    Route(
        "GET",
        r"^/sell/fulfillment/v1/payment_dispute_summary$",
        "getPaymentDisputeSummaries",
        "rest",
        rest.get_dispute_summaries,
        33000,
        rest.FULFILLMENT,
    ),
    Route(
        "GET",
        r"^/sell/fulfillment/v1/payment_dispute/([^/]+)$",
        "getPaymentDispute",
        "rest",
        rest.get_dispute,
        33000,
        rest.FULFILLMENT,
    ),
    Route(
        "GET",
        r"^/sell/finances/v1/transaction$",
        "getTransactions",
        "rest",
        rest.get_transactions,
        135000,
        rest.FINANCES,
    ),
    Route("GET", r"^/sell/finances/v1/payout$", "getPayouts", "rest", rest.get_payouts, 135000, rest.FINANCES),
    Route(
        "GET",
        r"^/sell/inventory/v1/inventory_item$",
        "getInventoryItems",
        "rest",
        rest.get_inventory_items,
        25001,
        rest.INVENTORY,
    ),
    Route("GET", r"^/sell/inventory/v1/offer$", "getOffers", "rest", rest.get_offers, 25001, rest.INVENTORY),
    Route("GET", r"^/post-order/v2/inquiry/search$", "searchInquiries", "postorder", po.search_inquiries),
    Route("GET", r"^/post-order/v2/inquiry/([^/]+)$", "getInquiry", "postorder", po.get_inquiry),
    Route("GET", r"^/post-order/v2/casemanagement/search$", "searchCases", "postorder", po.search_cases),
    Route("GET", r"^/post-order/v2/casemanagement/([^/]+)$", "getCase", "postorder", po.get_case),
    Route("GET", r"^/post-order/v2/return/search$", "searchReturns", "postorder", po.search_returns),
    Route("GET", r"^/post-order/v2/return/([^/]+)$", "getReturn", "postorder", po.get_return),
    Route("POST", r"^/ws/api\.dll$", "trading", "trading", None),
    Route("GET", r"^/developer/analytics/v1_beta/rate_limit/?$", "getRateLimits", "analytics", None),
    Route("GET", r"^/developer/analytics/v1_beta/user_rate_limit/?$", "getUserRateLimits", "analytics", None),
    Route("GET", r"^/commerce/notification/v1/public_key/([^/]+)$", "getPublicKey", "notification", None),
]


def match_route(method: str, path: str) -> tuple[Route, list[str]] | None:
    """The route and path arguments for a request, or None."""
    for route in ROUTES:
        if route.method != method:
            continue
        m = route.regex.match(path)
        if m:
            return route, [unquote(g) for g in m.groups()]
    return None


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("bearer", "iaf", "token") and value.strip():
        return value.strip()
    return None


class SimHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with daemon threads that remembers its open connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: EbaySimulator) -> None:
        self.sim = sim
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, SimRequestHandler)

    def process_request(self, request, client_address) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open keep-alive connection."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SimRequestHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests (HTTP/1.1 keep-alive)."""

    protocol_version = "HTTP/1.1"
    server: SimHTTPServer
    timeout = 120

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    # ------------------------------------------------------------------ plumbing
    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def _send(self, resp: Response) -> None:
        """Write status line, headers and body in one write (no Nagle/delayed-ACK stalls)."""
        self.send_response(resp.status)
        if resp.status != 204 or resp.body:
            self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for key, value in resp.headers.items():
            self.send_header(key, value)
        buffered = getattr(self, "_headers_buffer", [])
        self._headers_buffer: list[bytes] = []
        self.wfile.write(b"".join(buffered) + b"\r\n" + resp.body)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        sim = self.server.sim
        req = Request(
            self.command, split.path, parse_qs(split.query, keep_blank_values=True), self.headers, body, sim.base_url
        )
        try:
            resp = control(sim, req) if split.path.startswith("/__sim__/") else self._api(sim, req)
        except Exception:
            log.exception("simulator failed on %s %s", self.command, split.path)
            resp = rest_error(500, 500, "SIMULATOR", "APPLICATION", "Internal simulator error")
        if resp is None:
            self.close_connection = True
            return
        self._send(resp)

    def _api(self, sim: EbaySimulator, req: Request) -> Response | None:
        found = match_route(req.method, req.path)
        if found is None:
            sim._record_call(None, "unknown")
            return rest_error(404, 404, "SIMULATOR", "REQUEST", f"No such resource: {req.method} {req.path}")
        route, args = found
        if route.family == "token":
            return _token_call(sim, req)
        if route.family == "consent":
            sim._record_call(None, route.name)
            return sim.consent.authorize(req)
        if route.family == "trading":
            return _trading_call(sim, req)
        if route.family == "analytics":
            return _analytics_call(sim, req, route)
        token = _bearer(req.headers.get("Authorization"))
        name = route.name
        if route.family == "keys":
            sim._record_call(None, name)
            return key_management(sim.signatures, req, sim.tokens.resolve(token), name, args)
        if route.family == "notification":
            # getPublicKey takes an application (client-credentials) token.
            sim._record_call(None, name)
            if sim.tokens.resolve(token) != APPLICATION:
                return invalid_token()
            return public_key_response(sim.notifications, args[0])
        sim._record_call(sim.tokens.account_of_access(token), name)
        rule = sim.faults.pick(name, sim.tokens.account_of_access(token), req.query)
        if rule is not None and rule.kind not in ("slow", "malformed", "body"):
            return _rest_fault(rule, route)
        if rule is not None and rule.kind == "slow":
            time.sleep(rule.delay)
        account = sim.tokens.resolve(token)
        if account is None or account == APPLICATION:
            return invalid_token()
        if lacks_scope(sim.tokens.scopes_of(token), req.path):
            return insufficient_scope()
        if name == "getUser":
            return get_user(
                sim.user_id(account), sim.services.world.gen.seller_id(account), sim.marketplace_of(account)
            )
        if route.domain == rest.FINANCES:
            refused = sim.signatures.check(account, name, req)
            if refused is not None:
                return refused
        if not sim.quotas.spend(account, name, sim.clock.now_ms()):
            return _quota_spent(sim, route)
        assert route.handler is not None, "only the token and Trading routes have no handler"
        resp = route.handler(sim.services, req, account, sim.clock.now_ms(), *args)
        if resp.status == 200:
            sim.churn.after_page(name, account, resp.body, sim.clock.now_ms())
        return _altered(resp, rule)


def _malformed(resp: Response) -> Response:
    body = resp.body or b'{"errors":[]}'
    return Response(200, body[: max(1, len(body) // 2)], resp.content_type, {})


def _altered(resp: Response, rule: FaultRule | None) -> Response:
    """The answer after a "malformed" (truncated) or "body" (replaced) fault; others leave it as is."""
    if rule is not None and rule.kind == "malformed":
        return _malformed(resp)
    if rule is not None and rule.kind == "body":
        assert isinstance(rule.body, bytes)
        return Response(200, rule.body, resp.content_type, {})
    return resp


#: eBay's texts of the request errors a fault may answer with (Inventory API contract, getOffers / getOffer).
REQUEST_ERROR_TEXTS = {
    25706: ("You have provided invalid pagination values.", None),
    25709: ("Invalid value for sku.", "sku"),
    25713: ("This Offer is not available.", None),
}


def _request_error(status: int, error_id: int | None, route: Route) -> Response:
    """A request error of ``status``: eBay's error body for ``error_id``, or a bare answer without one."""
    if error_id is None:
        return Response(status, b"", "application/json", {})
    message, field_name = REQUEST_ERROR_TEXTS.get(error_id, ("The request has errors.", None))
    parameters = None if field_name is None else [{"name": "fieldName", "value": field_name}]
    return rest_error(status, error_id, route.domain, "REQUEST", message, parameters=parameters)


def _rest_fault(rule: FaultRule, route: Route) -> Response | None:
    if rule.kind == "drop":
        return None
    if rule.kind == "expire_token":
        return invalid_token()
    if rule.kind == "429":
        if route.family == "postorder":
            return postorder_error(
                429,
                2001,
                "Too many requests. The request limit has been reached for the resource.",
                headers={"Retry-After": str(rule.retry_after)},
            )
        return rate_limited(rule.retry_after)
    status = int(rule.kind)
    if rule.kind in REQUEST_ERROR_KINDS:
        return _request_error(status, rule.error_id, route)
    if route.family == "postorder":
        return postorder_error(status, 1, "System error. Please try again later.", category="APPLICATION")
    return rest_error(
        status,
        route.error_id,
        route.domain,
        "APPLICATION",
        "There was a problem with an eBay internal system or process. Contact eBay developer support for assistance.",
    )


def _token_call(sim: EbaySimulator, req: Request) -> Response | None:
    form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    refresh = (form.get("refresh_token") or [""])[0]
    named = sim.tokens.account_of_refresh(refresh) if refresh else None
    sim._record_call(named, "token")
    rule = sim.faults.pick("token", named)
    if rule is not None:
        if rule.kind == "drop":
            return None
        if rule.kind == "revoke":
            return oauth_error(400, *INVALID_GRANT)
        if rule.kind == "429":
            return oauth_error(
                429,
                "temporarily_unavailable",
                "Too many requests. Try again later.",
                {"Retry-After": str(rule.retry_after)},
            )
        if rule.kind in ("500", "502", "503", "504"):
            return oauth_error(int(rule.kind), "server_error", "The authorization server had an internal error.")
        if rule.kind == "slow":
            time.sleep(rule.delay)
    resp = _grant(sim, req, form, refresh)
    return _altered(resp, rule)


def _grant(sim: EbaySimulator, req: Request, form: dict[str, list[str]], refresh: str) -> Response:
    if not sim.tokens.check_client(req.headers.get("Authorization")):
        return oauth_error(401, *INVALID_CLIENT)
    if (form.get("grant_type") or [""])[0] == "client_credentials":
        # An application token (eBay's oauth-client-credentials-grant page): no seller, no refresh token.
        return json_response(
            {
                "access_token": sim.tokens.issue(APPLICATION),
                "expires_in": sim.tokens.ttl_seconds,
                "token_type": "Application Access Token",
            }
        )
    grant_type = (form.get("grant_type") or [""])[0]
    if grant_type == "authorization_code":
        return _code_grant(sim, form)
    if grant_type != "refresh_token":
        return oauth_error(400, "unsupported_grant_type", "the grant type is not supported")
    account = sim.tokens.validate_refresh(refresh) if refresh else None
    if account is None:
        return oauth_error(400, *INVALID_GRANT)
    # Scopes asked beyond the grant answer invalid_scope; none asked gives the granted ones
    # (README Wire facts "OAuth scopes").
    asked = frozenset((form.get("scope") or [""])[0].split())
    granted = sim.tokens.granted(account)
    if not asked <= granted:
        return oauth_error(400, *INVALID_SCOPE)
    return json_response(
        {
            "access_token": sim.tokens.issue(account, asked or granted),
            "expires_in": sim.tokens.ttl_seconds,
            "token_type": "User Access Token",
        }
    )


def _code_grant(sim: EbaySimulator, form: dict[str, list[str]]) -> Response:
    """The authorization-code grant (eBay's ``oauth-auth-code-grant-request.html``): a one-time code, same RuName."""
    code, ru_name = (form.get("code") or [""])[0], (form.get("redirect_uri") or [""])[0]
    issued = sim.consent.redeem(code, ru_name) if code else None
    if issued is None:
        return oauth_error(
            400, "invalid_grant", "the provided authorization grant code is invalid or was issued to another client"
        )
    refresh = sim.tokens.grant(issued.account, issued.scopes)
    return json_response(
        {
            "access_token": sim.tokens.issue(issued.account, issued.scopes),
            "expires_in": sim.tokens.ttl_seconds,
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_SECONDS,
            "token_type": "User Access Token",
        }
    )


def _trading_call(sim: EbaySimulator, req: Request) -> Response | None:
    call = (req.headers.get("X-EBAY-API-CALL-NAME") or "").strip() or "Unknown"
    root = parse_body(req.body)
    token = (req.headers.get("X-EBAY-API-IAF-TOKEN") or "").strip() or body_token(root)
    sim._record_call(sim.tokens.account_of_access(token), call)
    now = sim.clock.now_ms()
    rule = sim.faults.pick(call, sim.tokens.account_of_access(token))
    if rule is not None:
        if rule.kind == "drop":
            return None
        if rule.kind == "expire_token":
            return Response(200, failure(call, now, INVALID_TOKEN), XML)
        if rule.kind == "429":
            return Response(200, failure(call, now, RATE_LIMIT), XML)
        if rule.kind in ("500", "502", "503", "504"):
            body = failure(
                call,
                now,
                error(
                    "10007", "Internal error to the application.", "Internal error to the application.", "SystemError"
                ),
            )
            return Response(int(rule.kind), body, XML)
        if rule.kind == "slow":
            time.sleep(rule.delay)
    account = sim.tokens.resolve(token)
    if account is None or lacks_scope(sim.tokens.scopes_of(token), req.path):
        # A token without the base scope is refused like an invalid one (no documented error of its own).
        resp = Response(200, failure(call, now, INVALID_TOKEN), XML)
    elif not sim.quotas.spend(account, call, now):
        resp = Response(200, failure(call, now, RATE_LIMIT), XML)
    elif call not in TRADING_HANDLERS:
        resp = Response(
            200,
            failure(
                call, now, error("2", "Unsupported API call.", f"The API call {call} is not supported by this server.")
            ),
            XML,
        )
    elif root is None:
        resp = Response(
            200, failure(call, now, error("5", "XML Parse error.", "The request body is not valid XML.")), XML
        )
    else:
        resp = Response(200, TRADING_HANDLERS[call](sim.services, root, account, now), XML)
        if child(root, "MessageIDs") is None:  # a listing call, not a GetMyMessages body request
            sim.churn.after_page(call, account, resp.body, now)
    return _altered(resp, rule)


def _quota_spent(sim: EbaySimulator, route: Route) -> Response:
    """The 429 of a call beyond its spent daily quota (Retry-After: the seconds to the reset, when configured)."""
    wait = sim.quotas.seconds_to_reset(sim.clock.now_ms())
    headers = {"Retry-After": str(wait)} if sim.quotas.retry_after else {}
    message = "Too many requests. The request limit has been reached for the resource."
    if route.family == "postorder":
        return postorder_error(429, 2001, message, headers=headers)
    return rest_error(429, 2001, "ACCESS", "REQUEST", message, headers=headers)


def _analytics_call(sim: EbaySimulator, req: Request, route: Route) -> Response:
    """getRateLimits (application token) and getUserRateLimits (user token) of the Developer Analytics API."""
    token = _bearer(req.headers.get("Authorization"))
    holder = sim.tokens.account_of_access(token)
    sim._record_call(None if holder == APPLICATION else holder, route.name)
    account = sim.tokens.resolve(token)
    if account is None:
        return invalid_token()
    application = route.name == "getRateLimits"
    if application != (account == APPLICATION):
        # getRateLimits takes a client-credentials token, getUserRateLimits a user token (Analytics API overview).
        return invalid_token()
    now = sim.clock.now_ms()
    if not sim.quotas.spend(None if application else account, route.name, now):
        return _quota_spent(sim, route)
    body = sim.quotas.report(now, None if application else account, req.q("api_context"), req.q("api_name"))
    if not body["rateLimits"]:
        return Response(204)
    return json_response(body)


# ---------------------------------------------------------------------- control endpoints
def control(sim: EbaySimulator, req: Request) -> Response:
    """Endpoints under ``/__sim__/`` driving a standalone simulator."""
    path, method = req.path, req.method
    if path == "/__sim__/health" and method == "GET":
        return json_response(
            {"status": "ok", "now": iso_ms(sim.clock.now_ms()), "base_url": sim.base_url, "client_id": sim.client_id}
        )
    if path == "/__sim__/calls" and method == "GET":
        calls = [
            {"account": a, "endpoint": e, "count": n}
            for (a, e), n in sorted(sim.calls.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        ]
        return json_response({"calls": calls})
    if path == "/__sim__/calls" and method == "DELETE":
        sim.reset_calls()
        return json_response({"calls": []})
    if path == "/__sim__/faults" and method == "POST":
        try:
            data = json.loads(req.body or b"null")
            rules = [FaultRule.from_dict(d) for d in (data if isinstance(data, list) else [data])]
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        for rule in rules:
            sim.faults.add(rule)
        return json_response({"added": len(rules), "rules": len(sim.faults.rules)})
    if path == "/__sim__/faults" and method == "DELETE":
        sim.faults.clear()
        return json_response({"rules": 0})
    if path == "/__sim__/churn" and method == "POST":
        try:
            data = json.loads(req.body or b"null")
            churn = [ChurnRule.from_dict(d) for d in (data if isinstance(data, list) else [data])]
        except (ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        for one in churn:
            sim.churn.add(one)
        return json_response({"added": len(churn), "rules": len(sim.churn.rules)})
    if path == "/__sim__/churn" and method == "DELETE":
        sim.churn.clear()
        return json_response({"rules": 0})
    if path == "/__sim__/now" and method == "POST":
        try:
            data = json.loads(req.body or b"{}")
            if "now" in data:
                sim.clock.set_now(from_ms(parse_iso(data["now"])))
            if "advance_seconds" in data:
                sim.clock.advance(timedelta(seconds=float(data["advance_seconds"])))
        except (ValueError, TypeError, AttributeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"now": iso_ms(sim.clock.now_ms())})
    if path == "/__sim__/now" and method == "GET":
        return json_response({"now": iso_ms(sim.clock.now_ms())})
    if path.startswith("/__sim__/refresh_token/") and method == "GET":
        account = unquote(path[len("/__sim__/refresh_token/") :])
        return json_response({"account": account, "refresh_token": sim.refresh_token_for(account)})
    if path.startswith("/__sim__/revoke/") and method == "POST":
        account = unquote(path[len("/__sim__/revoke/") :])
        sim.revoke(account)
        return json_response({"account": account, "revoked": True})
    if path.startswith("/__sim__/expire_tokens/") and method == "POST":
        account = unquote(path[len("/__sim__/expire_tokens/") :])
        sim.expire_access_tokens(account)
        return json_response({"account": account, "expired": True})
    if path == "/__sim__/modify_orders" and method == "POST":
        try:
            data = json.loads(req.body or b"{}")
            at = from_ms(parse_iso(data["at"])) if data.get("at") else None
            sim.modify_orders(str(data["account"]), float(data["fraction"]), at)
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response({"ok": True})
    if path.startswith("/__sim__/marketplace/") and method == "POST":
        account = unquote(path[len("/__sim__/marketplace/") :])
        try:
            marketplace = str(json.loads(req.body or b"{}")["marketplace_id"])
        except (ValueError, TypeError, KeyError) as exc:
            return json_response({"error": str(exc)}, 400)
        sim.set_marketplace(account, marketplace)
        return json_response(
            {"account": account, "marketplace_id": marketplace, "signs": sim.signatures.signs(account)}
        )
    return Response(404, b'{"error":"unknown control endpoint"}', JSON)
