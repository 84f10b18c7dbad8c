"""The Dagster instance configuration shipped in the package, and the workspace ``dagster dev`` loads.

Both are written into the Dagster home folder, so an installed (non-editable) package runs from any
folder: nothing is read from a source checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEFINITIONS_MODULE = "ebay_pipelines.definitions"
LOCATION_NAME = "ebay_pipelines"


def install_instance_config(home: Path) -> Path:
    """Copy the packaged ``dagster.yaml`` into the Dagster home folder and return its path."""
    home.mkdir(parents=True, exist_ok=True)
    destination = home / "dagster.yaml"
    destination.write_bytes((files(__name__) / "dagster.yaml").read_bytes())
    return destination


def install_workspace(home: Path) -> Path:
    """Write a ``workspace.yaml`` that loads the installed package's definitions into ``home``; return its path."""
    home.mkdir(parents=True, exist_ok=True)
    destination = home / "workspace.yaml"
    destination.write_text(
        f"load_from:\n  - python_module:\n      module_name: {DEFINITIONS_MODULE}\n      location_name: {LOCATION_NAME}\n"
    )
    return destination
