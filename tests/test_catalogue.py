"""Tests of the agent catalogue: agents.json's shape, identification of every agent from a manifest
modelled on what its vendor ships, the migrated signals, and the cases where nothing may be guessed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from plugin import catalogue
from plugin.catalogue import identify, image_repository, load_catalogue

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = Path(__file__).resolve().parent / "manifests" / "agents"
MIGRATED = MANIFESTS / "migrated"
DATA = ROOT / "plugin" / "agents.json"

# Every agent of the shared agents.md table, with the catalogue ids that cover it.
AGENTS_MD = {
    "Datadog Agent": ["datadog-agent"],
    "Falco": ["falco"],
    "Sysdig agent": ["sysdig-agent", "sysdig-node-analyzer"],
    "New Relic infrastructure": ["newrelic-infrastructure"],
    "New Relic logging": ["newrelic-logging"],
    "Dynatrace OneAgent": ["dynatrace-oneagent"],
    "Aqua Enforcer": ["aqua-enforcer"],
    "Prisma Cloud Defender (Twistlock)": ["prisma-cloud-defender"],
    "SignalFx Smart Agent": ["signalfx-smart-agent"],
    "Splunk OTel Collector": ["splunk-otel-collector"],
    "Splunk Connect for Kubernetes": ["splunk-connect-kubernetes"],
    "Fluentd daemonset": ["fluentd-kubernetes-daemonset"],
    "Fluent Bit": ["fluent-bit"],
    "Promtail": ["promtail"],
    "Filebeat": ["filebeat"],
    "Metricbeat": ["metricbeat"],
    "cAdvisor": ["cadvisor"],
    "Prometheus node-exporter": ["node-exporter"],
    "Weave Scope": ["weave-scope"],
    "Instana agent": ["instana-agent"],
    "AppDynamics machine agent": ["appdynamics-machine-agent"],
    "LogDNA / Mezmo agent": ["mezmo-agent"],
    "Sumo Logic collection": ["sumologic-collection"],
    "Sematext agent": ["sematext-agent"],
    "Honeycomb agent": ["honeycomb-agent"],
    "Lacework agent": ["lacework-agent"],
    "CrowdStrike image analyzer": ["crowdstrike-image-analyzer", "crowdstrike-falcon-sensor"],
    "NeuVector enforcer": ["neuvector-enforcer"],
    "StackRox / Red Hat ACS collector": ["stackrox-collector"],
    "Wavefront collector": ["wavefront-collector"],
    "Portainer agent": ["portainer-agent"],
    "CI runners binding the host socket": ["gitlab-runner", "jenkins-agent", "docker-cli"],
    "kubectl-flame (JVM)": ["kubectl-flame"],
    "Tracee": ["tracee"],
}

# The agents issue 16 added (the cloud vendors', telemetry, security and CI candidates it names).
ISSUE_16 = [
    "aws-cloudwatch-agent", "aws-for-fluent-bit", "azure-monitor-containers", "alibaba-logtail", "fluentd-gcp",
    "fluentd-elasticsearch-addon", "opentelemetry-collector", "elastic-agent", "grafana-agent", "grafana-alloy",
    "vector", "telegraf", "netdata", "logspout", "scalyr-agent", "solarwinds-snap-agent", "qualys-container-sensor",
    "neuvector-controller", "kubearmor", "trivy", "aqua-scanner", "deepfence-agent", "pixie-pem",
    "nvidia-container-toolkit", "watchtower", "traefik-docker-provider", "argo-workflows-executor",
    "hyperledger-fabric-peer", "node-problem-detector", "drone-runner-docker", "actions-runner-controller",
    "buildkite-agent", "teamcity-agent", "woodpecker-agent", "jenkins-controller", "azure-pipelines-agent",
    "bitbucket-pipelines-runner",
]

# The plugin's own workloads, rated like node-exporter: deploy/node-probe.yaml reads the host's /.
OWN = ["dockershim-node-probe"]

# The image names agents.md lists, as a pod would spell them, and the agent each must identify.
AGENTS_MD_IMAGES = [
    ("gcr.io/datadoghq/agent:7.50.0", "datadog-agent"),
    ("datadog/agent:7", "datadog-agent"),
    ("datadog/docker-dd-agent:latest", "datadog-agent"),
    ("falcosecurity/falco:0.37.1", "falco"),
    ("falcosecurity/falco-driver-loader:0.37.1", "falco"),
    ("quay.io/sysdig/agent:12.0.0", "sysdig-agent"),
    ("sysdig/agent-slim:12.0.0", "sysdig-agent"),
    ("sysdig/agent-kmodule:12.0.0", "sysdig-agent"),
    ("newrelic/infrastructure-k8s:2.13.0", "newrelic-infrastructure"),
    ("newrelic/infrastructure-bundle:3.2.0", "newrelic-infrastructure"),
    ("newrelic/nri-kubernetes:3.28.0", "newrelic-infrastructure"),
    ("newrelic/newrelic-fluentbit-output:1.14.2", "newrelic-logging"),
    ("dynatrace/oneagent:1.207", "dynatrace-oneagent"),
    ("abc12345.live.dynatrace.com/linux/oneagent:latest", "dynatrace-oneagent"),
    ("aquasec/enforcer:2022.4", "aqua-enforcer"),
    ("registry.aquasec.com/enforcer:2022.4", "aqua-enforcer"),
    ("registry-auth.twistlock.com/tw_x/twistlock/defender:defender_22_12_585", "prisma-cloud-defender"),
    ("quay.io/signalfx/signalfx-agent:5.27.3", "signalfx-smart-agent"),
    ("quay.io/signalfx/splunk-otel-collector:0.92.0", "splunk-otel-collector"),
    ("splunk/fluentd-hec:1.3.3", "splunk-connect-kubernetes"),
    ("splunk/k8s-metrics:1.2.1", "splunk-connect-kubernetes"),
    ("fluent/fluentd-kubernetes-daemonset:v1.16-debian-elasticsearch8-1", "fluentd-kubernetes-daemonset"),
    ("fluent/fluentd:v1.16-1", "fluentd-kubernetes-daemonset"),
    ("cr.fluentbit.io/fluent/fluent-bit:2.2.2", "fluent-bit"),
    ("grafana/promtail:2.9.3", "promtail"),
    ("docker.elastic.co/beats/filebeat:8.12.0", "filebeat"),
    ("docker.elastic.co/beats/metricbeat:8.12.0", "metricbeat"),
    ("gcr.io/cadvisor/cadvisor:v0.47.2", "cadvisor"),
    ("google/cadvisor:v0.33.0", "cadvisor"),
    ("quay.io/prometheus/node-exporter:v1.7.0", "node-exporter"),
    ("prom/node-exporter:v1.7.0", "node-exporter"),
    ("weaveworks/scope:1.13.2", "weave-scope"),
    ("icr.io/instana/agent:latest", "instana-agent"),
    ("appdynamics/machine-agent:24.3.0", "appdynamics-machine-agent"),
    ("logdna/logdna-agent:latest", "mezmo-agent"),
    ("sematext/agent:latest", "sematext-agent"),
    ("sematext/logagent:3.0.77", "sematext-agent"),
    ("sematext/sematext-agent-docker:latest", "sematext-agent"),
    ("honeycombio/honeycomb-kubernetes-agent:2.1.2", "honeycomb-agent"),
    ("lacework/datacollector:5.5.0", "lacework-agent"),
    ("registry.crowdstrike.com/falcon-imageanalyzer/us-1/release/falcon-imageanalyzer:1.0.9",
     "crowdstrike-image-analyzer"),
    ("neuvector/enforcer:5.2.4", "neuvector-enforcer"),
    ("stackrox/collector:3.1.25", "stackrox-collector"),
    ("collector.stackrox.io/collector:3.1.25-latest", "stackrox-collector"),
    ("wavefronthq/wavefront-kubernetes-collector:1.13.0", "wavefront-collector"),
    ("portainer/agent:2.19.4", "portainer-agent"),
    ("registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v16.5.0", "gitlab-runner"),
    ("jenkins/inbound-agent:3107.v665000b_51092-15", "jenkins-agent"),
    ("docker:24.0.7-cli", "docker-cli"),
    ("docker:24-dind", "docker-cli"),
    ("verizondigital/kubectl-flame:v0.2.4-jvm", "kubectl-flame"),
    ("aquasec/tracee:0.19.0", "tracee"),
]

# For each agent: the container whose image identifies it in tests/manifests/agents/<id>.yaml, and
# words the guidance must contain (the concrete setting, flag or env var to change).
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "datadog-agent": ("agent", ("criSocketPath", "DD_CRI_SOCKET_PATH")),
    "falco": ("falco", ("--cri", "containerEngine")),
    "sysdig-agent": ("sysdig", ("/run",)),
    "sysdig-node-analyzer": ("sysdig-image-analyzer", ("containerdSocketPath", "criSocketPath")),
    "newrelic-infrastructure": ("newrelic-infrastructure", ("3.x",)),
    "newrelic-logging": ("newrelic-logging", ("criEnabled", "LOG_PARSER")),
    "dynatrace-oneagent": ("dynatrace-oneagent", ("Container monitoring",)),
    "aqua-enforcer": ("aqua-agent", ("Enforcer Group",)),
    "prisma-cloud-defender": ("twistlock-defender", ("--container-runtime", "DEFENDER_TYPE=cri")),
    "signalfx-smart-agent": ("signalfx-agent", ("docker-container-stats", "kubelet-metrics")),
    "splunk-otel-collector": ("otel-collector", ("containerRuntime",)),
    "splunk-connect-kubernetes": ("splunk-fluentd-k8s-logs", ("logFormatType=cri",)),
    "fluentd-kubernetes-daemonset": ("fluentd", ("FLUENT_CONTAINER_TAIL_PARSER_TYPE=cri",)),
    "fluent-bit": ("fluent-bit", ("multiline.parser docker, cri",)),
    "promtail": ("promtail", ("cri: {}", "Alloy")),
    "filebeat": ("filebeat", ("type: container", "add_kubernetes_metadata")),
    "metricbeat": ("metricbeat", ("kubernetes module", "containerd module")),
    "cadvisor": ("cadvisor", ("--docker_only", "--containerd=")),
    "node-exporter": ("node-exporter", ("No change",)),
    "weave-scope": ("scope-agent", ("--probe.cri=true",)),
    "instana-agent": ("instana-agent", ("sensor",)),
    "appdynamics-machine-agent": ("machine-agent", ("APPDYNAMICS_CONTAINERD_ENABLED",)),
    "mezmo-agent": ("logdna-agent", ("v2",)),
    "sumologic-collection": ("otelcol", ("Docker_Mode",)),
    "sematext-agent": ("sematext-agent", ("--k8sContainerd", "LOG_GLOB")),
    "honeycomb-agent": ("honeycomb-agent", ("/var/log/pods",)),
    "lacework-agent": ("lacework", ("5.7.0",)),
    "crowdstrike-image-analyzer": ("falcon-image-analyzer", ("agentRuntime=containerd", "agentRuntime=crio")),
    "crowdstrike-falcon-sensor": ("falcon-node-sensor", ("No change",)),
    "neuvector-enforcer": ("neuvector-enforcer-pod", ("5.3.0", "containerd.enabled")),
    "stackrox-collector": ("collector", ("4.x",)),
    "wavefront-collector": ("wavefront-collector", ("No change",)),
    "portainer-agent": ("portainer-agent", ("Kubernetes agent",)),
    "gitlab-runner": ("helper", ("dind", "kaniko")),
    "jenkins-agent": ("jnlp", ("dind", "DOCKER_HOST=tcp://")),
    "docker-cli": ("build", ("dind", "DOCKER_HOST=tcp://")),
    "kubectl-flame": ("kubectl-flame", ("--docker-path", "kubectl-prof")),
    "tracee": ("tracee", ("--enrichment",)),
    # Added for issue 16: cloud vendors' node agents, telemetry, security, platforms and CI.
    "aws-cloudwatch-agent": ("cloudwatch-agent", ('containerd.sock', 'amazon-cloudwatch-observability')),
    "aws-for-fluent-bit": ("fluent-bit", ('multiline.parser docker, cri', 'Parser cri')),
    "azure-monitor-containers": ("omsagent", ('ama-logs', 'enable-addons')),
    "alibaba-logtail": ("logtail", ('logtail-ds', 'containerd')),
    "fluentd-gcp": ("fluentd-gcp", ('CRI regexp', '/var/log/pods')),
    "fluentd-elasticsearch-addon": ("fluentd-es", ('cri parser', 'FLUENT_CONTAINER_TAIL_PARSER_TYPE=cri')),
    "opentelemetry-collector": ("opentelemetry-collector", ('type: container', 'kubeletstats')),
    "elastic-agent": ("elastic-agent-standalone", ('container parser', 'add_kubernetes_metadata')),
    "grafana-agent": ("grafana-agent", ('stage.cri', 'loki.source.kubernetes', 'Alloy')),
    "grafana-alloy": ("alloy", ('stage.cri', 'alloy.mounts.dockercontainers=false')),
    "vector": ("vector", ('kubernetes_logs', 'docker_logs')),
    "telegraf": ("telegraf-ds", ('inputs.kubernetes', 'kubernetes_pod_container')),
    "netdata": ("netdata", ('Helm chart', 'Kubernetes API')),
    "logspout": ("logspout", ('/var/log/pods', 'Fluent Bit')),
    "scalyr-agent": ("scalyr-agent", ('/var/log/pods', 'CRI')),
    "solarwinds-snap-agent": ("swisnap-agent-ds", ('cri plugin', 'containerd.sock')),
    "qualys-container-sensor": ("qualys-container-sensor", ('qcs-sensor Helm chart', 'containerd')),
    "neuvector-controller": ("neuvector-controller-pod", ('5.3.0', 'containerd.enabled=true')),
    "kubearmor": ("kubearmor", ('CRI_SOCKET', 'containerd.sock')),
    "trivy": ("trivy", ('--image-src containerd', '--image-src remote')),
    "aqua-scanner": ("aqua-scanner", ('registries', 'Enforcer Group')),
    "deepfence-agent": ("deepfence-agent", ('mountContainerRuntimeSocket.containerdSock=true', 'crioSock=true')),
    "pixie-pem": ("pem", ('No change needed',)),
    "nvidia-container-toolkit": ("nvidia-container-toolkit-ctr", ('operator.defaultRuntime=containerd', 'CONTAINERD_SOCKET')),
    "watchtower": ("watchtower", ('Flux', 'Keel')),
    "traefik-docker-provider": ("traefik", ('--providers.kubernetescrd', 'IngressRoute')),
    "argo-workflows-executor": ("wait", ('containerRuntimeExecutor: emissary', '3.4')),
    "hyperledger-fabric-peer": ("peer", ('chaincode as a service', 'CORE_CHAINCODE_EXTERNALBUILDERS')),
    "node-problem-detector": ("node-problem-detector", ('docker-monitor.json', 'custom plugin monitor')),
    "drone-runner-docker": ("runner", ('drone-runner-kube', 'type: kubernetes')),
    "actions-runner-controller": ("runner", ('containerMode.type=dind', 'containerMode.type=kubernetes')),
    "buildkite-agent": ("agent", ('agent-stack-k8s', 'docker:dind')),
    "teamcity-agent": ("teamcity-agent", ('DOCKER_IN_DOCKER=start',)),
    "woodpecker-agent": ("agent", ('WOODPECKER_BACKEND=kubernetes',)),
    "jenkins-controller": ("jenkins", ('Kubernetes plugin', 'kaniko')),
    "azure-pipelines-agent": ("azdevops-agent", ('docker:dind', 'DOCKER_HOST=tcp://localhost:2375')),
    "bitbucket-pipelines-runner": ("runner", ('docker:dind', 'pod volume')),
    # The plugin's own node probe (a link to deploy/node-probe.yaml), identified by its command.
    "dockershim-node-probe": ("probe", ("No change",)),
}


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _pod_spec(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod spec, metadata) of a Pod, workload or CronJob, as the pipeline hands them over."""
    if obj["kind"] == "Pod":
        return obj["spec"], obj["metadata"]
    template = obj["spec"]["template"] if obj["kind"] != "CronJob" else obj["spec"]["jobTemplate"]["spec"]["template"]
    return template["spec"], template.get("metadata", {})


def _identify_file(path: Path) -> catalogue.AgentMatch | None:
    (obj,) = _documents(path)
    return identify(*_pod_spec(obj))


def _pod(*images: str, name: str = "x", labels: dict[str, str] | None = None, **spec: Any) -> tuple[dict, dict]:
    containers = [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    return {"containers": containers, **spec}, {"name": name, "labels": labels or {}}


# --------------------------------------------------------------------------------------------- schema


def test_agents_json_schema() -> None:
    document = json.loads(DATA.read_text())
    assert document["version"] == 1
    agents = document["agents"]
    assert len(agents) >= 75
    ids = [a["id"] for a in agents]
    assert len(set(ids)) == len(ids)
    seen_patterns: dict[str, str] = {}
    for a in agents:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", a["id"]), a["id"]
        for key in ("name", "vendor", "docs"):
            assert isinstance(a[key], str) and a[key], (a["id"], key)
        assert a["docs"].startswith("https://"), a["id"]
        assert a["detects_runtime"] in ("auto", "config", "none", "unsupported")
        assert a["auto_since"] is None or re.fullmatch(r"\d+(\.\d+)*", a["auto_since"]), a["id"]
        # An image to match, or (for a stock image) the command the agent runs.
        assert a["images"] or a.get("commands"), a["id"]
        assert all(isinstance(p, str) and p for p in a["images"] + a.get("commands", [])), a["id"]
        assert all(re.compile(c) for c in a.get("commands", []))
        for pattern in a["images"]:
            # One agent per pattern, or precedence alone would decide which agent a pod is.
            assert pattern not in seen_patterns, (pattern, a["id"], seen_patterns.get(pattern))
            seen_patterns[pattern] = a["id"]
            assert ":" not in pattern.split("/")[-1] and "@" not in pattern, "patterns carry no tag or digest"
        assert all(isinstance(h, str) and h for h in a["pod_name_hints"])
        assert all(set(h) == {"key", "value"} for h in a["label_hints"])
        assert a["docker_uses"] and all(isinstance(u, str) and u for u in a["docker_uses"])
        migration = a["migration"]
        assert set(migration) <= {"summary", "containerd", "crio", "side_effects"}
        assert migration["summary"].strip() and migration["containerd"] and migration["crio"], a["id"]
        for step in migration["containerd"] + migration["crio"] + migration.get("side_effects", []):
            assert isinstance(step, str) or (set(step) <= {"text", "findings", "before", "since"} and step["text"])
        assert a["sources"], a["id"]
        for source in a["sources"]:
            assert set(source) == {"url", "read"} and source["url"].startswith("https://"), a["id"]
            assert source["read"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["read"]), a["id"]
        for signal in a["migrated_signals"]:
            kinds = set(signal) - {"value_contains"}
            assert len(kinds) == 1 and kinds <= set(catalogue.SIGNAL_KINDS), (a["id"], signal)
            assert "config_contains" not in signal
        assert all(set(s) <= {"env", "value_contains"} and "env" in s for s in a["docker_env"])
        assert all(isinstance(x, str) and x for x in a["docker_args"])
    # Every agent issue 16 added was checked against vendor material on the day it was written.
    new = [a for a in agents if a["id"] in ISSUE_16]
    assert len(new) == len(ISSUE_16) and all(any(src["read"] for src in a["sources"]) for a in new)
    for entry in document["extra_socket_paths"]:
        assert entry["path"].startswith("/") and entry["why"]
    # The loader accepts the file (it validates types and raises CatalogueError otherwise).
    assert len(load_catalogue()) == len(agents)


def test_every_agent_of_agents_md_is_covered() -> None:
    ids = {a.id for a in load_catalogue()}
    for name, wanted in AGENTS_MD.items():
        assert set(wanted) <= ids, name
    assert ids == {i for wanted in AGENTS_MD.values() for i in wanted} | set(ISSUE_16) | set(OWN)
    assert len(ids) >= 75


@pytest.mark.parametrize(("image", "agent_id"), AGENTS_MD_IMAGES)
def test_agents_md_images_are_recognised(image: str, agent_id: str) -> None:
    agent = catalogue.match_image(image)
    assert agent is not None and agent.id == agent_id


def test_every_agent_has_an_expectation_and_a_manifest() -> None:
    ids = {a.id for a in load_catalogue()}
    assert set(EXPECTED) == ids
    assert {p.stem for p in MANIFESTS.glob("*.yaml")} == ids


# --------------------------------------------------------------------------------------------- manifests


@pytest.mark.parametrize("path", sorted(MANIFESTS.glob("*.yaml")) + sorted(MIGRATED.glob("*.yaml")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_manifest_is_a_valid_kubernetes_object(path: Path) -> None:
    documents = _documents(path)
    assert len(documents) == 1
    kubernetes_validate.validate(documents[0], "1.30", strict=True)


@pytest.mark.parametrize("agent", load_catalogue(), ids=lambda a: a.id)
def test_vendor_manifest_is_identified(agent: catalogue.Agent) -> None:
    container, keywords = EXPECTED[agent.id]
    match = _identify_file(MANIFESTS / f"{agent.id}.yaml")
    assert match is not None
    assert (match.agent.id, match.strong, match.container) == (agent.id, True, container)
    assert match.evidence.startswith("command " if agent.commands else "image ")
    # The plain vendor manifests are the Docker-era deployments the plugin exists to find.
    assert match.migrated == ()
    guidance = agent.guidance
    assert agent.migration_summary and agent.containerd_steps and agent.crio_steps
    for word in keywords:
        assert word in guidance, (agent.id, word)


@pytest.mark.parametrize("path", sorted(MIGRATED.glob("*.yaml")), ids=lambda p: p.name)
def test_migrated_variant_reports_its_signals(path: Path) -> None:
    match = _identify_file(path)
    assert match is not None and match.strong
    assert match.agent.id == path.stem.split("--")[0]
    assert match.migrated, path.name


def test_migrated_signals_are_described_concretely() -> None:
    datadog = _identify_file(MIGRATED / "datadog-agent.yaml")
    assert datadog is not None
    assert datadog.migrated == ("env DD_CRI_SOCKET_PATH=/host/run/containerd/containerd.sock",
                                "image tag 7.50.3 >= 7.27")
    falco = _identify_file(MIGRATED / "falco.yaml")
    assert falco is not None
    assert falco.migrated == ("arg --cri /run/containerd/containerd.sock", "hostPath /run/containerd/containerd.sock")
    dind = _identify_file(MIGRATED / "docker-cli.yaml")
    assert dind is not None
    assert dind.migrated == ("image docker:24.0.7-dind",
                             "env DOCKER_HOST=tcp://localhost:2375 (a Docker-in-Docker container in the pod)")


def test_docker_signals_of_plain_manifests() -> None:
    datadog = _identify_file(MANIFESTS / "datadog-agent.yaml")
    assert datadog is not None and datadog.docker_signals == ("env DOCKER_HOST=unix:///host/var/run/docker.sock",)
    cadvisor = _identify_file(MANIFESTS / "cadvisor.yaml")
    assert cadvisor is not None
    assert cadvisor.docker_signals == ("arg --docker_only=true", "arg --docker=unix:///var/run/docker.sock")
    appd = _identify_file(MANIFESTS / "appdynamics-machine-agent.yaml")
    assert appd is not None and appd.docker_signals == ("env APPDYNAMICS_DOCKER_ENABLED=true",)
    migrated_appd = _identify_file(MIGRATED / "appdynamics-machine-agent.yaml")
    assert migrated_appd is not None and migrated_appd.docker_signals == ()


# --------------------------------------------------------------------------------------------- images


@pytest.mark.parametrize("image", [
    "gcr.io/datadoghq/agent:7.50.0",
    "docker.io/datadog/agent@sha256:" + "a" * 64,
    "public.ecr.aws/datadog/agent",
    "datadog/agent",
    "datadoghq/agent:7.50.0-jmx",
    "registry.example.com:5000/mirror/datadog/agent:7",
    "gcr.io/datadoghq/agent:7.50.0@sha256:" + "b" * 64,
])
def test_registry_independence(image: str) -> None:
    match = identify(*_pod(image))
    assert match is not None and match.agent.id == "datadog-agent" and match.strong and match.container == "c0"


@pytest.mark.parametrize("image", [
    "myorg/datadog-agent-fork:1.0",
    "datadog/agent-fork",
    "mydatadog/agent",
    "ghcr.io/acme/falco-exporter-custom:1",
    "nginx:1.25",
    "registry.example.com/enforcer:1",  # Aqua's enforcer only from Aqua's registry or aquasec/
    "acme/docker:24",  # only Docker Hub's own `docker` image is the Docker CLI
    "",
])
def test_unknown_images_are_not_guessed(image: str) -> None:
    assert identify(*_pod(image, name="web-7f9c8d")) is None


@pytest.mark.parametrize(("image", "repository"), [
    ("gcr.io/datadoghq/agent:7.50.0", "datadoghq/agent"),
    ("datadog/agent", "datadog/agent"),
    ("docker.io/library/docker:24-dind", "docker"),
    ("docker:24", "docker"),
    ("localhost:5000/team/app:1.0", "team/app"),
    ("registry.example.com:5000/team/app@sha256:" + "c" * 64, "team/app"),
    ("Quay.io/Prometheus/Node-Exporter:v1.7.0", "prometheus/node-exporter"),
])
def test_image_repository(image: str, repository: str) -> None:
    assert image_repository(image) == repository


def test_image_match_beats_hints_and_first_container_wins() -> None:
    spec, meta = _pod("cr.fluentbit.io/fluent/fluent-bit:2.2", "gcr.io/datadoghq/agent:7.50.0",
                      name="datadog-agent-x7k2p", labels={"app.kubernetes.io/name": "falco"})
    match = identify(spec, meta)
    assert match is not None
    assert (match.agent.id, match.container, match.strong) == ("fluent-bit", "c0", True)
    # Unknown first container: the next one decides; init containers come after containers.
    spec = {"initContainers": [{"name": "init", "image": "falcosecurity/falco-driver-loader:0.37.1"}],
            "containers": [{"name": "app", "image": "nginx"}, {"name": "dd", "image": "datadog/agent:7"}]}
    match = identify(spec, {})
    assert match is not None and (match.agent.id, match.container) == ("datadog-agent", "dd")


# Images of the agents issue 16 added, as pods spell them (mirrors and registries vary), and forks
# or neighbours whose names only look alike: these must not be identified.
ISSUE_16_IMAGES = [
    ("public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300026.2b361", "aws-cloudwatch-agent"),
    ("amazon/cloudwatch-agent:1.247355.0b252062", "aws-cloudwatch-agent"),
    ("public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0", "aws-for-fluent-bit"),
    ("mcr.microsoft.com/azuremonitor/containerinsights/ciprod:3.1.22", "azure-monitor-containers"),
    ("registry-vpc.cn-hangzhou.aliyuncs.com/acs/logtail:v1.0.29.0", "alibaba-logtail"),
    ("k8s.gcr.io/fluentd-gcp:1.30", "fluentd-gcp"),
    ("gcr.io/stackdriver-agents/stackdriver-logging-agent:1.6.17", "fluentd-gcp"),
    ("quay.io/fluentd_elasticsearch/fluentd:v3.1.0", "fluentd-elasticsearch-addon"),
    ("otel/opentelemetry-collector-contrib:0.89.0", "opentelemetry-collector"),
    ("ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s:0.102.1",
     "opentelemetry-collector"),
    ("docker.elastic.co/beats/elastic-agent:8.11.3", "elastic-agent"),
    ("docker.elastic.co/elastic-agent/elastic-agent:8.15.0", "elastic-agent"),
    ("grafana/agent:v0.39.1", "grafana-agent"),
    ("docker.io/grafana/alloy:v1.4.3", "grafana-alloy"),
    ("timberio/vector:0.34.1-distroless-libc", "vector"),
    ("telegraf:1.29-alpine", "telegraf"),
    ("docker.io/library/telegraf:1.29", "telegraf"),
    ("netdata/netdata:v1.44.1", "netdata"),
    ("gliderlabs/logspout:v3.2.14", "logspout"),
    ("scalyr/scalyr-k8s-agent:2.1.16", "scalyr-agent"),
    ("solarwinds/solarwinds-snap-agent-docker:4.4.0", "solarwinds-snap-agent"),
    ("qualys/qcs-sensor:1.26.0", "qualys-container-sensor"),
    ("neuvector/controller:5.2.4", "neuvector-controller"),
    ("kubearmor/kubearmor:v1.2.1", "kubearmor"),
    ("aquasec/trivy:0.48.3", "trivy"),
    ("registry.aquasec.com/scanner:2022.4", "aqua-scanner"),
    ("deepfenceio/deepfence_agent_ce:2.0.1", "deepfence-agent"),
    ("gcr.io/pixie-oss/pixie-prod/vizier-pem_image:0.14.8", "pixie-pem"),
    ("nvcr.io/nvidia/k8s/container-toolkit:v1.11.0-ubuntu20.04", "nvidia-container-toolkit"),
    ("containrrr/watchtower:1.7.1", "watchtower"),
    ("traefik:v2.10.7", "traefik-docker-provider"),
    ("quay.io/argoproj/argoexec:v3.2.11", "argo-workflows-executor"),
    ("hyperledger/fabric-peer:2.2.13", "hyperledger-fabric-peer"),
    ("registry.k8s.io/node-problem-detector/node-problem-detector:v0.8.14", "node-problem-detector"),
    ("drone/drone-runner-docker:1.8.3", "drone-runner-docker"),
    ("summerwind/actions-runner-dind:v2.311.0-ubuntu-22.04", "actions-runner-controller"),
    ("ghcr.io/actions/actions-runner:2.311.0", "actions-runner-controller"),
    ("buildkite/agent:3.62.0", "buildkite-agent"),
    ("jetbrains/teamcity-agent:2023.11.1-linux-sudo", "teamcity-agent"),
    ("woodpeckerci/woodpecker-agent:v2.1.1", "woodpecker-agent"),
    ("jenkins/jenkins:2.426.2-lts-jdk17", "jenkins-controller"),
    ("mcr.microsoft.com/azure-pipelines/vsts-agent:ubuntu-20.04", "azure-pipelines-agent"),
    ("docker-public.packages.atlassian.com/sox/atlassian/bitbucket-pipelines-runner:1", "bitbucket-pipelines-runner"),
]
ISSUE_16_LOOK_ALIKES = [
    "myorg/cloudwatch-agent-exporter:1", "acme/aws-for-fluent-bit-custom:2", "aquasec/trivy-operator:0.18.0",
    "aquasec/scanner-cli-fork:1", "acme/telegraf:1.29", "telegraf-operator/telegraf:1", "grafana/agent-operator:v0.39",
    "grafana/alloy-operator:0.1", "timberio/vector-fork:1", "otel/opentelemetry-collector-builder:0.89",
    "containrrr/watchtower-ui:1", "traefik/whoami:1.10", "acme/traefik:v2", "argoproj/argocli:v3.5",
    "hyperledger/fabric-orderer:2.5", "hyperledger/fabric-peer-fork/x:1", "drone/drone-runner-kube:1",
    "drone/drone:2", "buildkite/agent-metrics:5", "jenkins/inbound-agent-fork:1", "acme/jenkins/jenkins-like:1",
    "jetbrains/teamcity-server:2023.11", "woodpeckerci/woodpecker-server:v2", "neuvector/controller-fork:1",
    "kubearmor/kubearmor-operator:v1", "nvidia/k8s-device-plugin:v0.14", "netdata/netdata-exporter:1",
    "deepfenceio/deepfence_agent_ce_fork:1", "qualys/qcs-sensor-helper:1", "scalyr/scalyr-agent-2-dev:1",
]


@pytest.mark.parametrize(("image", "agent_id"), ISSUE_16_IMAGES)
def test_issue_16_images_are_recognised(image: str, agent_id: str) -> None:
    agent = catalogue.match_image(image)
    assert agent is not None and agent.id == agent_id


@pytest.mark.parametrize("image", ISSUE_16_LOOK_ALIKES)
def test_look_alike_names_are_not_matched(image: str) -> None:
    assert catalogue.match_image(image) is None
    assert identify(*_pod(image, name="web-7f9c8d")) is None


def test_every_new_agent_has_an_image_example() -> None:
    assert {agent_id for _, agent_id in ISSUE_16_IMAGES} == set(ISSUE_16)


# A concrete step names something to change or to look at: a path, a flag, a setting (key=value or
# dotted), an env var, a version, a console menu (Settings > ...), a command or a tool to move to.
_CONCRETE = re.compile(r"/|--|=|`| > |\b[A-Z][A-Z0-9_]{3,}\b|\d+\.\d+|\b[a-z]+\.[a-zA-Z]+|\b[a-z]+-[a-z0-9]+-?\w*\b"
                       r"|No change needed")


@pytest.mark.parametrize("agent", load_catalogue(), ids=lambda a: a.id)
def test_steps_are_concrete(agent: catalogue.Agent) -> None:
    for runtime, steps in (("containerd", agent.containerd_steps), ("crio", agent.crio_steps)):
        assert steps, (agent.id, runtime)
        assert any(_CONCRETE.search(s.text) for s in steps), (agent.id, runtime)
    assert all(s.text.strip() == s.text and len(s.text) > 10 for s in (*agent.containerd_steps, *agent.crio_steps))
    assert agent.docs.startswith("https://") and agent.sources


# --------------------------------------------------------------------------------------------- hints


@pytest.mark.parametrize("command", [
    ["python3", "/tmp/plugin/kubectl-dockershim", "probe", "--root", "/host", "-o", "json"],
    ["sh", "-c", "exec kubectl-dockershim probe --root /host"],
    ["kubectl", "dockershim", "probe"],
    ["python3", "-c", 'subprocess.run([sys.executable, "/tmp/plugin/kubectl-dockershim", "probe"])'],
])
def test_the_node_probe_is_identified_by_its_command(command: list[str]) -> None:
    match = identify({"containers": [{"name": "p", "image": "python:3.12-slim", "command": command}]}, {})
    assert match is not None and (match.agent.id, match.strong, match.container) == ("dockershim-node-probe", True, "p")
    assert match.evidence in ("command kubectl-dockershim probe", "command kubectl dockershim probe")


@pytest.mark.parametrize("command", [
    ["python3", "/tmp/plugin/kubectl-dockershim", "scan", "-A"],  # deploy/cronjob.yaml: not the probe
    ["kubectl-dockershim", "nodes", "--probes"],
    ["my-kubectl-dockershim-probes"],
])
def test_other_commands_of_the_plugin_are_not_the_probe(command: list[str]) -> None:
    assert identify({"containers": [{"name": "p", "image": "python:3.12-slim", "command": command}]}, {}) is None


def test_an_image_match_beats_a_command_match() -> None:
    spec = {"containers": [{"name": "p", "image": "python:3.12-slim", "command": ["kubectl-dockershim", "probe"]},
                           {"name": "f", "image": "falcosecurity/falco:0.37.1"}]}
    match = identify(spec, {})
    assert match is not None and (match.agent.id, match.container) == ("falco", "f")


def test_pod_name_hint_is_weak_evidence() -> None:
    match = identify(*_pod("registry.example.com/security/custom-build:3", name="falco-x7k2p"))
    assert match is not None
    assert (match.agent.id, match.strong, match.container) == ("falco", False, None)
    assert match.evidence == "pod name hint falco"


def test_label_hint_is_weak_evidence() -> None:
    spec, meta = _pod("registry.example.com/logging/collector:3", labels={"app.kubernetes.io/name": "promtail"})
    match = identify(spec, meta)
    assert match is not None and (match.agent.id, match.strong) == ("promtail", False)
    assert match.evidence == "label hint app.kubernetes.io/name=promtail"


def test_name_hints_match_whole_words_only() -> None:
    assert identify(*_pod("example/app:1", name="falconry-7f9c8d")) is None
    assert identify(*_pod("example/app:1", name="my-datadoggy-app")) is None
    match = identify({"containers": [{"name": "a", "image": "example/app:1"}]},
                     {"generateName": "prod-dd-agent-"})
    assert match is not None and match.agent.id == "datadog-agent"


def test_hint_match_still_reports_migrated_env() -> None:
    spec = {"containers": [{"name": "a", "image": "internal/dd:1",
                            "env": [{"name": "DD_CRI_SOCKET_PATH", "value": "/host/run/crio/crio.sock"}]}]}
    match = identify(spec, {"name": "datadog-agent-abcde"})
    assert match is not None and not match.strong
    assert match.migrated == ("env DD_CRI_SOCKET_PATH=/host/run/crio/crio.sock",)


# --------------------------------------------------------------------------------------------- tolerance


@pytest.mark.parametrize("spec", [
    {},
    {"containers": None},
    {"containers": [None, "x", {"name": None, "image": None}]},
    {"containers": [{"name": "a"}], "volumes": None},
    {"containers": [{"name": "a", "image": 42, "env": None, "args": None}]},
])
def test_odd_pod_specs_give_none(spec: dict[str, Any]) -> None:
    assert identify(spec, {}) is None
    assert identify(spec, None) is None  # type: ignore[arg-type]


def test_env_from_value_from_and_odd_entries() -> None:
    spec = {
        "containers": [{
            "name": "agent", "image": "datadog/agent:latest",
            "env": [None, {"value": "no-name"}, {"name": "DD_CRI_SOCKET_PATH",
                                                 "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}},
                    {"name": "DOCKER_HOST", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "args": ["run", 7, None],
        }],
        "volumes": [None, {"name": "v"}, {"name": "w", "hostPath": None}, {"name": "z", "hostPath": {"path": 3}}],
    }
    match = identify(spec, {})
    assert match is not None and match.agent.id == "datadog-agent"
    # A value we cannot read cannot show a containerd socket; "latest" is no version.
    assert match.migrated == ()
    assert match.docker_signals == ()


def test_min_version_signal() -> None:
    for tag, migrated in (("7.26.0", False), ("7.27.0", True), ("7.27", True), ("v7.50.3-jmx", True),
                          ("latest", False), ("6.99.9", False)):
        match = identify(*_pod(f"datadog/agent:{tag}"))
        assert match is not None and bool(match.migrated) == migrated, tag


def test_image_tag_signal_counts_only_the_agents_own_images() -> None:
    spec = {"containers": [{"name": "cli", "image": "docker:24-cli"},
                           {"name": "other", "image": "example/dind-helper:1-dind"}]}
    match = identify(spec, {})
    assert match is not None and match.agent.id == "docker-cli" and match.migrated == ()


def test_host_path_signal_treats_var_run_as_run() -> None:
    spec = {"containers": [{"name": "f", "image": "falcosecurity/falco:0.37.1"}],
            "volumes": [{"name": "s", "hostPath": {"path": "/var/run/containerd//containerd.sock"}}]}
    match = identify(spec, {})
    assert match is not None and match.migrated == ("hostPath /var/run/containerd//containerd.sock",)


# --------------------------------------------------------------------------------------------- loading


def test_catalogue_is_loaded_once() -> None:
    assert load_catalogue() is load_catalogue()
    assert catalogue.agent_by_id("falco") is not None
    assert catalogue.agent_by_id("no-such-agent") is None


def test_extra_socket_paths() -> None:
    paths = catalogue.extra_socket_paths()
    assert "/var/vcap/sys/run/docker/docker.sock" in paths
    assert "/run/user/*/docker.sock" in paths
    assert all(p.startswith("/") for p in paths)


def test_loads_from_a_plain_folder_on_sys_path(tmp_path: Path) -> None:
    # The krew archive is a plain folder holding plugin/; nothing is installed.
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
            "from plugin.catalogue import load_catalogue; print(len(load_catalogue()))")
    result = subprocess.run([sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            check=True)
    assert int(result.stdout) == len(load_catalogue())


def test_broken_data_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = {"version": 1, "agents": [{"id": "x", "name": "X", "vendor": "V", "detects_runtime": "maybe"}]}
    monkeypatch.setattr(catalogue, "_read_data", lambda: json.dumps(bad))
    catalogue._document.cache_clear()
    catalogue.load_catalogue.cache_clear()
    catalogue._patterns.cache_clear()
    try:
        with pytest.raises(catalogue.CatalogueError, match="detects_runtime"):
            load_catalogue()
    finally:
        monkeypatch.undo()
        catalogue._document.cache_clear()
        catalogue.load_catalogue.cache_clear()
        catalogue._patterns.cache_clear()
    assert len(load_catalogue()) >= 30
