"""A fast eBay-compatible server for the ingestion benchmark: the simulator's answers, pre-rendered.

``python -m bench.fastserver '<json config>'`` binds a port, starts an :class:`EbaySimulator` of the
given config in this process (its links name the fast server), asks it over HTTP for every answer
one getOrders window needs — the control endpoint's refresh token, the refresh-token grant, every
page of the window at every record offset (what the client's backward walk and dlt's offset
paginator ask for), and the 401 for an unknown token — keeps each answer as the bytes the simulator
sent (status line, headers, body), stops the simulator and serves those bytes from a minimal
asyncio HTTP/1.1 server with keep-alive. Both servers therefore agree byte for byte; the fast one
spends a dictionary look-up per request, so the client is what a benchmark measures.

Requests are matched on method, path and the parsed query (or form body): parameter order is
free, anything else is answered 404 and counted as a miss (``GET /__sim__/calls`` lists calls and
misses), so a benchmark can prove the client asked exactly what was rendered.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests

from bench.env import CLIENT_ID, CLIENT_SECRET, ROOT, Simulator
from ebay_pipelines.ebay.parsing import format_timestamp
from ebay_pipelines.simulator import EbaySimulator, SimulatorConfig

ORDERS_PATH = "/sell/fulfillment/v1/order"
TOKEN_PATH = "/identity/v1/oauth2/token"
REFRESH_TOKEN_PATH = "/__sim__/refresh_token/"
CALLS_PATH = "/__sim__/calls"

Key = tuple[str, str, tuple[tuple[str, str], ...]]


def request_key(method: str, target: str, body: bytes = b"") -> Key:
    """What identifies a request: method, path and its sorted query (a POST's form body included)."""
    split = urlsplit(target)
    pairs = parse_qsl(split.query, keep_blank_values=True)
    if method == "POST" and body:
        pairs += parse_qsl(body.decode("latin-1"), keep_blank_values=True)
    return method, split.path, tuple(sorted(pairs))


def _raw(response: requests.Response) -> bytes:
    """The whole HTTP answer as bytes: the simulator's status, content type, extra headers and body."""
    skip = {"server", "date", "connection", "content-length", "transfer-encoding", "keep-alive"}
    lines = [f"HTTP/1.1 {response.status_code} {response.reason}"]
    lines += [f"{k}: {v}" for k, v in response.headers.items() if k.lower() not in skip]
    lines.append(f"Content-Length: {len(response.content)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.content


class _Renderer(EbaySimulator):
    """The simulator, except that the links it renders name the fast server."""

    def __init__(self, config: SimulatorConfig, public_url: str) -> None:
        super().__init__(config)
        self.public_url = public_url

    @property
    def base_url(self) -> str:
        return self.public_url


def orders_filter(since: datetime, until: datetime) -> str:
    """The getOrders filter of a ``lastmodifieddate`` window, as the client and dlt send it."""
    return f"lastmodifieddate:[{format_timestamp(since)}..{format_timestamp(until)}]"


def render(
    config: SimulatorConfig,
    public_url: str,
    accounts: list[str],
    since: datetime,
    until: datetime,
    page_size: int = 200,
) -> tuple[dict[Key, bytes], dict[str, str], bytes]:
    """Every answer one window of getOrders needs, as the simulator sends it.

    Returns the answers by request key, the expected ``Authorization`` header of each access
    token (to the account it names), and the simulator's 401 for any other token.
    """
    answers: dict[Key, bytes] = {}
    tokens: dict[str, str] = {}
    with _Renderer(config, public_url) as sim:
        own = f"http://{config.host}:{sim.port}"
        session = requests.Session()
        client = (sim.client_id, sim.client_secret)
        for account in accounts:
            path = REFRESH_TOKEN_PATH + account
            resp = session.get(own + path, timeout=60)
            answers[request_key("GET", path)] = _raw(resp)
            refresh = resp.json()["refresh_token"]
            form = {"grant_type": "refresh_token", "refresh_token": refresh}
            grant = session.post(own + TOKEN_PATH, data=form, auth=client, timeout=60)
            answers[request_key("POST", TOKEN_PATH, urlencode(form).encode())] = _raw(grant)
            token = grant.json()["access_token"]
            tokens[f"Bearer {token}"] = account
            headers = {"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
            query = {"filter": orders_filter(since, until), "limit": page_size}
            offset, total = 0, None
            while total is None or offset < total:
                target = f"{ORDERS_PATH}?{urlencode({**query, 'offset': offset}, quote_via=quote)}"
                resp = session.get(own + target, headers=headers, timeout=600)
                resp.raise_for_status()
                answers[request_key("GET", target)] = _raw(resp)
                total = int(resp.json()["total"])
                offset += page_size
        unauthorized = _raw(session.get(own + ORDERS_PATH, headers={"Authorization": "Bearer none"}, timeout=60))
    return answers, tokens, unauthorized


class FastServer:
    """Serves pre-rendered answers; counts calls per (account, endpoint) and every request it cannot answer."""

    def __init__(self, answers: dict[Key, bytes], tokens: dict[str, str], unauthorized: bytes) -> None:
        self.answers = answers
        self.tokens = tokens
        self.unauthorized = unauthorized
        self.calls: Counter[tuple[str | None, str]] = Counter()
        self.misses: list[str] = []

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        """The bytes answering one request."""
        key = request_key(method, target, body)
        path = key[1]
        if path == CALLS_PATH:
            return self._calls(method)
        if path == ORDERS_PATH:
            account = self.tokens.get(headers.get("authorization", ""))
            self.calls[(account, "getOrders")] += 1
            if account is None:
                return self.unauthorized
        elif path == TOKEN_PATH:
            self.calls[(None, "token")] += 1
        found = self.answers.get(key)
        if found is None:
            self.misses.append(f"{method} {target}")
            return _json(404, {"errors": [{"errorId": 404, "message": f"not pre-rendered: {method} {target}"}]})
        return found

    def _calls(self, method: str) -> bytes:
        if method == "DELETE":
            self.calls.clear()
            self.misses.clear()
            return _json(204, None)
        calls = [{"account": a, "endpoint": e, "count": n} for (a, e), n in sorted(self.calls.items(), key=str)]
        return _json(200, {"calls": calls, "misses": self.misses})


def _json(status: int, body: object) -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    reason = {200: "OK", 204: "No Content", 404: "Not Found"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


class _Connection(asyncio.Protocol):
    """One keep-alive connection: parses requests as they arrive and writes the pre-rendered answers."""

    def __init__(self, server: FastServer) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            method, target, _ = lines[0].split(" ", 2)
            self.transport.write(self.server.answer(method, target, headers, body))
            if headers.get("connection", "").lower() == "close":
                self.transport.close()
                self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def serve(sock: socket.socket, server: FastServer) -> None:
    """Serve on the bound ``sock`` until the process ends."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(lambda: _Connection(server), sock=sock)
        async with listener:
            await listener.serve_forever()

    asyncio.run(main())


def start(accounts: list[str], since: datetime, until: datetime, **options: Any) -> Simulator:
    """Start a fast server process for the window ``[since, until]`` of ``accounts`` (options as :func:`start_simulator`).

    Pre-rendering runs at the simulator's speed (about a minute for 100,000 orders), before any
    measurement; the returned :class:`Simulator` has the same config, so its ``twin`` is the truth.
    """
    options = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "seed": 7, **options}
    config = SimulatorConfig(**options)
    wire = {k: v for k, v in asdict(config).items() if k not in ("host", "port")}
    wire.update(
        now=config.now.isoformat() if config.now else None,
        accounts=accounts,
        since=since.isoformat(),
        until=until.isoformat(),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.fastserver", json.dumps(wire)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise RuntimeError(f"the fast server did not start: {line!r}")
    print(f"  {line.strip()}")
    return Simulator(config=config, process=process, base_url=line.split("listening on ", 1)[1].split()[0])


def misses(server: Simulator) -> list[str]:
    """Requests the fast server could not answer from its pre-rendered pages (none when the client asked as expected)."""
    return list(requests.get(f"{server.base_url}{CALLS_PATH}", timeout=30).json()["misses"])


def main(argv: list[str]) -> int:
    """Bind, pre-render the window the config names, print the URL, serve until killed."""
    from bench.simproc import _exit_with_parent

    _exit_with_parent()
    config: dict[str, Any] = json.loads(argv[0])
    accounts = config.pop("accounts")
    since, until = (datetime.fromisoformat(config.pop(k)) for k in ("since", "until"))
    page_size = int(config.pop("page_size", 200))
    if config.get("now"):
        config["now"] = datetime.fromisoformat(config["now"])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    answers, tokens, unauthorized = render(SimulatorConfig(**config), public_url, accounts, since, until, page_size)
    size = sum(len(a) for a in answers.values())
    print(f"fast eBay server listening on {public_url} ({len(answers)} answers, {size:,} bytes)", flush=True)
    serve(sock, FastServer(answers, tokens, unauthorized))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
