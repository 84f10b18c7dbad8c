"""HTTP request/response values and eBay's error bodies for each API family."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import quote, urlencode

JSON = "application/json"
XML = "text/xml;charset=utf-8"


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    base_url: str

    def q(self, name: str, default: str | None = None) -> str | None:
        """First value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def url(self, **overrides: object) -> str:
        """Absolute URL of this request with some query parameters replaced."""
        pairs: list[tuple[str, str]] = []
        for key, values in self.query.items():
            if key in overrides:
                continue
            pairs.extend((key, v) for v in values)
        pairs.extend((k, str(v)) for k, v in overrides.items() if v is not None)
        qs = urlencode(pairs, quote_via=quote, safe=":")
        return f"{self.base_url}{self.path}" + (f"?{qs}" if qs else "")


@dataclass
class Response:
    """One HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def json_response(obj: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return Response(status, json.dumps(obj, separators=(",", ":")).encode(), JSON, dict(headers or {}))


def rest_error(
    status: int,
    error_id: int,
    domain: str,
    category: str,
    message: str,
    long_message: str | None = None,
    parameters: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A REST ``{"errors": [Error]}`` answer."""
    err: dict = {"errorId": error_id, "domain": domain, "category": category, "message": message}
    if long_message:
        err["longMessage"] = long_message
    if parameters:
        err["parameters"] = parameters
    return json_response({"errors": [err]}, status, headers)


def invalid_token() -> Response:
    """401 for a missing, unknown or expired access token."""
    return rest_error(
        401,
        1001,
        "OAuth",
        "REQUEST",
        "Invalid access token",
        "Invalid access token. Check the value of the Authorization HTTP request header.",
    )


def insufficient_scope() -> Response:
    """403 for a token lacking the scope the method needs (errorId 1100, as eBay answers it)."""
    return rest_error(
        403, 1100, "ACCESS", "REQUEST", "Access denied", "Insufficient permissions to fulfill the request."
    )


def rate_limited(retry_after: int) -> Response:
    """429 with Retry-After."""
    return rest_error(
        429,
        2001,
        "ACCESS",
        "REQUEST",
        "Too many requests. The request limit has been reached for the resource.",
        headers={"Retry-After": str(retry_after)},
    )


def postorder_error(
    status: int,
    error_id: int,
    message: str,
    category: str = "REQUEST",
    domain: str = "API_POSTORDER",
    headers: dict[str, str] | None = None,
) -> Response:
    """A Post-Order ``{"errorMessage": {"error": [...]}}`` answer."""
    return json_response(
        {
            "errorMessage": {
                "error": [
                    {
                        "errorId": error_id,
                        "domain": domain,
                        "severity": "ERROR",
                        "category": category,
                        "message": message,
                        "longMessage": message,
                        "httpStatusCode": status,
                    }
                ]
            }
        },
        status,
        headers,
    )


def oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> Response:
    """An OAuth ``{"error", "error_description"}`` answer."""
    return json_response({"error": error, "error_description": description}, status, headers)


INVALID_GRANT = ("invalid_grant", "the provided authorization refresh token is invalid or was issued to another client")
INVALID_CLIENT = ("invalid_client", "client authentication failed")


def page_links(req: Request, offset: int, limit: int, total: int) -> dict:
    """``href`` plus ``next``/``prev`` (only when such a page exists) for record offsets."""
    links = {"href": req.url(limit=limit, offset=offset)}
    if offset + limit < total:
        links["next"] = req.url(limit=limit, offset=offset + limit)
    if offset > 0:
        links["prev"] = req.url(limit=limit, offset=max(0, offset - limit))
    return links


def parse_int(value: str | None, default: int) -> int | None:
    """``value`` as an int, ``default`` when absent, None when not an integer."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None
