"""`ebay-pipelines dev` stops everything it started on SIGTERM and SIGINT, whatever dispositions it inherited.

Started as a script's background job, dev begins with SIGINT ignored (as under nohup or CI);
started from a terminal, Docker or systemd, with default dispositions. Either way the signal to
its main process must stop `dagster dev`, the webserver, the daemon, the code server and the
embedded PostgreSQL within 30 s, with exit code 0 and no forced kill.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from dev_processes import DevProcess, assert_clean_stop, dev_env

from ebay_pipelines.store import embedded

ATTACH_AND_WAIT = """
import sys, time
from pathlib import Path
from ebay_pipelines.store import embedded
print(embedded.start(Path(sys.argv[1])).pid, flush=True)
time.sleep(600)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("signum", "background_job"),
    [
        pytest.param(signal.SIGTERM, True, id="SIGTERM-script-job-SIGINT-ignored"),
        pytest.param(signal.SIGTERM, False, id="SIGTERM-default-dispositions"),
        pytest.param(signal.SIGINT, False, id="SIGINT-default-dispositions"),
        pytest.param(signal.SIGINT, True, id="SIGINT-script-job-SIGINT-ignored"),
    ],
)
def test_dev_stops_everything_it_started(tmp_path: Path, signum: int, background_job: bool) -> None:
    port = _free_port()
    dev = DevProcess(
        ["--no-demo", "--port", str(port)],
        dev_env(tmp_path / "home"),
        tmp_path / "dev.log",
        background_job=background_job,
    )
    try:
        assert dev.wait_until_serving(port)["version"]
        started = [" ".join(p.cmdline()) for p in psutil.Process(dev.pid).children(recursive=True)]
        for service in ("dagster dev", "dagster_webserver", "dagster._daemon run", "dagster code-server start"):
            assert any(service in cmdline for cmdline in started), (service, started)
        assert embedded.running_pid(dev.pgdata) == dev.postmaster_pid()

        assert_clean_stop(dev.stop(signum), dev)
    finally:
        dev.kill()


def test_embedded_stop_ignores_handles_of_killed_processes(tmp_path: Path) -> None:
    """A user of the embedded server killed without releasing its handle does not keep the server up."""
    data_dir = embedded.data_dir_under(tmp_path / "home")
    first_user = subprocess.Popen(
        [sys.executable, "-c", ATTACH_AND_WAIT, str(data_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert first_user.stdout is not None
        pid = int(first_user.stdout.readline())
        first_user.kill()
        first_user.wait(timeout=30)
        assert embedded.start(data_dir).pid == pid

        embedded.stop(data_dir)  # waits until the server has removed its pid file
        assert embedded.running_pid(data_dir) is None
    finally:
        first_user.kill()
        if (postmaster := embedded.running_pid(data_dir)) is not None:
            psutil.Process(postmaster).send_signal(signal.SIGQUIT)
