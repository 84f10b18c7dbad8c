"""The Dagster instance configuration shipped in the package, and the workspaces the Dagster processes load.

Both are written into the Dagster home folder, so an installed (non-editable) package runs from any
folder: nothing is read from a source checkout.
"""

from __future__ import annotations

import os
import tempfile
from importlib.resources import files
from pathlib import Path

DEFINITIONS_MODULE = "ebay_pipelines.definitions"
LOCATION_NAME = "ebay_pipelines"


def install_instance_config(home: Path) -> Path:
    """Copy the packaged ``dagster.yaml`` into the Dagster home folder and return its path."""
    home.mkdir(parents=True, exist_ok=True)
    destination = home / "dagster.yaml"
    _write_atomically(destination, (files(__name__) / "dagster.yaml").read_bytes())
    return destination


def install_workspace(home: Path) -> Path:
    """Write a ``workspace.yaml`` that loads the installed package's definitions into ``home``; return its path."""
    home.mkdir(parents=True, exist_ok=True)
    destination = home / "workspace.yaml"
    destination.write_text(
        f"load_from:\n  - python_module:\n      module_name: {DEFINITIONS_MODULE}\n      location_name: {LOCATION_NAME}\n"
    )
    return destination


def install_grpc_workspace(home: Path, host: str, port: int) -> Path:
    """Write ``workspace.grpc.yaml`` into ``home``: the code location served by a code server at ``host:port``."""
    home.mkdir(parents=True, exist_ok=True)
    destination = home / "workspace.grpc.yaml"
    text = (
        f"load_from:\n  - grpc_server:\n      host: {host!r}\n      port: {int(port)}\n"
        f"      location_name: {LOCATION_NAME}\n"
    )
    _write_atomically(destination, text.encode())
    return destination


def _write_atomically(destination: Path, content: bytes) -> None:
    """Replace ``destination`` in one step: processes starting together never read a half-written file."""
    fd, temporary = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
