"""Benchmark 7: a window asset's partitions page and the backfill daemon at fleet scale.

Month grain (``EBAY_PIPELINES_PARTITION_GRAIN=month``), ``EBAY_PIPELINES_START_DATE`` two years back
and N accounts as ``ebay_accounts`` partitions: accounts × 25 months per window asset. Dagster's
storage is PostgreSQL; the code server and the webserver are ``ebay-pipelines serve code-server`` and
``serve webserver``, as production runs them.

- statuses of ``ebay_orders``: most partitions materialized (runless materializations stored through
  Dagster's batch write, 1,000 events a batch), some failed (planned in runs that failed), the rest
  missing;
- the asset's partitions page (``/assets/ebay_orders?view=partitions``) in headless Chromium, from
  navigation until the partition health bar and the partition list are drawn: the first load (fresh
  browser, Dagster's status cache for the asset not yet built) and three more (median); the page's
  own partition-health GraphQL query, timed directly;
- a backfill of every partition of the orders family launched over GraphQL (``launchPartitionBackfill``,
  ``allPartitions``) with the daemon running on the packaged instance configuration but
  ``max_concurrent_runs: 0`` (runs stay queued, nothing calls eBay): how long the backfill daemon takes
  to submit its runs, and how many (bounded in time; the rate is reported when the bound is hit).

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium chromium-driver``)
and ``selenium`` (the ``bench`` extra); nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests

from bench.env import CLIENT_ID, CLIENT_SECRET, SECRET_KEY, patched_environ, postgres_server
from bench.report import Stopwatch, table

NAME = "partitions_page"
SIZES = {
    "full": {"accounts": 1000, "backfill_timeout_s": 600},
    "small": {"accounts": 100, "backfill_timeout_s": 300},
    "tiny": {"accounts": 5, "backfill_timeout_s": 120},
}
FAMILY = "orders"
ASSET = "ebay_orders"
#: Shares of the partitions that failed and that were never synced; the rest are materialized.
FAILED_SHARE, MISSING_SHARE = 0.02, 0.03
PARTITIONS_PER_FAILED_RUN = 25
EVENT_BATCH = 1000
HISTORY_YEARS = 2
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1000",
)
#: What the page draws only once the asset's partition statuses arrived: the health bar's coloured
#: segments, the status legend's "Materialized (N)" and the partition list's rows with status dots.
DRAWN_SCRIPT = """
const rows = [...document.querySelectorAll("[class*='AssetEventList_assetListRow']")];
const label = [...document.querySelectorAll('label')].map(l => l.textContent).find(t => t.startsWith('Materialized ('));
return {
  now: performance.now(),
  segments: document.querySelectorAll("[class*='PartitionStatusBar_colorSpan']").length,
  rows: rows.length,
  dots: rows.filter(r => [...r.querySelectorAll('div')].some(d => d.style.borderRadius === '100%')).length,
  materialized: label ? Number(label.replace(/[^0-9]/g, '')) : null,
};
"""
PAGE_TIMEOUT_S = 180
SERVER_TIMEOUT_S = 240
PAGE_LOADS = 3
EXE = Path(sys.executable).with_name("ebay-pipelines")

LOCATION_QUERY = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
INSTIGATORS_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  sensors { name sensorState { id status } } schedules { name scheduleState { id status } } } } } }"""
STOP_SENSOR = """mutation($id: String) { stopSensor(id: $id) { __typename
  ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"""
STOP_SCHEDULE = """mutation($id: String) { stopRunningSchedule(id: $id) { __typename
  ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }"""
LAUNCH_BACKFILL = """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message stack } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_years_back(today: date) -> date:
    """The same day ``HISTORY_YEARS`` years before ``today`` (28 February for a 29th)."""
    try:
        return today.replace(year=today.year - HISTORY_YEARS)
    except ValueError:
        return today.replace(year=today.year - HISTORY_YEARS, day=28)


def environment(ebay_url: str, dagster_url: str, home: Path, start: date) -> dict[str, str]:
    """The project's variables for the bench deployment: month grain, two years of history, no eBay."""
    return {
        "EBAY_PIPELINES_DATABASE_URL": ebay_url,
        "EBAY_PIPELINES_DAGSTER_DATABASE_URL": dagster_url,
        "EBAY_PIPELINES_DAGSTER_PG_URL": dagster_url,
        "EBAY_PIPELINES_PARTITION_GRAIN": "month",
        "EBAY_PIPELINES_START_DATE": start.isoformat(),
        "EBAY_CLIENT_ID": CLIENT_ID,
        "EBAY_CLIENT_SECRET": CLIENT_SECRET,
        "EBAY_PIPELINES_SECRET_KEY": SECRET_KEY,
        # Nothing here calls eBay (runs are never launched); a closed port makes sure of it.
        "EBAY_API_BASE_URL": "http://127.0.0.1:9",
        "DAGSTER_HOME": str(home),
    }


@dataclass
class Process:
    """A process this benchmark started, in its own process group, its output in a log file."""

    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, chars: int = 3000) -> str:
        """The end of its log."""
        return f"--- {self.name} ---\n" + self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM to its group, SIGKILL after 30 s."""
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=30)


@contextmanager
def processes() -> Iterator[Callable[[str, list[str], dict[str, str], Path], Process]]:
    """Start processes with the returned function; every one is stopped on the way out, last first."""
    started: list[Process] = []

    def start(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Process:
        log = log_dir / f"{name}.log"
        with open(log, "wb") as out:
            popen = subprocess.Popen(
                command, cwd=log_dir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        started.append(Process(name, popen, log))
        return started[-1]

    try:
        yield start
    finally:
        for process in reversed(started):
            process.stop()


def graphql(port: int, query: str, variables: dict[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
    """POST a GraphQL query to the webserver; its ``data`` (errors raise)."""
    response = requests.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    return body["data"]


def wait_for_location(port: int, watched: list[Process]) -> float:
    """Seconds until the webserver answers with the code location loaded (any watched process exiting fails)."""
    started = time.monotonic()
    while time.monotonic() - started < SERVER_TIMEOUT_S:
        for process in watched:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited early\n{process.tail()}")
        try:
            entries = graphql(port, LOCATION_QUERY, timeout=5)["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return time.monotonic() - started
        except (requests.RequestException, RuntimeError, KeyError, TypeError):
            pass
        time.sleep(1)
    raise RuntimeError("the webserver did not load the code location\n" + "\n".join(p.tail() for p in watched))


# --- partition statuses -------------------------------------------------------------------------


def account_ids(accounts: int) -> list[str]:
    """The bench's account ids."""
    return [f"fleet-{i:04d}" for i in range(accounts)]


def populate(instance: Any, accounts: int, start: date, seed: int = 7) -> dict[str, Any]:
    """Register the accounts as partitions and give ``ebay_orders`` materialized, failed and missing partitions."""
    import dagster as dg

    from ebay_pipelines.defs.partitions import ACCOUNTS_PARTITION, window_partitions

    with Stopwatch() as add:
        instance.add_dynamic_partitions(ACCOUNTS_PARTITION, account_ids(accounts))
    keys = window_partitions(start, "month").get_partition_keys(dynamic_partitions_store=instance)
    rng = random.Random(seed)
    failed, materialized = [], []
    for key in keys:
        draw = rng.random()
        if draw < FAILED_SHARE:
            failed.append(key)
        elif draw >= FAILED_SHARE + MISSING_SHARE:
            materialized.append(key)
    asset_key = dg.AssetKey(ASSET)
    with Stopwatch() as fail_time:
        failed_runs = _record_failed_runs(instance, asset_key, failed)
    with Stopwatch() as materialize_time:
        _store_materializations(instance, asset_key, materialized)
    return {
        "partitions": len(keys),
        "months": len(keys) // max(accounts, 1),
        "materialized": len(materialized),
        "failed": len(failed),
        "failed_runs": failed_runs,
        "missing": len(keys) - len(materialized) - len(failed),
        "add_accounts_s": add.seconds,
        "record_failed_s": fail_time.seconds,
        "store_materializations_s": materialize_time.seconds,
    }


def _store_materializations(instance: Any, asset_key: Any, partition_keys: Sequence[str]) -> None:
    """Runless materializations of ``partition_keys``, written ``EVENT_BATCH`` at a time by Dagster's batch write."""
    import logging

    import dagster as dg
    from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
    from dagster._core.events.log import EventLogEntry
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID

    for first in range(0, len(partition_keys), EVENT_BATCH):
        entries = []
        for key in partition_keys[first : first + EVENT_BATCH]:
            event = DagsterEvent(
                event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
                event_specific_data=StepMaterializationData(
                    dg.AssetMaterialization(asset_key=asset_key, partition=key)
                ),
                job_name=RUNLESS_JOB_NAME,
            )
            entries.append(
                EventLogEntry(
                    user_message="",
                    level=logging.INFO,
                    job_name=RUNLESS_JOB_NAME,
                    run_id=RUNLESS_RUN_ID,
                    error_info=None,
                    timestamp=time.time(),
                    step_key=None,
                    dagster_event=event,
                )
            )
        instance.event_log_storage.store_event_batch(entries)


def _record_failed_runs(instance: Any, asset_key: Any, partition_keys: Sequence[str]) -> int:
    """Failed runs of the orders job, each planning ``PARTITIONS_PER_FAILED_RUN`` partitions it never materialized."""
    from dagster._core.events import AssetMaterializationPlannedData, DagsterEvent, DagsterEventType
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
    from dagster._core.utils import make_new_run_id

    job = f"sync_{FAMILY}_job"
    runs = 0
    for first in range(0, len(partition_keys), PARTITIONS_PER_FAILED_RUN):
        run = instance.add_run(DagsterRun(job_name=job, run_id=make_new_run_id(), status=DagsterRunStatus.FAILURE))
        for key in partition_keys[first : first + PARTITIONS_PER_FAILED_RUN]:
            instance.report_dagster_event(
                DagsterEvent(
                    event_type_value=DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value,
                    job_name=job,
                    event_specific_data=AssetMaterializationPlannedData(asset_key, partition=key),
                ),
                run_id=run.run_id,
            )
        runs += 1
    return runs


# --- the page in a browser ----------------------------------------------------------------------


def browser(profile: Path) -> Any:
    """Headless Chromium through Debian's chromedriver, with a fresh profile and the network log on."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            raise RuntimeError(f"{path} is missing: apt-get install -y chromium chromium-driver")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def page_load(driver: Any, url: str, materialized: int) -> dict[str, Any]:
    """Open ``url`` and poll (every 50 ms) until the statuses are drawn; seconds from navigation start.

    Drawn: health-bar segments, list rows with status dots, and the legend counting ``materialized``.
    """
    started = time.monotonic()
    driver.get(url)
    load_event = time.monotonic() - started
    while True:
        seen = driver.execute_script(DRAWN_SCRIPT)
        if seen["segments"] and seen["dots"] and seen["materialized"] == materialized:
            break
        if time.monotonic() - started > PAGE_TIMEOUT_S:
            raise RuntimeError(f"the partitions page was not drawn in {PAGE_TIMEOUT_S} s: {seen}")
        time.sleep(0.05)
    return {
        "drawn_s": seen["now"] / 1000,
        "wall_s": time.monotonic() - started,
        "load_event_s": load_event,
        "segments": seen["segments"],
        "rows_drawn": seen["rows"],
    }


def graphql_requests(driver: Any) -> list[dict[str, Any]]:
    """The GraphQL requests the page sent since the last call (operation name and body), from the network log."""
    sent = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        request = message["params"]["request"]
        if request["url"].split("?")[0].endswith("/graphql") and request.get("postData"):
            try:
                body = json.loads(request["postData"])
            except ValueError:
                continue
            sent.append(body)
    return sent


def measure_page(port: int, profile: Path, materialized: int, screenshot: Path | None) -> dict[str, Any]:
    """First load and ``PAGE_LOADS`` more of the partitions page, and the page's health query timed directly."""
    url = f"http://127.0.0.1:{port}/assets/{ASSET}?view=partitions"
    driver = browser(profile)
    try:
        first = page_load(driver, url, materialized)
        operations = graphql_requests(driver)
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        again = [page_load(driver, url, materialized) for _ in range(PAGE_LOADS)]
    finally:
        driver.quit()
    health = [op for op in operations if "PartitionHealth" in (op.get("operationName") or "")]
    if not health:
        raise RuntimeError(f"the page sent no partition-health query: {[op.get('operationName') for op in operations]}")
    query = health[0]
    direct = []
    for _ in range(PAGE_LOADS):
        with Stopwatch() as sw:
            data = graphql(port, query["query"], query.get("variables"))
        direct.append(sw.seconds)
    return {
        "url": url,
        "first_load_s": first["drawn_s"],
        "first_load_event_s": first["load_event_s"],
        "first_load_wall_s": first["wall_s"],
        "health_bar_segments": first["segments"],
        "rows_drawn": first["rows_drawn"],
        "warm_loads_s": [a["drawn_s"] for a in again],
        "warm_median_s": statistics.median(a["drawn_s"] for a in again),
        "graphql_operations": dict(Counter(op.get("operationName") or "?" for op in operations)),
        "health_query": query.get("operationName"),
        "health_query_s": direct,
        "health_query_median_s": statistics.median(direct),
        "health_query_bytes": len(json.dumps(data)),
    }


# --- the backfill daemon ------------------------------------------------------------------------


def stop_instigators(port: int) -> int:
    """Stop every schedule and sensor through the UI's mutations, so the daemon works on the backfill alone."""
    stopped = 0
    for repo in graphql(port, INSTIGATORS_QUERY)["repositoriesOrError"]["nodes"]:
        for sensor in repo["sensors"]:
            result = graphql(port, STOP_SENSOR, {"id": sensor["sensorState"]["id"]})["stopSensor"]
            if result.get("instigationState", {}).get("status") != "STOPPED":
                raise RuntimeError(f"sensor {sensor['name']} did not stop: {result}")
            stopped += 1
        for schedule in repo["schedules"]:
            result = graphql(port, STOP_SCHEDULE, {"id": schedule["scheduleState"]["id"]})["stopRunningSchedule"]
            if result.get("scheduleState", {}).get("status") != "STOPPED":
                raise RuntimeError(f"schedule {schedule['name']} did not stop: {result}")
            stopped += 1
    return stopped


def paused_queue_config(home: Path) -> None:
    """The packaged instance configuration in ``home`` with the run queue's global cap at 0 (runs stay queued)."""
    path = home / "dagster.yaml"
    text = path.read_text()
    marker = "max_concurrent_runs: 4"
    if marker not in text:
        raise RuntimeError(f"{path} has no {marker!r} to pause")
    path.write_text(text.replace(marker, "max_concurrent_runs: 0"))


def measure_backfill(port: int, instance: Any, timeout_s: float) -> dict[str, Any]:
    """Backfill every partition of the orders family; seconds until the daemon submitted every run (bounded)."""
    import dagster as dg
    from dagster._core.storage.tags import BACKFILL_ID_TAG

    from ebay_pipelines.sync.families import family

    tables = family(FAMILY).tables
    params = {"assetSelection": [{"path": [t]} for t in tables], "allPartitions": True}
    with Stopwatch() as launch:
        result = graphql(port, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"launchPartitionBackfill: {result}")
    backfill_id = result["backfillId"]
    runs_filter = dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id})
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    first_run_s = None
    target = requested = 0
    while True:
        elapsed = time.monotonic() - started
        runs = instance.get_runs_count(runs_filter)
        samples.append((elapsed, runs))
        if runs and first_run_s is None:
            first_run_s = elapsed
        data = instance.get_backfill(backfill_id).asset_backfill_data
        if data is not None:
            target = data.target_subset.num_partitions_and_non_partitioned_assets
            requested = data.requested_subset.num_partitions_and_non_partitioned_assets
        if target and requested >= target:
            break
        if elapsed > timeout_s:
            break
        time.sleep(5)
    done = target > 0 and requested >= target
    wall = samples[-1][0]
    queued = instance.get_runs_count(
        dg.RunsFilter(tags={BACKFILL_ID_TAG: backfill_id}, statuses=[dg.DagsterRunStatus.QUEUED])
    )
    runs = samples[-1][1]
    # The steady rate: from the first run to the last sample.
    after_first = [(t, n) for t, n in samples if first_run_s is not None and t >= first_run_s]
    rate = (
        (after_first[-1][1] - after_first[0][1]) / (after_first[-1][0] - after_first[0][0])
        if len(after_first) > 1 and after_first[-1][0] > after_first[0][0]
        else None
    )
    return {
        "backfill_id": backfill_id,
        "launch_mutation_s": launch.seconds,
        "target_asset_partitions": target,
        "requested_asset_partitions": requested,
        "all_submitted": done,
        "submit_all_s": wall if done else None,
        "bounded_at_s": None if done else timeout_s,
        "first_run_s": first_run_s,
        "runs": runs,
        "runs_queued": queued,
        "runs_per_s": rate,
        "samples": samples[:: max(1, len(samples) // 40)],
    }


# --- the whole benchmark ------------------------------------------------------------------------


def run(accounts: int = 1000, backfill_timeout_s: float = 600, screenshot: Path | None = None) -> dict[str, Any]:
    """Set up the fleet's partitions, time the partitions page and the backfill daemon; return the figures."""
    import dagster as dg

    from ebay_pipelines import serve
    from ebay_pipelines.defs.partitions import PARTITIONS_CEILING

    today = datetime.now(UTC).date()
    start = two_years_back(today)
    result: dict[str, Any] = {"size": {"accounts": accounts, "grain": "month", "start_date": start.isoformat()}}
    with (
        postgres_server() as pg,
        tempfile.TemporaryDirectory(prefix="ebay-bench-partitions-") as tmp,
        processes() as start_process,
    ):
        work = Path(tmp)
        home = work / "dagster"
        ebay_url = pg.create_database("partitions")
        dagster_url = pg.create_database("partitions_dagster", migrated=False)
        env = {**os.environ, **environment(ebay_url, dagster_url, home, start)}
        code_port, web_port = _free_port(), _free_port()
        code = start_process("code-server", [str(EXE), "serve", "code-server", "--port", str(code_port)], env, work)
        web = start_process(
            "webserver",
            [str(EXE), "serve", "webserver", "--port", str(web_port), "--code-server", f"127.0.0.1:{code_port}"],
            env,
            work,
        )
        result["servers_up_s"] = wait_for_location(web_port, [code, web])
        with patched_environ(environment(ebay_url, dagster_url, home, start)), dg.DagsterInstance.get() as instance:
            with Stopwatch() as populate_time:
                result["statuses"] = populate(instance, accounts, start)
            result["statuses"]["total_s"] = populate_time.seconds
            partitions = result["statuses"]["partitions"]
            assert partitions < PARTITIONS_CEILING, f"{partitions:,} partitions: over {PARTITIONS_CEILING:,}"
            print(f"{ASSET}: {partitions:,} partitions ({accounts} accounts × {result['statuses']['months']} months)")
            result["load_average_1m"] = {"page": round(os.getloadavg()[0], 2)}
            result["page"] = measure_page(
                web_port, work / "chromium-profile", result["statuses"]["materialized"], screenshot
            )
            result["instigators_stopped"] = stop_instigators(web_port)
            paused_queue_config(home)
            daemon_command = serve.command(
                serve.DAEMON, home, serve.Address("127.0.0.1", 0), serve.Address("127.0.0.1", code_port)
            )
            daemon = start_process("daemon", daemon_command, env, work)
            time.sleep(2)
            if daemon.popen.poll() is not None:
                raise RuntimeError(f"the daemon exited\n{daemon.tail()}")
            result["load_average_1m"]["backfill_start"] = round(os.getloadavg()[0], 2)
            result["backfill"] = measure_backfill(web_port, instance, backfill_timeout_s)
            result["load_average_1m"]["backfill_end"] = round(os.getloadavg()[0], 2)
    return result


def render(result: dict[str, Any]) -> str:
    """The benchmark's table."""
    st, page, bf = result["statuses"], result["page"], result["backfill"]
    rows = [
        [
            f"{ASSET} partitions ({result['size']['accounts']} accounts × {st['months']} months)",
            f"{st['partitions']:,}",
        ],
        ["  materialized / failed / missing", f"{st['materialized']:,} / {st['failed']:,} / {st['missing']:,}"],
        ["partitions page, first load (s)", round(page["first_load_s"], 2)],
        [f"partitions page, {PAGE_LOADS} more loads, median (s)", round(page["warm_median_s"], 2)],
        [f"{page['health_query']} query alone, median (s)", round(page["health_query_median_s"], 3)],
        ["backfill: asset partitions targeted", f"{bf['target_asset_partitions']:,}"],
        ["backfill: runs submitted", f"{bf['runs']:,}"],
        [
            "backfill: seconds to submit every run"
            if bf["all_submitted"]
            else f"backfill: not done in {bf['bounded_at_s']:.0f} s",
            round(bf["submit_all_s"], 1) if bf["all_submitted"] else "-",
        ],
        ["backfill: runs submitted per second", round(bf["runs_per_s"], 1) if bf["runs_per_s"] else "-"],
    ]
    return table("Partitions at fleet scale", ["what", "figure"], rows)
