"""Run ``dagster dev`` under ``ebay-pipelines dev`` and turn SIGTERM or SIGINT into its orderly stop.

``dagster dev`` stops in order only on SIGINT (KeyboardInterrupt): it then writes its webserver's
and daemon's shutdown pipes and waits for them. A Python process that starts with SIGINT ignored
(a background job of a script, ``nohup``) installs no KeyboardInterrupt handler, maps SIGTERM to
that same ignored disposition, and hands both on to its children, so a forwarded signal would
stop nothing. The supervisor therefore handles SIGTERM and SIGINT itself and starts ``dagster
dev`` after installing its handlers: a caught signal is reset to SIG_DFL by ``exec``, so the child
Python installs its KeyboardInterrupt handler whatever this process inherited. The child runs in
its own session (a terminal's Ctrl-C reaches only this process) and gets exactly one SIGINT on a
stop request. Once it has exited, the code servers and runs it leaves behind in its process group
get SIGTERM (Dagster's interrupt). SIGTERM and SIGKILL to the group while it still runs, and
SIGKILL to what outlives a SIGTERM, are logged last resorts that make ``dev`` exit 1.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import psutil

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FORCED_STOP_EXIT_CODE = 1


@dataclass(frozen=True)
class StopTimeouts:
    """Seconds to wait after each step of a stop before taking the next one."""

    interrupt: float = 15.0  # after the SIGINT: the orderly stop of dagster dev, its webserver and daemon
    terminate: float = 4.0  # after SIGTERM, and after SIGKILL, to the process group
    leftovers: float = 2.0  # for code servers still shutting down once dagster dev has exited
    runs: float = 8.0  # for interrupted runs (and their code servers) to end after SIGTERM


class DevSupervisor:
    """Owns SIGTERM and SIGINT while active and runs one ``dagster dev`` process to its end.

    Use as a context manager around the whole of ``ebay-pipelines dev``: a stop requested while the
    database is still starting is remembered, and ``dagster dev`` is then not started at all.
    """

    def __init__(self, timeouts: StopTimeouts | None = None) -> None:
        self.timeouts = timeouts or StopTimeouts()
        self.stop_signal: int | None = None
        self.forced = False
        self._process: subprocess.Popen[bytes] | None = None
        self._interrupted = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> DevSupervisor:
        for signum in STOP_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._on_stop_signal)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    @property
    def stop_requested(self) -> bool:
        """True once SIGTERM or SIGINT has been received."""
        return self.stop_signal is not None

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum
        self._interrupt_once()

    def _interrupt_once(self) -> None:
        process = self._process
        if process is None or self._interrupted or process.poll() is not None:
            return
        self._interrupted = True
        process.send_signal(signal.SIGINT)

    def run(self, command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> int:
        """Run ``command`` until it exits or a stop is requested; return the exit code for ``dev``.

        0 after a requested stop that ended in order, 1 when it had to be forced, otherwise the
        child's own exit code (128 + signal number when a signal ended it).
        """
        if not self._previous:
            raise RuntimeError("DevSupervisor.run needs the supervisor entered (its signal handlers installed)")
        if self.stop_requested:
            return 0
        self._process = subprocess.Popen(list(command), cwd=cwd, env=dict(env), start_new_session=True)
        if self.stop_requested:  # a signal arrived while the child was being started
            self._interrupt_once()
        code = self._wait()
        self._stop_leftovers()
        if self.stop_requested:
            return FORCED_STOP_EXIT_CODE if self.forced else 0
        return code if code >= 0 else 128 - code

    def _wait(self) -> int:
        """Wait for the child; after a stop request, wait a bounded time per step, then escalate."""
        process = self._process
        assert process is not None
        while not self.stop_requested:
            try:
                return process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
        name = signal.Signals(self.stop_signal or signal.SIGTERM).name
        log.info("%s received: stopping dagster dev", name)
        for timeout, escalation in (
            (self.timeouts.interrupt, signal.SIGTERM),
            (self.timeouts.terminate, signal.SIGKILL),
        ):
            try:
                return process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.forced = True
                log.warning(
                    "dagster dev did not stop within %.0f s; sending %s to its process group",
                    timeout,
                    signal.Signals(escalation).name,
                )
                _signal_group(process.pid, escalation)
        return process.wait()

    def _stop_leftovers(self) -> None:
        """Stop what ``dagster dev`` leaves running in its group: code servers and their runs.

        ``dagster dev`` asks its code servers to shut down but does not wait for them, and a code
        server waits for the runs it started. Those runs would only fail once the database stops,
        so they are interrupted (SIGTERM, which Dagster handles as an interrupt); SIGKILL is the
        logged last resort.
        """
        process = self._process
        assert process is not None
        if _group_gone(process.pid, self.timeouts.leftovers):
            return
        log.info("interrupting the code servers and runs dagster dev left running")
        _signal_group(process.pid, signal.SIGTERM)
        if _group_gone(process.pid, self.timeouts.runs):
            return
        self.forced = True
        log.warning("processes of dagster dev still run %.0f s after SIGTERM; sending SIGKILL", self.timeouts.runs)
        _signal_group(process.pid, signal.SIGKILL)
        _group_gone(process.pid, self.timeouts.terminate)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds until no process of group ``pgid`` runs; return whether none does."""
    deadline = time.monotonic() + timeout
    while _group_running(pgid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _group_running(pgid: int) -> bool:
    """True while a process of group ``pgid`` runs (exited ones not yet reaped by their parent do not count)."""
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError):
            continue
    return False
