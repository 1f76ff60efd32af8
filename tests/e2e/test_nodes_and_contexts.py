"""Issue 4 end to end: `nodes`, several clusters at once, and idle workloads, through the real
kubectl against test API servers and real ones."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apiserver import ApiServer, Policy
from tests.e2e.conftest import Plugin
from tests.k8s_validate import validate_objects
from tests.podspecs import owner_ref, pod, socket_spec, workload
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer


def rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:]]


def test_nodes_table(plugin: Plugin) -> None:
    result = plugin.run("nodes")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "RUNTIME", "RUNTIME-VERSION", "KUBELET", "OS-IMAGE", "DOCKERSHIM"]
    verdicts = {line.split()[0]: (line.split()[2], line.split()[-1]) for line in lines[1:]}
    assert verdicts == {"node-1": ("containerd", "no"), "node-2": ("docker", "yes"),
                        "node-3": ("docker", "cri-dockerd"), "node-4": ("cri-o", "no"), "node-5": ("docker", "yes")}


def test_nodes_selector_wide_json_and_name(plugin: Plugin, server) -> None:
    result = plugin.run("nodes", "-l", "kubernetes.io/hostname=node-5", "-o", "wide")
    (row,) = rows(result.stdout)
    assert row[0] == "node-5" and "/var/run/dockershim.sock" in row
    assert server.requests[-1].query["labelSelector"] == ["kubernetes.io/hostname=node-5"]
    doc = json.loads(plugin.run("nodes", "-o", "json").stdout)
    node3 = next(n for n in doc["items"] if n["name"] == "node-3")
    assert (node3["dockershim"], node3["criSocket"], node3["kubeletVersion"]) == (
        "cri-dockerd", "unix:///var/run/cri-dockerd.sock", "v1.27.3")
    assert plugin.run("nodes", "-o", "name").stdout.splitlines()[0] == "node/node-1"


def test_idle_workloads_are_reported_with_zero_pods(plugin: Plugin) -> None:
    result = plugin.run("scan", "-n", "idle")
    assert result.returncode == 0, result.stderr
    by_owner = {r[0]: r[2] for r in rows(result.stdout)}
    # a CronJob between runs, a Deployment at 0 replicas, a DaemonSet matching no node: all found;
    # the rollout in progress is reported for what its old pod really runs.
    assert by_owner == {"CronJob/nightly-build": "0", "DaemonSet/gpu-agent": "0", "Deployment/rolling": "1",
                        "Deployment/scaled-down": "0"}


def edge_objects() -> list[dict]:
    return [workload("DaemonSet", "log-agent", socket_spec(), "edge"),
            pod("log-agent-a", socket_spec(), "edge", [owner_ref("DaemonSet", "log-agent")], "edge-1")]


@pytest.fixture(scope="module")
def other_clusters(server_kind: str) -> Iterator[tuple[ApiServer | RealApiServer, ApiServer | RealApiServer]]:
    """Two more clusters: "edge", and "locked" where the viewer may read nothing. On the real
    server both are one kube-apiserver: the viewer's token reaches it without any binding."""
    validate_objects(edge_objects())
    if server_kind == "real":
        real = POOL.get("edge", edge_objects, tokens={"admin-token": "admin", "viewer-token": "viewer"},
                        policy=Policy({"viewer": []}))
        yield real, real
        return
    edge = ApiServer(edge_objects()).start()
    locked = ApiServer(edge_objects(), tokens={"viewer-token": "viewer"}, policy=Policy({"viewer": []})).start()
    yield edge, locked
    edge.stop()
    locked.stop()


@pytest.fixture
def three_contexts(plugin: Plugin, server, other_clusters, tmp_path: Path) -> Plugin:
    edge, locked = other_clusters
    files = [server.write_kubeconfig(str(tmp_path / "prod"), context="prod"),
             edge.write_kubeconfig(str(tmp_path / "edge"), context="edge"),
             locked.write_kubeconfig(str(tmp_path / "locked"), token="viewer-token", context="locked")]
    return Plugin(kubeconfig=os.pathsep.join(files), bin_dir=plugin.bin_dir, home=plugin.home)


def test_several_contexts_get_a_context_column(three_contexts: Plugin) -> None:
    result = three_contexts.run("scan", "-A", "--context", "edge", "--context", "prod")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["CONTEXT", "NAMESPACE", "OWNER"]
    contexts = [line.split()[0] for line in lines[1:]]
    assert contexts == sorted(contexts) and set(contexts) == {"edge", "prod"}
    assert ["edge", "edge", "DaemonSet/log-agent"] == lines[1].split()[:3]


def test_all_contexts_with_one_refusing_reports_the_others(three_contexts: Plugin) -> None:
    result = three_contexts.run("scan", "-A", "--all-contexts", "-o", "json")
    assert result.returncode == 4
    assert 'Warning: context "locked": Error from server (Forbidden):' in result.stderr
    doc = json.loads(result.stdout)
    assert doc["metadata"]["contexts"] == ["edge", "locked", "prod"] and doc["metadata"]["complete"] is False
    assert {i["context"] for i in doc["items"]} == {"edge", "prod"}
    # the same command twice gives the same output: contexts run concurrently, output is sorted
    again = three_contexts.run("scan", "-A", "--all-contexts", "-o", "json")
    assert again.stdout == result.stdout


def test_concurrent_contexts_equal_sequential_runs(three_contexts: Plugin) -> None:
    together = json.loads(three_contexts.run("scan", "-A", "--context", "prod", "--context", "edge",
                                             "-o", "json").stdout)["items"]
    one_by_one = []
    for context in ("edge", "prod"):  # the merged report is sorted by context
        items = json.loads(three_contexts.run("scan", "-A", "--context", context, "-o", "json").stdout)["items"]
        one_by_one += [{**item, "context": context} for item in items]
    assert together == one_by_one
