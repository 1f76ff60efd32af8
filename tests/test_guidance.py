"""Tests of the advice `explain` gives: only the steps that fit what was found and the version the
image runs, vendor-neutral steps for unknown images, side effects, the same steps in every format
(text, json, markdown), and an audit of every example and every agent manifest for steps that do
not belong to the workload in front of them."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugin import catalogue
from plugin.cli import run
from plugin.explain import Explanation, explain_object, finding_tags, migration_for, workloads_migration
from plugin.models import Finding
from plugin.owners import ObjectsLookup
from plugin.podspec import TEMPLATE_KINDS
from plugin.printers.describe import explanation_document, print_explanation
from plugin.rules import RULES_BY_ID, RuleSettings

ROOT = Path(__file__).resolve().parent.parent
AGENT_MANIFESTS = sorted((ROOT / "tests" / "manifests" / "agents").rglob("*.yaml"))
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*") if p.suffix in (".yaml", ".yml", ".json"))
K8S_GUIDE = ("https://kubernetes.io/docs/tasks/administer-cluster/migrating-from-dockershim/"
             "migrating-telemetry-and-security-agents/")


def _objects(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    documents = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
    found: list[dict[str, Any]] = []
    for d in documents:
        if isinstance(d, dict) and d.get("kind") == "List":
            found += [i for i in d.get("items", []) if isinstance(i, dict)]
        elif isinstance(d, dict):
            found.append(d)
    return [o for o in found if o.get("kind") == "Pod" or o.get("kind") in TEMPLATE_KINDS]


def _explain(obj: dict[str, Any], objects: list[dict[str, Any]] | None = None) -> Explanation:
    lookup = ObjectsLookup((o["kind"], o) for o in objects or [obj])
    namespace = obj.get("metadata", {}).get("namespace") or "default"
    return explain_object(obj["kind"], obj, namespace, lookup, RuleSettings())


def _daemonset(*containers: dict[str, Any], volumes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    labels = {"app": "agent"}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "monitoring"},
            "spec": {"selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": list(containers), "volumes": volumes or []}}}}


def _host(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path}}


def _mount(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "mountPath": path}


def _texts(e: Explanation) -> list[str]:
    assert e.migration is not None
    return [s.text for s in (*e.migration.steps, *e.migration.side_effects)]


def _described(e: Explanation) -> str:
    out = io.StringIO()
    print_explanation(e, out)
    return out.getvalue()


# --------------------------------------------------------------------------------------------- findings


def test_a_log_dir_finding_gets_the_log_steps_and_no_socket_step() -> None:
    obj = _daemonset({"name": "agent", "image": "gcr.io/datadoghq/agent:7.20.0",
                      "volumeMounts": [_mount("logs", "/var/lib/docker/containers")]},
                     volumes=[_host("logs", "/var/lib/docker/containers")])
    e = _explain(obj)
    assert {f.rule_id for f in e.findings} == {"DS004"}
    texts = _texts(e)
    assert any("/var/log/pods" in t for t in texts)
    assert not [t for t in texts if "docker.sock hostPath" in t or "DOCKER_HOST" in t or "/host/var/run mount" in t]


def test_a_socket_directory_and_docker_host_get_their_own_steps() -> None:
    obj = _daemonset({"name": "agent", "image": "gcr.io/datadoghq/agent:7.20.0",
                      "env": [{"name": "DOCKER_HOST", "value": "unix:///host/var/run/docker.sock"}],
                      "volumeMounts": [_mount("run", "/host/var/run")]},
                     volumes=[_host("run", "/var/run")])
    e = _explain(obj)
    assert {f.rule_id for f in e.findings} == {"DS002", "DS005"}
    assert e.migration is not None
    by_text = {s.text: s for s in e.migration.steps}
    keep = next(s for t, s in by_text.items() if t.startswith("Keep the /var/run -> /host/var/run mount"))
    assert keep.findings == ("DS002",) and not keep.general
    helmless = next(s for t, s in by_text.items() if t.startswith("Without Helm"))
    assert helmless.findings == ("DS005",)
    assert not [t for t in by_text if "/var/lib/docker/containers" in t]


def test_a_cli_finding_gets_the_crictl_equivalent_of_each_command_found() -> None:
    obj = _daemonset({"name": "debug", "image": "registry.example.com/tools/debug:1",
                      "command": ["sh", "-c", "docker ps -q; docker logs web; docker top web"],
                      "volumeMounts": [_mount("sock", "/var/run/docker.sock")]},
                     volumes=[_host("sock", "/var/run/docker.sock")])
    e = _explain(obj)
    assert e.agent is None and e.migration is not None
    cli = [s for s in e.migration.steps if s.text.startswith("Instead of `docker")]
    assert [s.text.split("`")[1] for s in cli] == ["docker ps", "docker logs", "docker top"]
    assert all(s.findings == ("DS006",) for s in cli)
    assert "crictl ps" in cli[0].text and "crictl logs" in cli[1].text and "crictl stats" in cli[2].text
    assert not [s for s in e.migration.steps if "`docker inspect`" in s.text]


@pytest.mark.parametrize(("host_path", "logs", "data"), [
    ("/var/lib/docker/containers", True, False),
    ("/var/lib/docker", True, True),
    ("/var/lib/docker/volumes", False, True),
])
def test_docker_data_findings_are_told_apart(host_path: str, logs: bool, data: bool) -> None:
    finding = Finding("DS004", "docker-data-directory", "medium", "r", volume="v", host_path=host_path)
    tags = finding_tags(finding)
    assert ("DS004:logs" in tags, "DS004:data" in tags) == (logs, data)
    migration = migration_for(None, [finding])
    assert migration is not None
    texts = " ".join(s.text for s in migration.steps)
    assert ("stdout F hello" in texts) == logs
    assert ("/var/lib/containerd" in texts) == data


# --------------------------------------------------------------------------------------------- versions


def test_a_newer_image_is_told_it_finds_the_runtime_itself() -> None:
    obj = _daemonset({"name": "agent", "image": "gcr.io/datadoghq/agent:7.50.3",
                      "env": [{"name": "DOCKER_HOST", "value": "unix:///host/var/run/docker.sock"}],
                      "volumeMounts": [_mount("run", "/host/var/run")]},
                     volumes=[_host("run", "/var/run")])
    e = _explain(obj)
    assert e.migration is not None
    assert e.migration.version_note == "7.50.3 is newer than 7.27: Datadog Agent finds containerd and CRI-O by itself"
    texts = _texts(e)
    assert not [t for t in texts if "7.27 or later" in t or t.startswith("Without Helm")]
    assert any(t.startswith("Remove DOCKER_HOST") for t in texts)
    assert "Version:      " not in _described(e) and "Version: 7.50.3 is newer than 7.27" in _described(e)


@pytest.mark.parametrize(("tag", "upgrade", "note"), [
    ("7.26.0", True, "7.26.0 is older than 7.27"),
    ("7.27.0", False, "7.27.0 is 7.27 itself"),
    ("latest", True, "the image tag (latest) does not say its version"),
])
def test_steps_follow_the_version(tag: str, upgrade: bool, note: str) -> None:
    obj = _daemonset({"name": "agent", "image": f"datadog/agent:{tag}", "volumeMounts": [_mount("run", "/host/var/run")]},
                     volumes=[_host("run", "/var/run")])
    e = _explain(obj)
    assert e.migration is not None and e.migration.version_note is not None
    assert e.migration.version_note.startswith(note)
    assert any("Upgrade the agent image to 7.27" in t for t in _texts(e)) == upgrade


def test_neuvector_after_5_3_drops_the_runtime_settings() -> None:
    old = _explain(yaml.safe_load((ROOT / "tests/manifests/agents/neuvector-controller.yaml").read_text()))
    new = _explain(yaml.safe_load((ROOT / "tests/manifests/agents/migrated/neuvector-controller.yaml").read_text()))
    assert any("containerd.enabled=true" in t for t in _texts(old))
    assert new.migration is None or not any("containerd.enabled=true" in t for t in _texts(new))


# --------------------------------------------------------------------------------------------- unknown images


@pytest.mark.parametrize(("volume", "env", "command", "expected"), [
    ("/var/run/docker.sock", None, None, "/run/containerd/containerd.sock"),
    ("/var/run", None, None, "/var/run/crio/crio.sock"),
    ("/var/lib/docker/containers", None, None, "2021-02-18T11:34:21.529641620+00:00 stdout F hello"),
    ("/var/run/docker.sock", "unix:///var/run/docker.sock", None, "docker:dind"),
    ("/var/run/docker.sock", None, ["docker", "inspect", "web"], "crictl inspect CONTAINER"),
])
def test_unknown_images_get_vendor_neutral_advice(volume: str, env: str | None, command: list[str] | None,
                                                  expected: str) -> None:
    container: dict[str, Any] = {"name": "tool", "image": "registry.example.com/acme/tool:3",
                                 "volumeMounts": [_mount("v", "/mnt/v" if volume != "/var/run/docker.sock" else volume)]}
    if env:
        container["env"] = [{"name": "DOCKER_HOST", "value": env}]
    if command:
        container["command"] = command
    e = _explain(_daemonset(container, volumes=[_host("v", volume)]))
    assert e.agent is None and e.migration is not None
    assert e.migration.docs == K8S_GUIDE
    found = {f.rule_id for f in e.findings}
    assert all(set(s.findings) <= found and s.findings for s in e.migration.steps)
    assert expected in " ".join(_texts(e))
    text = _described(e)
    assert "Migration:\n" in text and f"Docs: {K8S_GUIDE}" in text


# --------------------------------------------------------------------------------------------- side effects


def test_side_effects_are_named() -> None:
    e = _explain(yaml.safe_load((ROOT / "tests/manifests/agents/datadog-agent.yaml").read_text()))
    assert e.migration is not None
    (side,) = e.migration.side_effects
    assert "docker.*" in side.text and "containerd.*" in side.text and "cri.*" in side.text
    assert "Side effects:\n    - Metrics change name" in _described(e)
    for agent_id, words in (("telegraf", "kubernetes_pod_container"), ("opentelemetry-collector", "kubeletstats"),
                            ("aws-for-fluent-bit", "metric filters"), ("metricbeat", "docker.*")):
        agent = catalogue.agent_by_id(agent_id)
        assert agent is not None and any(words in s.text for s in agent.side_effects), agent_id


# --------------------------------------------------------------------------------------------- formats


def _run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    run(list(args), out, err)
    return out.getvalue()


def test_json_carries_the_same_steps_as_the_text() -> None:
    path = ROOT / "tests/manifests/agents/datadog-agent.yaml"
    text = _run("explain", "-f", str(path), "ds/datadog", "-n", "datadog")
    doc = json.loads(_run("explain", "-f", str(path), "ds/datadog", "-n", "datadog", "-o", "json"))
    steps = doc["migration"]["steps"]
    assert steps and doc["agent"]["migration"] == doc["migration"]
    flat = " ".join(text.split())
    rules = {f["rule"] for f in doc["findings"]}
    for step in steps + doc["migration"]["sideEffects"]:
        assert step["runtime"] in ("containerd", "cri-o", "any")
        assert step["findings"] and set(step["findings"]) <= rules
        shown = step["text"] if step["always"] else f"{step['text']} [{', '.join(step['findings'])}]"
        assert " ".join(shown.split()) in flat, shown
    numbered = re.findall(r"^    \d+\. ", text, re.M)
    assert len(numbered) == len(steps)
    assert doc["migration"]["containerd"] == [s["text"] for s in steps if s["runtime"] in ("containerd", "any")]


def test_markdown_lists_each_agents_steps_once(tmp_path: Path) -> None:
    plain = yaml.safe_load((ROOT / "tests/manifests/agents/datadog-agent.yaml").read_text())
    other = json.loads(json.dumps(plain))
    other["metadata"]["name"] = "datadog-canary"
    other["metadata"]["namespace"] = "canary"
    (tmp_path / "two.yaml").write_text(yaml.safe_dump_all([plain, other]))
    out = _run("scan", "-f", str(tmp_path), "-o", "markdown")
    assert out.count("### Datadog Agent (`datadog-agent`)") == 1
    section = out.split("### Datadog Agent (`datadog-agent`)", 1)[1]
    steps = re.findall(r"^\d+\. (.+)$", section, re.M)
    assert steps and len(steps) == len(set(steps))
    assert "Upgrade the agent image to 7.27 or later" in section  # the plain manifest runs 7.26
    assert "**Side effects**" in section


def test_markdown_gives_unknown_workloads_neutral_steps(tmp_path: Path) -> None:
    obj = _daemonset({"name": "tool", "image": "registry.example.com/acme/tool:3",
                      "volumeMounts": [_mount("v", "/var/lib/docker/containers")]},
                     volumes=[_host("v", "/var/lib/docker/containers")])
    (tmp_path / "u.yaml").write_text(yaml.safe_dump(obj))
    out = _run("scan", "-f", str(tmp_path), "-o", "markdown")
    section = out.split("### Workloads of unknown images", 1)[1]
    assert "stdout F hello" in section and "docker.sock" not in section.split("Docs:")[0]


def test_workloads_of_one_agent_share_steps_that_fit_any_of_them() -> None:
    old = Finding("DS005", "docker-host-env", "high", "r", container="agent", evidence="DOCKER_HOST=unix:///x")
    migration = workloads_migration("datadog-agent", [old], ["datadog/agent:7.20", "datadog/agent:7.50"])
    assert migration is not None and migration.version_note is None
    texts = [s.text for s in migration.for_runtime("containerd")]
    assert any(t.startswith("Without Helm") for t in texts) and any(t.startswith("Remove DOCKER_HOST") for t in texts)


# --------------------------------------------------------------------------------------------- the audit


def _misplaced(e: Explanation) -> list[str]:
    """Steps that name a mount, variable or upgrade the workload does not have or need."""
    if e.migration is None:
        return []
    found = {f.rule_id for f in e.findings}
    version = catalogue.image_version(e.agent.image) if e.agent else None
    entry = catalogue.agent_by_id(e.agent.id) if e.agent else None
    wrong = []
    for step in (*e.migration.steps, *e.migration.side_effects):
        t = step.text
        if re.search(r"\b(remove|drop|delete)\b[^.;]*docker\.sock", t, re.I) and not found & {"DS001", "DS002", "DS005"}:
            wrong.append(t)
        if "/var/lib/docker/containers" in t and "DS004" not in found:
            wrong.append(t)
        if re.match(r"keep the /var/run", t, re.I) and "DS002" not in found:
            wrong.append(t)
        if re.search(r"\b(drop|remove)\b DOCKER_HOST", t, re.I) and "DS005" not in found:
            wrong.append(t)
        if entry and entry.auto_since and version and f"{entry.auto_since} or later" in t \
                and catalogue.image_version(f"x:{entry.auto_since}") <= version:  # type: ignore[operator]
            wrong.append(t)
        if not set(step.findings) <= found or not step.findings:
            wrong.append(t)
    return wrong


@pytest.mark.parametrize("path", EXAMPLES + AGENT_MANIFESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_explain_gives_only_applicable_steps(path: Path) -> None:
    objects = _objects(path)
    assert objects, path
    for obj in objects:
        e = _explain(obj, objects)
        assert (e.migration is None) == (not e.findings)
        assert not _misplaced(e), (path.name, obj["metadata"]["name"], _misplaced(e))


def _without_volume(obj: dict[str, Any], name: str) -> dict[str, Any]:
    copy = json.loads(json.dumps(obj))
    spec = copy["spec"]
    while "containers" not in spec:  # DaemonSet/Deployment template, CronJob jobTemplate
        spec = spec["template"]["spec"] if "template" in spec else spec["jobTemplate"]["spec"]
    spec["volumes"] = [v for v in spec.get("volumes", []) if v.get("name") != name]
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if m.get("name") != name]
    return copy


def _volumes(obj: dict[str, Any]) -> list[str]:
    spec = obj["spec"]
    while "containers" not in spec:
        spec = spec["template"]["spec"] if "template" in spec else spec["jobTemplate"]["spec"]
    return [v["name"] for v in spec.get("volumes", []) if "hostPath" in v]


@pytest.mark.parametrize("path", [p for p in AGENT_MANIFESTS if p.parent.name == "agents"], ids=lambda p: p.stem)
def test_steps_follow_each_mount_of_the_vendor_manifest(path: Path) -> None:
    """The same audit with one hostPath volume taken away at a time: a step tagged for the wrong
    finding shows up as soon as the workload lacks the mount it talks about."""
    (obj,) = _objects(path)
    for name in _volumes(obj):
        e = _explain(_without_volume(obj, name))
        assert not _misplaced(e), (path.stem, f"without {name}", _misplaced(e))


def test_every_tag_names_a_rule() -> None:
    tags = {t for a in catalogue.load_catalogue() for s in (*a.containerd_steps, *a.crio_steps, *a.side_effects)
            for t in s.findings} | {t for s in catalogue.generic_guidance().steps for t in s.findings}
    assert {t.split(":")[0] for t in tags} <= set(RULES_BY_ID)
    assert {t for t in tags if ":" in t} <= {"DS004:logs", "DS004:data"}
    assert {"DS001", "DS002", "DS004", "DS005"} <= {t.split(":")[0] for t in tags}
    generic = {t for s in catalogue.generic_guidance().steps for t in s.findings}
    assert {r.split(":")[0] for r in generic} == set(RULES_BY_ID)  # every rule has neutral advice


def test_example_explanation_documents_are_consistent() -> None:
    for path in EXAMPLES:
        for obj in _objects(path):
            doc = explanation_document(_explain(obj, _objects(path)))
            if doc["migration"] is None:
                assert not doc["findings"]
                continue
            rules = {f["rule"] for f in doc["findings"]}
            assert all(set(s["findings"]) <= rules for s in doc["migration"]["steps"])
