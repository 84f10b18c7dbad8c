"""`ebay-pipelines dev` as a test subprocess: start it, wait until it serves, stop it and see what is left.

Importable because pytest puts this folder on sys.path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests

EXE = Path(sys.executable).with_name("ebay-pipelines")
STOP_SECONDS = 30.0
WORKSPACE_QUERY = "{ version workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"


def dev_env(home: Path, drop_prefixes: tuple[str, ...] = ("EBAY_",)) -> dict[str, str]:
    """This environment without the project's variables, with ``DAGSTER_HOME`` set to ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}
    env["DAGSTER_HOME"] = str(home)
    return env


@dataclass(frozen=True)
class StopOutcome:
    """How a stop went: the exit code, how long it took, and what still ran at the deadline."""

    returncode: int | None
    seconds: float
    left_running: list[str]


class DevProcess:
    """One ``ebay-pipelines dev`` process, started directly or as a script's background job.

    A background job of a non-interactive shell (``bash -c 'ebay-pipelines dev & wait'``) starts with
    SIGINT ignored, the way scripts and CI start services; the shell's exit code is then dev's.
    """

    def __init__(self, args: Sequence[str], env: Mapping[str, str], log_path: Path, *, background_job: bool) -> None:
        self.home = Path(env["DAGSTER_HOME"])
        self.pgdata = self.home / "embedded-postgres" / "pgdata"
        self.log_path = log_path
        command = [str(EXE), "dev", *args]
        if background_job:
            command = ["bash", "-c", '"$@" & wait $!', "bash", *command]
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid = self._main_pid() if background_job else self.popen.pid

    def _main_pid(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            children = psutil.Process(self.popen.pid).children()
            if children:
                return children[0].pid
            time.sleep(0.05)
        raise AssertionError("the script did not start ebay-pipelines dev")

    def poll(self) -> int | None:
        """The exit code once dev (or its script) has exited, else None."""
        return self.popen.poll()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_until_serving(self, port: int, seconds: float = 240) -> dict:
        """Wait until the webserver answers GraphQL with the code location loaded; return the answer."""
        return wait_for(lambda: _loaded_workspace(port), seconds, "the webserver and the code location", self)

    def postmaster_pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])

    def ours(self) -> list[psutil.Process]:
        """Running processes with this ``DAGSTER_HOME`` in their environment (the embedded server too)."""
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.environ().get("DAGSTER_HOME") == str(self.home) and _running(proc):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def stop(self, signum: int, seconds: float = STOP_SECONDS) -> StopOutcome:
        """Send ``signum`` to dev's main process and wait up to ``seconds`` for it and everything it started.

        Watched: dev, every descendant it has when the signal is sent, the embedded PostgreSQL
        server, and any other process running with this ``DAGSTER_HOME``. Nothing is killed here.
        """
        main = psutil.Process(self.pid)
        watched = [main, *main.children(recursive=True), psutil.Process(self.postmaster_pid())]
        started = time.monotonic()
        deadline = started + seconds
        os.kill(self.pid, signum)
        try:
            returncode: int | None = self.popen.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            returncode = None
        while time.monotonic() < deadline and _still_running(watched + self.ours()):
            time.sleep(0.2)
        left = [_describe(p) for p in _still_running(watched + self.ours())]
        return StopOutcome(returncode=returncode, seconds=time.monotonic() - started, left_running=left)

    def kill(self) -> None:
        """Kill whatever is left of this dev (clean-up after a failed test)."""
        procs = self.ours()
        if self.poll() is None:  # dev's pid is not reaped yet, so it names dev
            try:
                main = psutil.Process(self.pid)
                procs += [main, *main.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        procs = _still_running(procs)
        for proc in procs:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        if self.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        psutil.wait_procs(procs, timeout=10)


def wait_for(predicate: Callable[[], object], seconds: float, what: str, dev: DevProcess):
    """Poll ``predicate`` every second until it returns a truthy value; fail if dev exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert dev.poll() is None, f"dev exited early:\n{dev.log_tail()}"
        try:
            value = predicate()
        except (requests.RequestException, KeyError, IndexError, TypeError, ValueError):
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}\n{dev.log_tail()}")


def assert_clean_stop(outcome: StopOutcome, dev: DevProcess) -> None:
    """Dev exited 0 within the limit, left nothing running and did not have to force its stop."""
    assert outcome.returncode == 0, f"exit code {outcome.returncode} after {outcome.seconds:.1f} s\n{dev.log_tail()}"
    assert not outcome.left_running, f"still running after {outcome.seconds:.1f} s: {outcome.left_running}"
    assert outcome.seconds <= STOP_SECONDS
    assert not (dev.pgdata / "postmaster.pid").exists(), "embedded server left running"
    assert "WARNING ebay_pipelines.dev_server" not in dev.log_path.read_text(errors="replace"), dev.log_tail()


def _loaded_workspace(port: int) -> dict | None:
    response = requests.post(f"http://127.0.0.1:{port}/graphql", json={"query": WORKSPACE_QUERY}, timeout=5)
    answer = response.json()["data"]
    entries = answer["workspaceOrError"]["locationEntries"]
    return answer if entries and entries[0]["loadStatus"] == "LOADED" else None


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _still_running(procs: list[psutil.Process]) -> list[psutil.Process]:
    unique = {p.pid: p for p in procs}
    return [p for p in unique.values() if _running(p)]


def _describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline())[:160]}"
    except psutil.Error:
        return str(proc.pid)
