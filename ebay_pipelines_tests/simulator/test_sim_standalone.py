"""``python -m ebay_pipelines.simulator`` serves real HTTP as a separate process."""

from __future__ import annotations

import base64
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

CLIENT_ID, CLIENT_SECRET = "standalone-client", "standalone-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ebay_pipelines.simulator",
            "--port",
            str(port),
            "--seed",
            "7",
            "--now",
            "2026-11-01T12:00:00Z",
            "--client-id",
            CLIENT_ID,
            "--client-secret",
            CLIENT_SECRET,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(base + "/__sim__/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "simulator did not start"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            out = proc.stdout.read()
            proc.stdout.close()
            proc.stderr.close()
    assert "listening on" in out and CLIENT_SECRET not in out


def test_standalone_token_then_orders(server: str, fulfillment_spec) -> None:
    refresh = requests.get(f"{server}/__sim__/refresh_token/acct-1", timeout=5).json()["refresh_token"]
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    grant = requests.post(
        f"{server}/identity/v1/oauth2/token",
        timeout=5,
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        data=f"grant_type=refresh_token&refresh_token={requests.utils.quote(refresh, safe='')}"
        "&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment",
    )
    assert grant.status_code == 200, grant.text
    token = grant.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
    url = (
        f"{server}/sell/fulfillment/v1/order?filter=lastmodifieddate:%5B2026-10-01T00:00:00.000Z.."
        "2026-10-31T00:00:00.000Z%5D&limit=50"
    )
    resp = requests.get(url, headers=headers, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    body = resp.json()
    fulfillment_spec.check("OrderSearchPagedCollection", body)
    assert body["total"] > 50 and body["next"].startswith(server)

    assert (
        requests.post(
            f"{server}/__sim__/faults", json={"kind": "503", "endpoint": "getOrders", "times": 1}, timeout=5
        ).status_code
        == 200
    )
    assert requests.get(url, headers=headers, timeout=10).status_code == 503
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    calls = requests.get(f"{server}/__sim__/calls", timeout=5).json()["calls"]
    assert {"account": "acct-1", "endpoint": "getOrders", "count": 3} in calls
    assert (
        requests.post(f"{server}/__sim__/now", json={"advance_seconds": 7300}, timeout=5).json()["now"]
        == "2026-11-01T14:01:40.000Z"
    )
    assert requests.get(url, headers=headers, timeout=10).status_code == 401
