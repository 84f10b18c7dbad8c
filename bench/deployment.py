"""A production-shaped deployment for the benchmarks: ``ebay-pipelines serve`` code server, daemon and webserver.

Each role is its own process group on the benchmark's PostgreSQL server and simulator, with the
project's own ``dagster.yaml`` (QueuedRunCoordinator, its concurrency limits) written by ``serve``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

EXE = Path(sys.executable).with_name("ebay-pipelines")
LOCATION = "ebay_pipelines"
REPOSITORY = "__repository__"
SCHEDULES_QUERY = """query($selector: RepositorySelector!) { schedulesOrError(repositorySelector: $selector) {
  ... on Schedules { results { id name scheduleState { status } } } } }"""
STOP_SCHEDULE = """mutation($id: String!) { stopRunningSchedule(id: $id) {
  __typename ... on PythonError { message } } }"""
START_SCHEDULE = """mutation($selector: ScheduleSelector!) { startSchedule(scheduleSelector: $selector) {
  __typename ... on PythonError { message } } }"""


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Deployment:
    """Code server, daemon and webserver started with ``env``; :meth:`stop` ends every process they started."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.code_port = free_port()
        self.web_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}

    def _start(self, role: str, *args: str) -> None:
        with open(self.log_dir / f"{role}.log", "wb") as log:
            self.processes[role] = subprocess.Popen(
                [str(EXE), "serve", role, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_code_server(self) -> None:
        """Start the code server (it loads the definitions and launches every run's worker)."""
        self._start("code-server", "--port", str(self.code_port))

    def start(self, timeout_s: float = 180, before_daemon: Callable[[], None] | None = None) -> None:
        """Start the roles not yet started; return once the webserver has loaded the code server's definitions.

        ``before_daemon`` runs once the code server serves (Dagster's storage exists), before any sensor.
        """
        if "code-server" not in self.processes:
            self.start_code_server()
        self.wait(self._code_server_up, timeout_s, "the code server")
        if before_daemon is not None:
            before_daemon()
        code_server = f"127.0.0.1:{self.code_port}"
        self._start("webserver", "--port", str(self.web_port), "--code-server", code_server)
        self._start("daemon", "--code-server", code_server)
        self.wait(self._webserver_up, timeout_s, "the webserver")

    def _code_server_up(self) -> bool:
        from dagster._grpc.client import DagsterGrpcClient

        try:
            return DagsterGrpcClient(port=self.code_port, host="127.0.0.1").ping("up")["echo"] == "up"
        except Exception:  # the gRPC client raises its own errors until the server listens
            return False

    def _webserver_up(self) -> bool:
        query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
        entries = self.graphql(query)["workspaceOrError"]["locationEntries"]
        return [e["loadStatus"] for e in entries] == ["LOADED"]

    def wait(self, predicate: Callable[[], Any], seconds: float, what: str, interval: float = 1.0) -> Any:
        """Poll ``predicate`` until truthy; fail at once when a role exits, or after ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for role, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"serve {role} exited ({process.returncode}); see {self.log_dir / role}.log")
            try:
                value = predicate()
            except (requests.RequestException, KeyError, TypeError):
                value = None
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Ask the webserver; its data, or an error naming what it said."""
        response = requests.post(
            f"http://127.0.0.1:{self.web_port}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if "errors" in body:
            raise RuntimeError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def set_schedules(self, running: bool) -> int:
        """Start or stop every schedule of the project; how many changed."""
        selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
        schedules = self.graphql(SCHEDULES_QUERY, {"selector": selector})["schedulesOrError"]["results"]
        changed = 0
        for schedule in schedules:
            is_running = schedule["scheduleState"]["status"] == "RUNNING"
            if is_running == running:
                continue
            if running:
                self.graphql(START_SCHEDULE, {"selector": {**selector, "scheduleName": schedule["name"]}})
            else:
                self.graphql(STOP_SCHEDULE, {"id": schedule["id"]})
            changed += 1
        return changed

    def submit(self, job_name: str, tags: dict[str, str]) -> str:
        """Queue a run of ``job_name`` with ``tags`` as the UI would; its run id."""
        from dagster_graphql import DagsterGraphQLClient

        client = DagsterGraphQLClient("127.0.0.1", port_number=self.web_port, timeout=60)
        return client.submit_job_execution(job_name, repository_location_name=LOCATION, tags=tags)

    def pids(self) -> list[int]:
        """The roles' process ids."""
        return [p.pid for p in self.processes.values()]

    def stop(self) -> None:
        """SIGTERM the daemon first (nothing new starts), then the rest; SIGKILL whatever lingers."""
        for role in ("daemon", "webserver", "code-server"):
            process = self.processes.get(role)
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
