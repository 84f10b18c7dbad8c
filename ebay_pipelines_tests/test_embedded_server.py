"""The embedded PostgreSQL server starts, is reused, keeps its data and stops cleanly."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

from ebay_pipelines.store import embedded
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.urls import normalize_url

ATTACH_SCRIPT = """
import sys
from pathlib import Path
from ebay_pipelines.store import embedded
server = embedded.start(Path(sys.argv[1]))
print(server.pid)
"""


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def test_start_reuse_persist_and_stop(tmp_path: Path) -> None:
    data_dir = embedded.data_dir_under(tmp_path / "home")
    first = embedded.start(data_dir)
    assert first.pid is not None and psutil.pid_exists(first.pid)
    assert (data_dir / "PG_VERSION").exists()
    assert embedded.running_pid(data_dir) == first.pid

    again = embedded.start(data_dir)
    assert again.pid == first.pid

    # Another process attaching to the same folder reuses the running server and does not stop it.
    out = subprocess.run(
        [sys.executable, "-c", ATTACH_SCRIPT, str(data_dir)], capture_output=True, text=True, check=True
    )
    assert int(out.stdout.strip().splitlines()[-1]) == first.pid
    assert psutil.pid_exists(first.pid)

    engine = make_engine(normalize_url(first.admin_url), poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        # A fresh folder's server runs with the project's settings from its first start, not PostgreSQL's
        # defaults (128 MB of shared buffers), and was restarted for them before anyone used it.
        for name, value in embedded.settings().items():
            same = "select pg_size_bytes(current_setting(:n)) = pg_size_bytes(:v)"
            assert conn.execute(sa.text(same), {"n": name, "v": value}).scalar(), name
        assert embedded.settings()["shared_buffers"] != "128MB" or psutil.virtual_memory().total < 2 << 30
        conn.execute(sa.text("create table kept (v int)"))
        conn.execute(sa.text("insert into kept values (42)"))
    engine.dispose()

    embedded.stop(data_dir)
    assert _wait_gone(first.pid)
    assert embedded.running_pid(data_dir) is None

    restarted = embedded.start(data_dir)
    assert restarted.pid != first.pid
    engine = make_engine(normalize_url(restarted.admin_url), poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select v from kept")).scalar() == 42
        same = "select pg_size_bytes(current_setting('shared_buffers')) = pg_size_bytes(:v)"
        assert conn.execute(sa.text(same), {"v": embedded.settings()["shared_buffers"]}).scalar()
    engine.dispose()
    embedded.stop(data_dir)
    assert _wait_gone(restarted.pid)


def test_url_for_names_the_database(tmp_path: Path) -> None:
    server = embedded.EmbeddedServer(
        data_dir=tmp_path, pid=None, admin_url="postgresql://postgres:@/postgres?host=/tmp/s"
    )
    assert server.url_for("ebay") == "postgresql://postgres:@/ebay?host=/tmp/s"
