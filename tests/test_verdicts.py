"""Verdicts an operator can act on: a migrated signal is never the dependency a rule reports,
reasons name what was mounted, and severities follow the risk (issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plugin.models import Origin, SourceObject
from plugin.pipeline import identify_agent
from plugin.rules import RuleSettings
from plugin.scan import scan_objects
from tests.podspecs import container, host_path_volume, mount, pod, pod_spec

ROOT = Path(__file__).resolve().parent.parent
AGENTS = ROOT / "tests" / "manifests" / "agents"


def env(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def host_ip() -> dict:
    return {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}


def scanned(spec: dict):
    return scanned_with(spec, {"name": "p"})


def scanned_with(spec: dict, metadata: dict):
    """The one scanned object of a pod with this spec and metadata (name, labels)."""
    obj = {**pod(str(metadata.get("name", "p")), spec), "metadata": {"namespace": "default", **metadata}}
    result = scan_objects([SourceObject("Pod", "v1", obj, Origin("ctx"))], RuleSettings(), "default", identify_agent)
    (scanned_object,) = result.scanned
    return scanned_object


def test_docker_host_at_the_node_is_a_dependency_never_a_migration() -> None:
    """The observed case: a docker:*-cli container reaching the node's daemon through
    status.hostIP was DS005 and, at the same time, "migrated: env DOCKER_HOST=tcp://…"."""
    spec = pod_spec(None, [container("build", "docker:24.0.7-cli", command=["docker", "ps"],
                                     env=[host_ip(), env("DOCKER_HOST", "tcp://$(HOST_IP):2375")])])
    obj = scanned(spec)
    assert obj.agent is not None and obj.agent.id == "docker-cli"
    assert obj.agent.migrated == ()
    assert [(f.rule_id, f.severity) for f in obj.findings] == [("DS005", "high"), ("DS006", "medium")]
    assert all("ready for containerd" not in f.reason for f in obj.findings)


@pytest.mark.parametrize("entries, host_network, migrated", [
    # localhost with a dind sidecar in the pod: the pod's own daemon
    ([env("DOCKER_HOST", "tcp://localhost:2375")], False, True),
    # localhost on the host's network is the node itself
    ([env("DOCKER_HOST", "tcp://localhost:2375")], True, False),
    # a Service name: a daemon elsewhere
    ([env("DOCKER_HOST", "tcp://docker-daemon.ci.svc:2376")], False, True),
    # an IP literal may be the node's own address: no evidence either way
    ([env("DOCKER_HOST", "tcp://10.0.0.7:2375")], False, False),
])
def test_a_tcp_docker_host_is_migrated_only_when_it_points_away_from_the_node(
        entries: list[dict], host_network: bool, migrated: bool) -> None:
    spec = pod_spec(None, [container("build", "docker:24.0.7-cli", command=["docker", "build", "."], env=entries),
                           container("dind", "docker:24.0.7-dind")], hostNetwork=host_network)
    result = scan_objects([SourceObject("Pod", "v1", pod("p", spec), Origin("ctx"))], RuleSettings(), "default",
                          identify_agent)
    from plugin.catalogue import identify

    match = identify(spec, {})
    assert match is not None and match.agent.id == "docker-cli"
    assert any(s.startswith("env DOCKER_HOST=") for s in match.migrated) is migrated
    if host_network:  # the node's daemon through its loopback address: DS005
        assert [f.rule_id for s in result.scanned for f in s.findings] == ["DS005", "DS006"]


def test_a_dind_sidecar_on_localhost_without_the_sidecar_is_no_migration() -> None:
    spec = pod_spec(None, [container("build", "docker:24.0.7-cli", command=["docker", "build", "."],
                                     env=[env("DOCKER_HOST", "tcp://localhost:2375")])])
    from plugin.catalogue import identify

    match = identify(spec, {})
    assert match is not None and match.migrated == ()


def _pod_specs(path: Path):
    for doc in yaml.safe_load_all(path.read_text()):
        if not isinstance(doc, dict):
            continue
        yield doc


@pytest.mark.parametrize("path", sorted(AGENTS.rglob("*.yaml")), ids=lambda p: str(p.relative_to(AGENTS)))
def test_no_migrated_signal_is_the_fact_a_rule_reports(path: Path) -> None:
    """The audit of every catalogue agent's signals on its plain and migrated manifests: what
    lowers a severity must never be the env var, argument or host path a finding names."""
    from plugin.scan import _signal_fact

    sources = [SourceObject(d["kind"], d.get("apiVersion", ""), d, Origin(file=str(path))) for d in _pod_specs(path)]
    for obj in scan_objects(sources, RuleSettings(), "default", identify_agent).scanned:
        facts = {fact for f in obj.findings for fact in (f.evidence, f.host_path) if fact}
        signals = obj.agent.migrated if obj.agent else ()
        assert not [s for s in signals if _signal_fact(s) in facts], (path.name, signals, facts)


def test_a_signal_equal_to_a_finding_is_dropped_by_the_scan_itself() -> None:
    """The guard behind the catalogue: even a signal written carelessly in agents.json (here
    Datadog's DD_CRI_SOCKET_PATH pointed at Docker's socket) cannot lower the severity of the
    finding it repeats."""
    from plugin.models import AgentRef, Finding
    from plugin.scan import mark_migrated

    finding = Finding("DS005", "docker-host-env", "high", "points at the node's Docker",
                      container="agent", evidence="DOCKER_HOST=tcp://$(HOST_IP):2375")
    agent = AgentRef("x", "X", "image x", True, ("env DOCKER_HOST=tcp://$(HOST_IP):2375", "image tag 7 >= 6"))
    findings, checked = mark_migrated([finding], agent)
    assert checked is not None and checked.migrated == ("image tag 7 >= 6",)
    assert findings[0].severity == "medium" and "DOCKER_HOST" not in findings[0].reason.split("ready for")[1]
    only_same = AgentRef("x", "X", "image x", True, ("env DOCKER_HOST=tcp://$(HOST_IP):2375",))
    findings, checked = mark_migrated([finding], only_same)
    assert findings == [finding] and checked is not None and checked.migrated == ()


@pytest.mark.parametrize("host_path, named", [
    ("/var/run", "/var/run"), ("/run", "/run"), ("//var/run/", "/var/run"), ("/var", "/var"),
    ("/var/run/docker", "/var/run/docker"),
])
def test_reasons_name_what_was_mounted(host_path: str, named: str) -> None:
    spec = pod_spec([host_path_volume("run", host_path)], [container("agent", mounts=[mount("run", "/host/run")])])
    (finding,) = scanned(spec).findings
    assert finding.reason.startswith(f"mounts {named},"), finding.reason


def test_a_docker_host_with_a_password_is_shown_masked() -> None:
    """The wide table's EVIDENCE shows the variable and its value, never a password in it."""
    spec = pod_spec(None, [container("build", "docker:24.0.7-cli", command=["docker", "ps"],
                                     env=[host_ip(), env("DOCKER_HOST", "tcp://ci:s3cret@$(HOST_IP):2376")])])
    (ds005,) = [f for f in scanned(spec).findings if f.rule_id == "DS005"]
    assert ds005.evidence == "DOCKER_HOST=tcp://ci:***@$(HOST_IP):2376"
    assert "s3cret" not in ds005.reason


def test_a_name_or_label_alone_never_lowers_a_dependency() -> None:
    """Observed: a busybox DaemonSet named node-exporter that mounts the node's docker.sock was
    medium, lowered because node-exporter "does not use the Docker daemon". Only an image (or, for
    the plugin's own probe, its command) is evidence of what a container runs; a hint names the
    likely agent and changes no severity."""
    socket = pod_spec([host_path_volume("sock", "/var/run/docker.sock")],
                      [container("c", "busybox", mounts=[mount("sock", "/var/run/docker.sock")])])
    obj = scanned_with(socket, {"name": "node-exporter-x7k2p", "labels": {"app.kubernetes.io/name": "node-exporter"}})
    assert obj.agent is not None and (obj.agent.id, obj.agent.strong, obj.agent.migrated) == (
        "node-exporter", False, ())
    assert [(f.rule_id, f.severity) for f in obj.findings] == [("DS001", "high")]


def test_the_real_node_exporter_image_keeps_its_root_mount_out_of_the_default_report() -> None:
    root = pod_spec([host_path_volume("root", "/")],
                    [container("node-exporter", "quay.io/prometheus/node-exporter:v1.7.0",
                               mounts=[mount("root", "/host/root", read_only=True)])])
    obj = scanned(root)
    assert obj.agent is not None and obj.agent.strong and obj.agent.migrated == (
        "this agent does not use the Docker daemon",)
    assert [(f.rule_id, f.severity) for f in obj.findings] == [("DS003", "info")]


def test_the_plugins_own_node_probe_is_no_dependency() -> None:
    """deploy/node-probe.yaml mounts the host's / read-only to read it; it never talks to Docker,
    so its DS003 is `info`: hidden by `scan` and no blocker in `plan`."""
    (probe,) = [d for d in yaml.safe_load_all((ROOT / "deploy" / "node-probe.yaml").read_text()) if d]
    template = probe["spec"]["template"]
    obj = scanned_with(template["spec"], template["metadata"])
    assert obj.agent is not None and (obj.agent.id, obj.agent.strong, obj.agent.evidence) == (
        "dockershim-node-probe", True, "command kubectl-dockershim probe")
    assert [(f.rule_id, f.severity) for f in obj.findings] == [("DS003", "info")]
