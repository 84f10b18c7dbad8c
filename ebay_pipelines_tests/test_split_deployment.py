"""The split deployment: code server, webserver and daemon as separate processes, syncing one account.

Each role is ``ebay-pipelines serve ROLE``, started as a script's background job (SIGINT ignored, the
way scripts and CI start services) on the test's PostgreSQL server, with the eBay simulator as eBay.
The webserver and the daemon reach the definitions only through the code server's gRPC port; the
daemon's sensor adds the account, a run launched through the webserver waits in the daemon's queue,
the code server starts its worker, the rows land in PostgreSQL and the webserver reports SUCCESS.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
import sqlalchemy as sa
from tests_support import create_dagster_database, register_account

from ebay_pipelines.store.database import make_engine

EXE = Path(sys.executable).with_name("ebay-pipelines")
ACCOUNT = "shop-split"
DAY = "2026-10-30"
STOP_SECONDS = 30.0
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")
RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) { ... on Run {
  status
  repositoryOrigin { repositoryLocationName repositoryLocationMetadata { key value } }
  } } }"""
RUNS_QUERY = """query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
  results { runId status } } } }"""
DAEMONS_QUERY = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }"
WORKSPACE_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Role:
    """One ``ebay-pipelines serve ROLE`` process, a script's background job in its own process group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.stopped = False
        command = ["bash", "-c", '"$@" & wait $!', "bash", str(EXE), "serve", name, *args]
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self.pid = self._job_pid()
        except BaseException:
            self.kill()
            raise

    def _job_pid(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            children = psutil.Process(self.popen.pid).children()
            if children:
                return children[0].pid
            time.sleep(0.05)
        raise AssertionError(f"the script did not start serve {self.name}")

    def log_tail(self, chars: int = 3000) -> str:
        return f"--- {self.name} ---\n" + self.log_path.read_text(errors="replace")[-chars:]

    def group(self) -> list[psutil.Process]:
        """Running processes of this role's process group (the role, and the runs a code server starts)."""
        found = []
        for proc in psutil.process_iter(["status"]):
            try:
                if os.getpgid(proc.pid) == self.popen.pid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    found.append(proc)
            except (ProcessLookupError, PermissionError):
                continue
        return found

    def stop(self) -> tuple[int | None, float, list[str]]:
        """SIGTERM to the role; its exit code, the seconds it took, and what of its group still ran after."""
        started = time.monotonic()
        self.stopped = True
        os.kill(self.pid, signal.SIGTERM)
        try:
            code: int | None = self.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        while self.group() and time.monotonic() - started < STOP_SECONDS:
            time.sleep(0.2)
        left = [" ".join(p.cmdline())[:120] for p in self.group()]
        return code, time.monotonic() - started, left

    def kill(self) -> None:
        """Clean-up after a failed test: SIGKILL to whatever of the group still runs."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=30)


class Deployment:
    """The three roles, started and watched together; every process is ended on the way out."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.roles: dict[str, Role] = {}
        self.code_port = _free_port()
        self.web_port = _free_port()

    def start(self, name: str, *args: str) -> Role:
        role = Role(name, list(args), self.env, self.tmp_path / f"{name}.log")
        self.roles[name] = role
        return role

    def logs(self) -> str:
        return "\n".join(role.log_tail() for role in self.roles.values())

    def wait(self, predicate: Callable[[], Any], seconds: float, what: str, interval: float = 0.5) -> Any:
        """Poll ``predicate`` until it returns a truthy value; fail at once if a role exits."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for role in self.roles.values():
                assert role.stopped or role.popen.poll() is None, f"serve {role.name} exited early\n{self.logs()}"
            try:
                value = predicate()
            except (requests.RequestException, sa.exc.OperationalError, KeyError, IndexError, TypeError):
                value = None
            if value:
                return value
            time.sleep(interval)
        raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}\n{self.logs()}")

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = requests.post(
            f"http://127.0.0.1:{self.web_port}/graphql", json={"query": query, "variables": variables or {}}, timeout=20
        )
        response.raise_for_status()
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    def runs(self, **run_filter: Any) -> list[dict]:
        return self.graphql(RUNS_QUERY, {"filter": run_filter})["runsOrError"]["results"]

    def kill_all(self) -> None:
        for role in self.roles.values():
            role.kill()


@pytest.fixture
def deployment(tmp_path: Path, ebay_env: str, pg_server_url: str) -> Iterator[Deployment]:
    """The environment of a split deployment on the test's databases and simulator; killed whatever happens."""
    create_dagster_database(pg_server_url, ebay_env)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PYTHON"))}
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    # The sensor's initial backfill of the account: one run per tick keeps the 2-core machine calm.
    env["EBAY_PIPELINES_BACKFILL_RUNS_PER_TICK"] = "1"
    split = Deployment(tmp_path, env)
    try:
        yield split
    finally:
        split.kill_all()


def _code_server_serving(port: int) -> bool:
    from dagster._grpc.client import DagsterGrpcClient

    try:
        return DagsterGrpcClient(port=port, host="127.0.0.1").ping("split")["echo"] == "split"
    except Exception:  # the gRPC client raises its own errors until the server listens
        return False


def _account_partition_added(dagster_url: str) -> bool:
    engine = make_engine(dagster_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            keys = conn.execute(
                sa.text("select partition from dynamic_partitions where partitions_def_name = 'ebay_accounts'")
            ).scalars()
            return ACCOUNT in set(keys)
    finally:
        engine.dispose()


def _run_record(dagster_url: str, run_id: str) -> tuple[list[str], dict]:
    """The run's Dagster event types in order, and the gRPC server its launcher started it on."""
    engine = make_engine(dagster_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            events = conn.execute(
                sa.text("select dagster_event_type from event_logs where run_id = :r order by id"), {"r": run_id}
            ).scalars()
            grpc_info = conn.execute(
                sa.text("select value from run_tags where run_id = :r and key = '.dagster/grpc_info'"), {"r": run_id}
            ).scalar_one()
            return [e for e in events if e], json.loads(grpc_info)
    finally:
        engine.dispose()


@pytest.mark.timeout(480)
def test_split_deployment_syncs_an_account_through_the_queue_and_the_code_server(
    deployment: Deployment, ebay_env: str, engine: sa.Engine, sim, tmp_path: Path
) -> None:
    from ebay_pipelines.store.database import resolve_target

    dagster_url = resolve_target(start_embedded=False).dagster_url
    register_account(engine, sim, ACCOUNT)

    deployment.start("code-server", "--port", str(deployment.code_port))
    deployment.wait(lambda: _code_server_serving(deployment.code_port), 120, "the code server")
    code_server = f"127.0.0.1:{deployment.code_port}"
    # Started together: they create Dagster's tables under one lock and load the code server's definitions.
    deployment.start("webserver", "--port", str(deployment.web_port), "--code-server", code_server)
    deployment.start("daemon", "--code-server", code_server)
    entries = deployment.wait(
        lambda: deployment.graphql(WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"], 120, "the webserver"
    )
    assert [(e["name"], e["loadStatus"]) for e in entries] == [("ebay_pipelines", "LOADED")]
    home = Path(deployment.env["DAGSTER_HOME"])
    assert (home / "workspace.grpc.yaml").read_text().count("grpc_server") == 1

    # The daemon evaluates the accounts sensor on the code server: the account becomes a partition.
    deployment.wait(lambda: _account_partition_added(dagster_url), 120, "the accounts sensor to add the account")

    launched = subprocess.run(
        [str(EXE), "run", "--account", ACCOUNT, "--api", "orders", "--day", DAY]
        + ["--dagster-url", f"http://127.0.0.1:{deployment.web_port}"],
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert launched.returncode == 0, launched.stdout + launched.stderr
    assert "via Dagster at" in launched.stdout and launched.stdout.rstrip().endswith("QUEUED"), launched.stdout
    run_id = launched.stdout.split()[1]

    def finished() -> dict | None:
        run = deployment.graphql(RUN_QUERY, {"id": run_id})["runOrError"]
        return run if run["status"] in TERMINAL else None

    run = deployment.wait(finished, 180, "the launched run")
    assert run["status"] == "SUCCESS", deployment.logs()
    # Queued by the webserver, taken from the queue by the daemon (only its run coordinator starts a
    # queued run), launched on the code server: so says Dagster's own storage in PostgreSQL (the
    # event log, stored under its legacy PIPELINE_ names, and the launcher's tag).
    events, launched_on = _run_record(dagster_url, run_id)
    assert events.index("PIPELINE_ENQUEUED") < events.index("PIPELINE_STARTING") < events.index("PIPELINE_START")
    assert events.index("PIPELINE_START") < events.index("PIPELINE_SUCCESS")
    assert launched_on == {"host": "127.0.0.1", "port": deployment.code_port}
    daemons = deployment.graphql(DAEMONS_QUERY)["instance"]["daemonHealth"]["allDaemonStatuses"]
    healthy = {d["daemonType"] for d in daemons if d["healthy"]}
    assert {"QUEUED_RUN_COORDINATOR", "SENSOR", "SCHEDULER"} <= healthy, daemons
    origin = run["repositoryOrigin"]
    assert origin["repositoryLocationName"] == "ebay_pipelines"
    assert {m["key"]: m["value"] for m in origin["repositoryLocationMetadata"]} == {
        "host": "127.0.0.1",
        "port": str(deployment.code_port),
    }

    with engine.connect() as conn:
        run_row = conn.execute(
            sa.text(
                "select status, partition_key from ebay_worker_run where dagster_run_id = :r and api_family = 'orders'"
            ),
            {"r": run_id},
        ).one()
        orders = conn.execute(
            sa.text("select count(*) from ebay_orders where ebay_account_id = :a"), {"a": ACCOUNT}
        ).scalar()
    assert tuple(run_row) == ("completed", f"{ACCOUNT}|{DAY}")
    truth = sim.truth.orders(ACCOUNT, datetime(2026, 10, 29, 23, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    assert orders == len(truth) > 0

    # The sensor requested the account's initial backfill through the same daemon.
    assert deployment.runs(tags=[{"key": "dagster/sensor_name", "value": "ebay_accounts_sensor"}]), deployment.logs()

    # Stop in order: the daemon (nothing new starts), the runs still going, the webserver, the code server.
    outcomes = {"daemon": deployment.roles["daemon"].stop()}
    in_flight = ["STARTING", "STARTED", "CANCELING"]
    deployment.wait(lambda: not deployment.runs(statuses=in_flight), 180, "the runs in flight to end", interval=1)
    for name in ("webserver", "code-server"):
        outcomes[name] = deployment.roles[name].stop()
    for name, (code, seconds, left) in outcomes.items():
        assert code == 0 and not left, f"{name}: exit {code} after {seconds:.1f} s, left {left}\n{deployment.logs()}"


def _serve(*args: str):
    from click.testing import CliRunner

    from ebay_pipelines.cli import main

    return CliRunner().invoke(main, ["serve", *args])


def test_serve_refuses_without_a_configured_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EBAY_PIPELINES_DATABASE_URL", raising=False)
    result = _serve("daemon")
    assert result.exit_code == 1
    assert result.output == (
        "Error: serve needs EBAY_PIPELINES_DATABASE_URL: a split deployment shares one PostgreSQL "
        "(the embedded server is for `ebay-pipelines dev`)\n"
    )
    assert not (tmp_path / "home").exists()


def test_serve_refuses_a_bad_code_server_address(project_env: Path) -> None:
    result = _serve("webserver", "--code-server", "localhost")
    assert result.exit_code == 1
    assert result.output == "Error: expected HOST:PORT (e.g. 127.0.0.1:4000), not 'localhost'\n"


def test_code_server_refuses_an_unmigrated_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, empty_database_url: str, pg_server_url: str
) -> None:
    from conftest import drop_database

    from ebay_pipelines.store import migrate
    from ebay_pipelines.store.urls import database_name

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EBAY_PIPELINES_DATABASE_URL", empty_database_url)
    try:
        result = _serve("code-server")
    finally:
        drop_database(pg_server_url, f"{database_name(empty_database_url)}_dagster")
    assert result.exit_code == 1
    assert result.output == (
        f"Error: the eBay tables are at revision none, this package needs {migrate.head_revision()}: "
        "run `ebay-pipelines migrate` first\n"
    )
