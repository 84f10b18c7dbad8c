"""A one-request local HTTP callback that receives eBay's consent redirect (``accounts connect --listen``).

The RuName's accept URL must reach it (an HTTPS tunnel to it, for instance): eBay's redirect
lands here, the page tells the seller they may close it, and the server stops.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit


class CallbackTimeout(ValueError):
    """No redirect with a code or an error arrived in time."""


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (e.g. ``127.0.0.1:8799``) as a host and a port, or a clear error."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--listen must be HOST:PORT such as 127.0.0.1:8799, not {value!r}")
    return host.strip("[]"), int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        answered = any(k in query for k in ("code", "error", "state", "isAuthSuccessful"))
        body = (
            b"<html><body><p>eBay's answer reached ebay-pipelines; you may close this page.</p></body></html>"
            if answered
            else b"<html><body><p>Waiting for eBay's redirect.</p></body></html>"
        )
        self.send_response(200 if answered else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if answered:
            host, port = self.server.server_address[:2]
            name = host.decode() if isinstance(host, bytes) else host
            self.server.received = f"http://{name}:{port}{self.path}"


class _CallbackServer(HTTPServer):
    received: str | None = None


def wait_for_redirect(host: str, port: int, timeout: float) -> str:
    """Serve ``host:port`` until eBay's redirect arrives (its full URL is returned) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    with _CallbackServer((host, port), _Handler) as server:
        while server.received is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CallbackTimeout(
                    f"no redirect from eBay reached http://{host}:{port} within {timeout:g}s; "
                    "nothing was stored (paste the redirect URL with --redirect-url instead)"
                )
            server.timeout = min(left, 1.0)
            server.handle_request()
        return server.received
