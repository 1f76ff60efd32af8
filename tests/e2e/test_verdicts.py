"""One answer from scan and explain, live and offline (issue 11), through the real kubectl.

A small cluster of its own holds each shape that made the commands disagree: a pod whose
ReplicaSet was deleted, a DaemonSet whose pods' labels do not match its selector, the same
name in two namespaces, a Rollout and a Node owning pods, a docker CLI reaching the node's
daemon over TCP.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apiserver import ApiServer
from tests.e2e.cluster import _node
from tests.e2e.conftest import Plugin
from tests.e2e.test_explain import fields
from tests.k8s_validate import validate_objects
from tests.podspecs import container, owner_ref, pod, pod_spec, socket_spec, workload

SOCKET = socket_spec()
CLI_TO_NODE = pod_spec(None, [container("build", "docker:24.0.7-cli", command=["docker", "ps"], env=[
    {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
    {"name": "DOCKER_HOST", "value": "tcp://$(HOST_IP):2375"}])])


def _objects() -> list[dict]:
    objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                        for n in ("default", "ci", "security", "tools", "kube-system")]
    objs.append(_node("node-1", "docker://20.10.24", "v1.23.17"))
    # A pod whose ReplicaSet no longer exists (the garbage collector has not caught up).
    objs.append(pod("web-5d4f-abcde", SOCKET, "ci", [owner_ref("ReplicaSet", "web-5d4f")], "node-1"))
    # A DaemonSet whose pods carry labels its selector does not match: owned all the same.
    ds = workload("DaemonSet", "agent", SOCKET, "ci")
    objs.append(ds)
    objs += [pod(f"agent-{i}", SOCKET, "ci", [owner_ref("DaemonSet", "agent")], "node-1", labels={"x": "y"})
             for i in range(3)]
    # The same DaemonSet name in two namespaces.
    objs += [workload("DaemonSet", "falco", SOCKET, "security"), workload("DaemonSet", "falco", SOCKET, "tools")]
    # Owners the plugin does not read.
    objs.append(workload("ReplicaSet", "canary-7c9", SOCKET, "ci", [owner_ref("Rollout", "canary", "argoproj.io/v1alpha1")]))
    objs.append(pod("canary-7c9-aaaaa", SOCKET, "ci", [owner_ref("ReplicaSet", "canary-7c9")], "node-1"))
    mirror = pod("docker-gc-node-1", SOCKET, "kube-system", [owner_ref("Node", "node-1", "v1")], "node-1")
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "4c0f3a2f"}
    objs.append(mirror)
    # The docker CLI pointed at the node's daemon through the downward API.
    objs.append(workload("Deployment", "builder", CLI_TO_NODE, "ci"))
    return objs


@pytest.fixture(scope="module")
def verdict_objects() -> list[dict]:
    objs = _objects()
    validate_objects(objs)
    return objs


@pytest.fixture(scope="module")
def verdict_server(verdict_objects: list[dict]) -> Iterator[ApiServer]:
    srv = ApiServer(verdict_objects, tokens={"admin-token": "admin"}).start()
    yield srv
    srv.stop()


@pytest.fixture
def cli(verdict_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    kubeconfig = verdict_server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token", context="test",
                                                 namespace="ci")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


@pytest.fixture
def dump(cli: Plugin, tmp_path: Path) -> Path:
    """The cluster dumped with the real kubectl, as the README tells users to."""
    result = cli.kubectl("get", "pods,replicasets,deployments,daemonsets,statefulsets,jobs,cronjobs", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "dump.json"
    path.write_text(result.stdout)
    return path


def _items(stdout: str) -> list[dict]:
    # Node runtimes come from the node list, which a dump of workloads does not hold.
    return [{k: v for k, v in i.items() if k not in ("sources", "nodeRuntimes")} for i in json.loads(stdout)["items"]]


def test_a_deleted_replicaset_is_the_owner_live_and_offline(cli: Plugin, dump: Path) -> None:
    live = cli.run("scan", "-A", "-o", "json")
    offline = cli.run("scan", "-f", str(dump), "-o", "json")
    assert live.returncode == offline.returncode == 0, (live.stderr, offline.stderr)
    assert _items(live.stdout) == _items(offline.stdout)
    item = next(i for i in _items(live.stdout) if i["pods"] == ["web-5d4f-abcde"])
    assert item["owner"] == {"kind": "ReplicaSet", "name": "web-5d4f", "apiVersion": "apps/v1", "notFound": True}
    assert item["ownerChain"][-1]["notFound"] is True
    warning = ('Warning: 1 owner was not found (deleted, or not in the input): ReplicaSet/web-5d4f in "ci"; '
               "their pods are reported under them\n")
    assert live.stderr == offline.stderr == warning
    wide = cli.run("scan", "-A", "-o", "wide")
    assert "ReplicaSet/web-5d4f (not found)" in wide.stdout


def test_explain_of_a_pod_whose_owner_is_gone(cli: Plugin) -> None:
    top = fields(cli.run("explain", "web-5d4f-abcde").stdout)
    assert top["Owned by"] == "ReplicaSet/web-5d4f (not found)"
    # scan prints ReplicaSet/web-5d4f as the owner: explain takes it too, from its pods.
    result = cli.run("explain", "rs/web-5d4f")
    assert result.returncode == 0, result.stderr
    top = fields(result.stdout)
    assert top["Kind"] == "ReplicaSet (not found)" and top["Pods"] == "web-5d4f-abcde"
    assert "DS001 docker-socket (high)" in result.stdout


def test_explain_and_scan_agree_on_a_workloads_pods(cli: Plugin, dump: Path) -> None:
    scan = json.loads(cli.run("scan", "-o", "json").stdout)
    pods_in_scan = next(i["pods"] for i in scan["items"] if i["owner"]["name"] == "agent")
    assert pods_in_scan == ["agent-0", "agent-1", "agent-2"]
    for extra in ([], ["-f", str(dump)]):
        explained = json.loads(cli.run("explain", "ds/agent", "-o", "json", *extra).stdout)
        assert explained["pods"] == pods_in_scan, extra


@pytest.mark.parametrize("target, namespace, owner, pods", [
    ("rollout/canary", "ci", "Rollout/canary", ["canary-7c9-aaaaa"]),
    ("rollouts.argoproj.io/canary", "ci", "Rollout/canary", ["canary-7c9-aaaaa"]),
    ("Node/node-1", "kube-system", "Node/node-1", ["docker-gc-node-1"]),
])
def test_every_owner_scan_prints_can_be_explained(cli: Plugin, dump: Path, target: str, namespace: str,
                                                  owner: str, pods: list[str]) -> None:
    scan = json.loads(cli.run("scan", "-A", "-o", "json").stdout)
    assert any(f"{i['owner']['kind']}/{i['owner']['name']}" == owner for i in scan["items"])
    for extra in ([], ["-f", str(dump)]):
        result = cli.run("explain", target, "-n", namespace, "-o", "json", *extra)
        assert result.returncode == 0, (extra, result.stderr)
        doc = json.loads(result.stdout)
        assert (f"{doc['kind']}/{doc['name']}", doc["pods"], doc["dockerDependency"]) == (owner, pods, True)
        assert doc["note"].startswith("explained from the 1 pod it owns")


def test_explain_offline_resolves_the_namespace_as_kubectl_does(cli: Plugin, tmp_path: Path) -> None:
    manifests = tmp_path / "falco.json"
    manifests.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        workload("DaemonSet", "falco", SOCKET, "security"), workload("DaemonSet", "falco", pod_spec(None, [container()]),
                                                                     "tools")]}))
    # The context's namespace is ci: neither copy is there, and both are named instead of one guessed.
    result = cli.run("explain", "ds/falco", "-f", str(manifests))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ('Error from server (NotFound): daemonsets.apps "falco" not found in the namespace "ci"\n'
                             "hint: the input has it in the namespaces security, tools: choose one with -n\n")
    assert fields(cli.run("explain", "ds/falco", "-n", "security", "-f", str(manifests)).stdout)["Namespace"] == "security"
    tools = cli.run("explain", "ds/falco", "-n", "tools", "-f", str(manifests))
    assert fields(tools.stdout)["Docker dependency"] == "none found"


def test_an_object_without_namespace_is_in_the_contexts_namespace(cli: Plugin, tmp_path: Path) -> None:
    manifest = tmp_path / "ds.json"
    ds = workload("DaemonSet", "agent", SOCKET)
    del ds["metadata"]["namespace"]
    manifest.write_text(json.dumps(ds))
    assert json.loads(cli.run("scan", "-f", str(manifest), "-o", "json").stdout)["items"][0]["namespace"] == "ci"
    assert fields(cli.run("explain", "ds/agent", "-f", str(manifest)).stdout)["Namespace"] == "ci"
    assert json.loads(cli.run("scan", "-f", str(manifest), "-n", "x", "-o", "json").stdout)["items"][0]["namespace"] == "x"


def test_a_docker_cli_at_the_nodes_address_is_not_migrated(cli: Plugin) -> None:
    items = [i for i in json.loads(cli.run("scan", "-o", "json").stdout)["items"] if i["owner"]["name"] == "builder"]
    assert [(i["rule"], i["severity"]) for i in items] == [("DS005", "high"), ("DS006", "medium")]
    assert all(i["agent"]["id"] == "docker-cli" and i["agent"]["migrated"] == [] for i in items)
    explained = json.loads(cli.run("explain", "deploy/builder", "-o", "json").stdout)
    assert explained["agent"]["migrated"] == []


def test_info_findings_are_hidden_unless_asked_for(plugin: Plugin) -> None:
    """node-exporter's read-only / is rated info by the plugin itself: not shown by default, and
    --exit-code decides on what is shown."""
    from tests.e2e.cluster import EXPECTED_ROWS, INFO_ROWS, table_rows

    shown = plugin.run("scan", "-n", "monitoring", "--exit-code")
    assert shown.returncode == 3
    assert table_rows(shown.stdout) == [r[1:] for r in EXPECTED_ROWS if r[0] == "monitoring"]
    everything = plugin.run("scan", "-A", "--severity", "all")
    assert sorted(table_rows(everything.stdout)) == sorted(EXPECTED_ROWS + INFO_ROWS)
    only_info = plugin.run("scan", "-A", "--severity=info", "--exit-code")
    assert (only_info.returncode, table_rows(only_info.stdout)) == (3, INFO_ROWS)
    high = plugin.run("scan", "-n", "monitoring", "--severity", "high", "--exit-code")
    assert (high.returncode, high.stdout) == (0, "")
    assert high.stderr == "No resources found in monitoring namespace.\n"
    doc = json.loads(plugin.run("scan", "-n", "monitoring", "-o", "json").stdout)
    assert {i["severity"] for i in doc["items"]} == {"low"}
    bad = plugin.run("scan", "--severity", "critical")
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr.startswith('error: invalid --severity "critical": use a comma list of high, medium, low, info')


def test_hand_written_pods_without_references_belong_to_the_selecting_workload(plugin: Plugin, tmp_path: Path) -> None:
    """Offline, where no pod carries owner references (manifests, not a dump), a workload's pods
    are the ones its selector picks, for scan and explain alike; a pod no workload selects stays
    its own owner, and in a dump (pods with references) a pod without them is a bare pod."""
    ds = workload("DaemonSet", "agent", SOCKET, "ci")
    picked = pod("agent-x", SOCKET, "ci", None, "node-1", labels={"app": "agent"})
    stray = pod("stray", SOCKET, "ci", None, "node-1", labels={"app": "other"})
    manifests = tmp_path / "manifests.json"
    manifests.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [ds, picked, stray]}))
    scan = json.loads(plugin.run("scan", "-f", str(manifests), "-o", "json").stdout)
    owners = {(i["owner"]["kind"], i["owner"]["name"]): i["pods"] for i in scan["items"]}
    assert owners == {("DaemonSet", "agent"): ["agent-x"], ("Pod", "stray"): ["stray"]}
    explained = json.loads(plugin.run("explain", "ds/agent", "-n", "ci", "-f", str(manifests), "-o", "json").stdout)
    assert explained["pods"] == ["agent-x"]
    pod_view = json.loads(plugin.run("explain", "agent-x", "-n", "ci", "-f", str(manifests), "-o", "json").stdout)
    assert [r["kind"] for r in pod_view["ownerChain"]] == ["Pod", "DaemonSet"]

    referenced = pod("agent-y", SOCKET, "ci", [owner_ref("DaemonSet", "agent")], "node-1", labels={"app": "agent"})
    manifests.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [ds, picked, referenced]}))
    scan = json.loads(plugin.run("scan", "-f", str(manifests), "-o", "json").stdout)
    owners = {(i["owner"]["kind"], i["owner"]["name"]): i["pods"] for i in scan["items"]}
    assert owners == {("DaemonSet", "agent"): ["agent-y"], ("Pod", "agent-x"): ["agent-x"]}
