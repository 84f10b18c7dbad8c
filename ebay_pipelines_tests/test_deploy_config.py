"""The deployment files in deploy/ say what Dagster and dagster-k8s accept, and the project's queue.

Checked against the pinned libraries themselves: Dagster's instance and workspace schemas, and
dagster-k8s 0.29.27's ``K8sRunLauncher`` config schema. The Helm values must carry the packaged
instance's queue limits (ebay_pipelines/instance/dagster.yaml) in the chart's own words. The
Dockerfile is not built here (no base images offline); it is read.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from ebay_pipelines import settings
from ebay_pipelines.instance import install_grpc_workspace

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PACKAGED = yaml.safe_load((files("ebay_pipelines.instance") / "dagster.yaml").read_text())


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def test_k8s_run_launcher_block_is_valid_for_dagster_k8s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster._config import process_config, resolve_to_config_type
    from dagster._core.instance.config import dagster_instance_config
    from dagster._core.instance.ref import InstanceRef
    from dagster_k8s import K8sRunLauncher

    snippet = yaml.safe_load((DEPLOY / "k8s" / "dagster.yaml").read_text())
    assert set(snippet) == {"run_launcher"}
    # The instance a cluster runs: the packaged configuration plus the run launcher block.
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({**PACKAGED, **snippet}))
    monkeypatch.setenv("EBAY_PIPELINES_DAGSTER_PG_URL", "postgresql://dagster@db/ebay_pipelines_dagster")
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["run_coordinator"] == PACKAGED["run_coordinator"]

    launcher = InstanceRef.from_dir(str(tmp_path)).run_launcher_data
    assert launcher is not None
    assert (launcher.module_name, launcher.class_name) == ("dagster_k8s", "K8sRunLauncher")
    result = process_config(resolve_to_config_type(K8sRunLauncher.config_type()), launcher.config_dict)
    assert result.success, [error.message for error in result.errors or []]
    value = result.value
    assert value["dagster_home"] == "/opt/dagster/dagster_home"
    assert value["env_secrets"] == ["ebay-pipelines-env"]
    assert value["job_namespace"] == "ebay-pipelines" and value.get("job_image") is None
    assert value["run_k8s_config"]["container_config"]["security_context"]["run_as_user"] == 10001

    # A misspelt key is what this check exists for.
    misspelt = {**launcher.config_dict, "env_secret": ["x"]}
    assert not process_config(resolve_to_config_type(K8sRunLauncher.config_type()), misspelt).success


def test_helm_values_carry_the_project_queue_and_image() -> None:
    values = yaml.safe_load((DEPLOY / "k8s" / "values.yaml").read_text())
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert queue["enabled"] and queue["type"] == "QueuedRunCoordinator"
    ours = PACKAGED["run_coordinator"]["config"]
    chart = queue["config"]["queuedRunCoordinator"]
    assert chart["maxConcurrentRuns"] == ours["max_concurrent_runs"]
    assert chart["tagConcurrencyLimits"] == ours["tag_concurrency_limits"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring == {_camel(k): v for k, v in PACKAGED["run_monitoring"].items()}
    assert values["telemetry"] == PACKAGED["telemetry"]

    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["image"]["repository"].endswith("/ebay-pipelines")
    args = deployment["dagsterApiGrpcArgs"]
    assert args[args.index("-m") + 1] == "ebay_pipelines.definitions"
    assert args[args.index("--location-name") + 1] == "ebay_pipelines"
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert deployment["podSecurityContext"]["runAsUser"] == 10001

    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    # The fields of the chart's K8sRunLauncherConfig (helm/dagster/schema/.../run_launcher.py).
    chart_fields = {
        "image",
        "imagePullPolicy",
        "jobNamespace",
        "loadInclusterConfig",
        "kubeconfigFile",
        "envConfigMaps",
        "envSecrets",
        "envVars",
        "volumeMounts",
        "volumes",
        "labels",
        "failPodOnRunFailure",
        "resources",
        "schedulerName",
        "securityContext",
        "runK8sConfig",
    }
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    assert set(k8s) <= chart_fields
    assert set(k8s["runK8sConfig"]) <= {
        "containerConfig",
        "podSpecConfig",
        "podTemplateSpecMetadata",
        "jobSpecConfig",
        "jobMetadata",
    }


def test_grpc_workspace_file_is_the_one_serve_writes(tmp_path: Path) -> None:
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    shipped = DEPLOY / "workspace.grpc.yaml"
    written = install_grpc_workspace(tmp_path, "127.0.0.1", 4000)
    assert yaml.safe_load(shipped.read_text()) == yaml.safe_load(written.read_text())
    [origin] = location_origins_from_yaml_paths([str(shipped)])
    assert isinstance(origin, GrpcServerCodeLocationOrigin)
    assert (origin.host, origin.port, origin.location_name) == ("127.0.0.1", 4000, "ebay_pipelines")


def test_dockerfile_installs_the_package_non_editable_and_runs_as_a_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    instructions = [
        re.sub(r"\s*\\\n\s*", " ", block).strip()
        for block in re.split(r"\n(?=[A-Z]+\s)", re.sub(r"(?m)^#.*\n", "", text))
        if block.strip()
    ]
    stages = [i for i, line in enumerate(instructions) if line.startswith("FROM ")]
    final = instructions[stages[-1] :]
    installs = [line for line in instructions if "pip install" in line]
    assert installs and all(re.search(r"pip install \"?\.(\[k8s\])?\"?", line) for line in installs)
    assert not [line for line in instructions if re.search(r"pip install .*(-e|--editable)\b", line)]
    assert any(line.startswith("COPY --from=build /opt/venv /opt/venv") for line in final)
    assert not [line for line in final if line.startswith("COPY") and "/src" in line]
    [user] = [line for line in final if line.startswith("USER ")]
    assert user.split()[1].split(":")[0] not in ("root", "0")
    assert any("DAGSTER_HOME=/opt/dagster/dagster_home" in line for line in final if line.startswith("ENV "))
    # Run pods batch a step's materializations as `serve` and `dev` do.
    batching = f"{settings.DAGSTER_EVENT_BATCH_ENV}={settings.DAGSTER_EVENT_BATCH_SIZE}"
    assert any(batching in line for line in final if line.startswith("ENV "))
    # Kubernetes sets `args`: an ENTRYPOINT would swallow them.
    assert not [line for line in instructions if line.startswith("ENTRYPOINT")]
    [cmd] = [line for line in final if line.startswith("CMD ")]
    assert cmd.startswith('CMD ["ebay-pipelines", "serve", "code-server", "--host", "0.0.0.0"')
    # The build context holds only what `pip install .` reads.
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[:4] == ["*", "!pyproject.toml", "!README.md", "!ebay_pipelines/"]
