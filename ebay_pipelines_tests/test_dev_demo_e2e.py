"""`ebay-pipelines dev` on a fresh home with the demo: the daemon syncs every family by itself.

Also launches an orders materialization through the webserver's GraphQL API (via
`ebay-pipelines run`) and reads its counts back from the materialization metadata, and checks
that the run queue never ran two runs of one account and family at once.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
import sqlalchemy as sa
from dev_processes import DevProcess, assert_clean_stop, dev_env

from ebay_pipelines.store.database import make_engine
from ebay_pipelines.sync.families import FAMILIES

DEMO_ACCOUNT = "demo-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    response = requests.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables or {}}, timeout=20
    )
    response.raise_for_status()
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def _ebay_engine(home: Path) -> sa.Engine:
    lines = (home / "embedded-postgres" / "pgdata" / "postmaster.pid").read_text().splitlines()
    return make_engine(
        f"postgresql+psycopg2://postgres:@/ebay_pipelines?host={lines[4].strip()}", poolclass=sa.pool.NullPool
    )


def _wait(predicate, seconds: float, what: str, process: DevProcess, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"dev exited early:\n{log.read_text()[-4000:]}"
        try:
            value = predicate()
        except (requests.RequestException, sa.exc.OperationalError, FileNotFoundError, IndexError, KeyError, TypeError):
            value = None
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}\n{log.read_text()[-4000:]}")


def _overlaps(intervals: list[tuple[datetime, datetime]]) -> int:
    """The largest number of intervals open at the same moment."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    open_now = peak = 0
    for _, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def test_dev_demo_backfills_every_family_and_serves_graphql_launches(tmp_path: Path) -> None:
    port = _free_port()
    home = tmp_path / "home"
    env = dev_env(home, drop_prefixes=("EBAY_PIPELINES_", "EBAY_"))
    bin_dir = Path(sys.executable).parent
    log = tmp_path / "dev.log"
    process = DevProcess(["--port", str(port)], env, log, background_job=False)
    try:
        _wait(
            lambda: (
                _graphql(port, "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }")[
                    "workspaceOrError"
                ]["locationEntries"][0]["loadStatus"]
                == "LOADED"
            ),
            240,
            "the code location",
            process,
            log,
        )
        assert "demo: eBay simulator at http://127.0.0.1:" in log.read_text()

        # A manual run through the webserver (what the old POST /ebay/workers/run did).
        today = datetime.now(UTC).date().isoformat()
        _wait(lambda: _dynamic_partitions(home), 120, "the demo account partitions", process, log)
        launched = subprocess.run(
            [
                str(bin_dir / "ebay-pipelines"),
                "run",
                "--account",
                DEMO_ACCOUNT,
                "--api",
                "orders",
                "--dagster-url",
                f"http://127.0.0.1:{port}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert launched.returncode == 0, launched.stderr
        assert "via Dagster at" in launched.stdout and "QUEUED" in launched.stdout
        run_id = launched.stdout.split()[1]
        status_query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
        status = _wait(
            lambda: (
                (s := _graphql(port, status_query, {"id": run_id})["runOrError"]["status"])
                in ("SUCCESS", "FAILURE", "CANCELED")
                and s
            ),
            420,
            "the manual run",
            process,
            log,
        )
        assert status == "SUCCESS"
        materializations = _graphql(
            port,
            """
            query($partition: String!) { assetOrError(assetKey: {path: ["ebay_orders"]}) { ... on Asset {
              assetMaterializations(partitions: [$partition]) { runId partition
                metadataEntries { label ... on IntMetadataEntry { intValue } } } } } }""",
            {"partition": f"{DEMO_ACCOUNT}|{today}"},
        )["assetOrError"]["assetMaterializations"]
        ours = next(m for m in materializations if m["runId"] == run_id)
        entries = {e["label"]: e.get("intValue") for e in ours["metadataEntries"]}
        assert entries["rows_fetched"] >= 0 and entries["api_calls"] >= 1 and entries["pages"] >= 1
        assert entries["rows_upserted"] == entries["rows_inserted"] + entries["rows_updated"]

        # The daemon, by itself, lands at least one partition of every family for the demo account.
        engine = _ebay_engine(home)
        families = {spec.name for spec in FAMILIES}

        def synced_families() -> bool:
            with engine.connect() as conn:
                done = {
                    r[0]
                    for r in conn.execute(
                        sa.text(
                            "select distinct api_family from ebay_worker_run where ebay_account_id = :a and status = 'completed'"
                        ),
                        {"a": DEMO_ACCOUNT},
                    )
                }
            return families <= done

        _wait(synced_families, 600, "every family to complete a run for the demo account", process, log)
        with engine.connect() as conn:
            counts = {
                table: conn.execute(
                    sa.text(f"select count(*) from {table} where ebay_account_id = :a"), {"a": DEMO_ACCOUNT}
                ).scalar()
                for spec in FAMILIES
                for table in spec.tables
            }
            rows = conn.execute(
                sa.text(
                    "select ebay_account_id, api_family, status, started_at, finished_at, summary_json, dagster_run_id, "
                    "partition_key from ebay_worker_run where finished_at is not null"
                )
            ).all()
        engine.dispose()
        snapshots = [t for spec in FAMILIES if not spec.windowed for t in spec.tables]
        assert all(counts[t] > 0 for t in snapshots), counts
        assert sum(counts[t] for spec in FAMILIES if spec.windowed for t in spec.tables) > 0, counts
        completed = [r for r in rows if r.status == "completed"]
        assert completed and all(r.dagster_run_id and "window_from" in r.summary_json for r in completed)
        # The initial backfill went through the queue as range runs: several days in one eBay window.
        ranges = [r for r in completed if ".." in (r.partition_key or "")]
        assert ranges, [r.partition_key for r in completed]
        for r in ranges:
            first, last = r.partition_key.split("|")[1].split("..")
            assert (
                r.summary_json["window_from"] < f"{first}T00:00:00" < f"{last}T00:00:00" <= r.summary_json["window_to"]
            )
        # The run queue kept one run per account and family, and at most two per account.
        by_family: dict[tuple[str, str], list] = {}
        by_account: dict[str, list] = {}
        for r in rows:
            if r.status in ("completed", "error"):
                by_family.setdefault((r.ebay_account_id, r.api_family), []).append((r.started_at, r.finished_at))
                by_account.setdefault(r.ebay_account_id, []).append((r.started_at, r.finished_at))
        assert all(_overlaps(v) == 1 for v in by_family.values())
        assert all(_overlaps(v) <= 2 for v in by_account.values())

        # SIGTERM stops dev, the simulator, the Dagster services, the runs and the embedded server.
        assert_clean_stop(process.stop(signal.SIGTERM), process)
    finally:
        process.kill()


def _dynamic_partitions(home: Path) -> bool:
    lines = (home / "embedded-postgres" / "pgdata" / "postmaster.pid").read_text().splitlines()
    engine = make_engine(
        f"postgresql+psycopg2://postgres:@/dagster?host={lines[4].strip()}", poolclass=sa.pool.NullPool
    )
    try:
        with engine.connect() as conn:
            keys = {
                r[0]
                for r in conn.execute(
                    sa.text("select partition from dynamic_partitions where partitions_def_name = 'ebay_accounts'")
                )
            }
    finally:
        engine.dispose()
    return DEMO_ACCOUNT in keys
