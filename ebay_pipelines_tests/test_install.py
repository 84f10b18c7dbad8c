"""The wheel installs non-editable and runs from any folder: migrations and instance config come from the package.

A wheel is built from a copy of the project, installed into a fresh virtual environment that borrows
only the dependencies of the test's environment (never this checkout), and its commands run from an
empty folder against the test's PostgreSQL and the eBay simulator.
"""

from __future__ import annotations

import os
import shutil
import site
import stat
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import drop_database

from ebay_pipelines.store import migrate
from ebay_pipelines.store.database import make_engine
from ebay_pipelines.store.urls import database_name, with_database

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = PROJECT_ROOT / "ebay_pipelines"
#: Folders of a checkout that are tool state, not sources.
NOT_SOURCES = {
    ".git",
    ".venv",
    "build",
    "dist",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".dagster_home",
}
ACCOUNT = "shop-w"
DAY = "2026-10-30"
SECRET = "test-secret-key-for-installed-package"


def _ignore_non_sources(folder: str, names: list[str]) -> set[str]:
    """Skip tool state, build output and anything that is neither a file, a folder nor a link (sockets)."""
    ignored = set()
    for name in names:
        mode = os.lstat(os.path.join(folder, name)).st_mode
        plain = stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)
        if name in NOT_SOURCES or name.endswith(".egg-info") or not plain:
            ignored.add(name)
    return ignored


def _build_wheel(tmp_path: Path) -> Path:
    """Build the project's wheel from a copy of the checkout (so no build output lands in the checkout)."""
    source = tmp_path / "src"
    shutil.copytree(PROJECT_ROOT, source, symlinks=True, ignore=_ignore_non_sources)
    dist = tmp_path / "dist"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--disable-pip-version-check", "-q", "-w", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    [wheel] = dist.glob("ebay_pipelines-*.whl")
    return wheel


def _wheel_venv(tmp_path: Path, wheel: Path) -> Path:
    """A fresh venv holding the wheel, with the test environment's site-packages for the dependencies only."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index"]
        + ["--disable-pip-version-check", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Plain paths in a .pth file join sys.path after the venv's own site-packages, and the .pth files
    # inside them are not processed: the editable install's import hook of this checkout stays off.
    (Path(purelib) / "test_dependencies.pth").write_text("".join(f"{p}\n" for p in site.getsitepackages()))
    return env_dir


def _run(env_dir: Path, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(env_dir / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def _table_names(url: str) -> set[str]:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.fixture
def fresh_database_url(empty_database_url: str, pg_server_url: str) -> Iterator[str]:
    """An empty database for the eBay tables; its Dagster sibling (created by the commands) is dropped after."""
    yield empty_database_url
    drop_database(pg_server_url, f"{database_name(empty_database_url)}_dagster")


def test_wheel_installs_and_runs_from_any_folder(tmp_path: Path, fresh_database_url: str, sim) -> None:
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    versions = {
        f"ebay_pipelines/migrations/versions/{p.name}" for p in (PACKAGE / "migrations" / "versions").glob("*.py")
    }
    assert versions and versions <= names
    assert {
        "ebay_pipelines/migrations/env.py",
        "ebay_pipelines/migrations/script.py.mako",
        "ebay_pipelines/instance/dagster.yaml",
        "ebay_pipelines/py.typed",
    } <= names
    # The OpenAPI and schema documents only tests read are not shipped.
    assert not [n for n in names if "simulator/specs" in n or n.endswith(".json")]
    # The package alone: no test suite beside it.
    assert {n.split("/")[0] for n in names} == {"ebay_pipelines", "ebay_pipelines-0.1.0.dist-info"}

    env_dir = _wheel_venv(tmp_path, wheel)
    python = str(env_dir / "bin" / "python")
    located = subprocess.run(
        [python, "-c", "import ebay_pipelines.store.migrate as m; print(m.__file__); print(m.head_revision())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert located.returncode == 0, located.stderr
    module_file, head = located.stdout.split()
    assert Path(module_file).is_relative_to(env_dir), module_file
    assert head == migrate.head_revision()

    empty = tmp_path / "empty"
    empty.mkdir()
    home = tmp_path / "dagster_home"
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("EBAY_", "DAGSTER_", "PYTHON", "VIRTUAL_ENV"))}
    env = {
        **keep,
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "DAGSTER_HOME": str(home),
        "EBAY_PIPELINES_DATABASE_URL": fresh_database_url,
        "EBAY_PIPELINES_SECRET_KEY": SECRET,
        "EBAY_PIPELINES_STEP_RETRIES": "0",
        "EBAY_API_BASE_URL": sim.base_url,
        "EBAY_CLIENT_ID": sim.client_id,
        "EBAY_CLIENT_SECRET": sim.client_secret,
    }

    migrated = _run(env_dir, ["ebay-pipelines", "migrate"], empty, env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert f"database is at revision {head} (eBay tables: " in migrated.stdout
    assert database_name(fresh_database_url) in migrated.stdout
    assert {"ebay_orders", "order_line_items", "ebay_accounts", migrate.VERSION_TABLE} <= _table_names(
        fresh_database_url
    )
    assert migrate.current_revision(fresh_database_url) == head

    refresh_token = sim.refresh_token_for(ACCOUNT)
    added = _run(
        env_dir,
        ["ebay-pipelines", "accounts", "add", ACCOUNT, "--refresh-token", refresh_token, "--ebay-user-id", "seller_w"],
        empty,
        env,
    )
    assert added.returncode == 0, added.stderr[-3000:]
    assert added.stdout == f"account {ACCOUNT} registered (EBAY_US)\n"
    listing = _run(env_dir, ["ebay-pipelines", "accounts", "list"], empty, env)
    assert listing.returncode == 0, listing.stderr[-3000:]
    [line] = [line for line in listing.stdout.splitlines() if line.startswith(ACCOUNT)]
    # A token made elsewhere: its expiry and granted scopes are not known.
    assert line.split() == [ACCOUNT, "seller_w", "EBAY_US", "yes", "stored", "-", "not", "known"]
    assert refresh_token not in listing.stdout + added.stdout

    synced = _run(
        env_dir,
        ["ebay-pipelines", "run", "--account", ACCOUNT, "--api", "orders", "--day", DAY, "--in-process"],
        empty,
        env,
    )
    assert synced.returncode == 0, synced.stdout[-3000:] + synced.stderr[-3000:]
    assert f"({ACCOUNT}|{DAY}) via this process: completed; fetched " in synced.stdout
    engine = make_engine(fresh_database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            run_row = conn.execute(sa.text("select status, partition_key from ebay_worker_run")).one()
            orders = conn.execute(
                sa.text("select count(*) from ebay_orders where ebay_account_id = :a"), {"a": ACCOUNT}
            ).scalar()
    finally:
        engine.dispose()
    assert tuple(run_row) == ("completed", f"{ACCOUNT}|{DAY}")
    truth = sim.truth.orders(ACCOUNT, datetime(2026, 10, 29, 23, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    assert orders == len(truth) > 0
    # The instance configuration came from the installed package.
    assert (home / "dagster.yaml").read_bytes() == (PACKAGE / "instance" / "dagster.yaml").read_bytes()

    dagster_url = with_database(fresh_database_url, f"{database_name(fresh_database_url)}_dagster")
    validated = _run(
        env_dir,
        ["python", "-m", "dagster", "definitions", "validate", "-m", "ebay_pipelines.definitions"],
        empty,
        {**env, "EBAY_PIPELINES_DAGSTER_PG_URL": dagster_url},
    )
    output = validated.stdout + validated.stderr
    assert validated.returncode == 0, output[-3000:]
    assert "Validation successful for code location ebay_pipelines.definitions" in output
    assert "All code locations passed validation" in output
    # Nothing was read from, or written to, the folder the commands ran in.
    assert list(empty.iterdir()) == []
