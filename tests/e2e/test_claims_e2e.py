"""Volumes that reach Docker indirectly, end to end through the real kubectl, on the test API
server and on a real kube-apiserver: host paths behind PersistentVolumeClaims (a claim, an
ephemeral volume, a StatefulSet's retained claims), Windows' named pipe, /etc/docker and the
node's docker through nsenter and chroot. The cluster is tests/manifests/volumes/ plus a running
pod of the claimed Deployment and a namespace without claims; a user who may not list
PersistentVolumes gets a warning that names them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from plugin.sources.files import read_manifests
from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e.conftest import Plugin
from tests.k8s_validate import validate_objects
from tests.podspecs import container, owner_ref, pod, pod_spec
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

MANIFESTS = Path(__file__).resolve().parents[1] / "manifests" / "volumes"
TOKENS = {"admin-token": "admin", "carol-token": "carol"}
WORKLOAD_PLURALS = ("pods", "deployments", "replicasets", "daemonsets", "statefulsets", "jobs", "cronjobs",
                    "replicationcontrollers", "nodes", "namespaces")
POLICY = Policy({
    "admin": [Rule(verbs=("*",))],
    "carol": [Rule(resources=WORKLOAD_PLURALS)],  # everything the scan reads but the PersistentVolumes
})
PV_LIST = "/api/v1/persistentvolumes"
FORBIDDEN_WARNING = ("Warning: cannot list persistentvolumes (Forbidden): volumes that pods claim are not checked "
                     "for Docker's host paths\n")


def objects() -> list[dict]:
    found = [s.obj for s in read_manifests([str(MANIFESTS)]).objects]
    runner = next(o for o in found if o["kind"] == "Deployment" and o["metadata"]["name"] == "build-runner")
    template = runner["spec"]["template"]
    runner["metadata"]["uid"] = "uid-deployment-build-runner"  # the uids owner_ref names
    replica_set = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                   "metadata": {"name": "build-runner-6d9c", "namespace": "ci", "labels": template["metadata"]["labels"],
                                "uid": "uid-replicaset-build-runner-6d9c",
                                "ownerReferences": [owner_ref("Deployment", "build-runner")]},
                   "spec": {"replicas": 1, "selector": runner["spec"]["selector"], "template": template}}
    running = pod("build-runner-6d9c-x2kq", template["spec"], "ci", [owner_ref("ReplicaSet", "build-runner-6d9c")],
                  node="node-1", labels=template["metadata"]["labels"])
    plain = pod("web", pod_spec([{"name": "tmp", "emptyDir": {}}, {"name": "conf", "configMap": {"name": "web"}}],
                                [container("web")]), "plain", node="node-1")
    objs = [*found, replica_set, running, plain]
    validate_objects(objs)
    return objs


@pytest.fixture(scope="module")
def claims_server(server_kind: str) -> Iterator[ApiServer | RealApiServer]:
    if server_kind == "real":
        yield POOL.get("volumes", objects, tokens=TOKENS, policy=POLICY)
        return
    with ApiServer(objects(), tokens=TOKENS, policy=POLICY) as server:
        yield server


@pytest.fixture
def claims_plugin(claims_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    claims_server.clear_requests()
    kubeconfig = claims_server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token", context="test",
                                                namespace="ci")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


def wide_rows(result) -> list[tuple[str, ...]]:
    """(namespace, owner, pods, rule, evidence) of each `-o json` item."""
    doc = json.loads(result.stdout)
    return sorted((i["namespace"], f"{i['owner']['kind']}/{i['owner']['name']}", ",".join(i["pods"]), i["rule"],
                   i["evidence"] or "") for i in doc["items"])


def test_claimed_host_paths_are_found_with_one_list_of_persistent_volumes(
        claims_plugin: Plugin, claims_server: ApiServer | RealApiServer) -> None:
    result = claims_plugin.run("scan", "-A", "-o", "json")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    rows = wide_rows(result)
    assert ("ci", "Deployment/build-runner", "build-runner-6d9c-x2kq", "DS001",
            "pvc/docker-socket -> pv/ci-docker-socket") in rows
    assert ("logging", "Pod/log-collector", "log-collector", "DS004",
            "pvc/log-collector-logs -> pv/pvc-1b7e0d2c-0c55-4b8e-9a35-6f0a2f9f7d10") in rows
    # The StatefulSet at 0 replicas: its two retained claims; the Released volume is no one's.
    assert [r[4] for r in rows if r[1] == "StatefulSet/layer-cache"] == [
        "pvc/images-layer-cache-0 -> pv/local-docker-node-a", "pvc/images-layer-cache-1 -> pv/local-docker-node-b"]
    assert {r[3] for r in rows if r[0] == "monitoring"} == {"DS001", "DS004", "DS005", "DS007"}
    assert {r[3] for r in rows if r[1] in ("CronJob/image-prune", "DaemonSet/registry-mirror-setup")} >= {"DS008"}
    assert not any(r[1] in ("Deployment/image-inspector", "DaemonSet/win-exporter", "Pod/nsenter-own-namespaces")
                   for r in rows)
    paths = [r.path for r in claims_server.requests]
    assert paths.count(PV_LIST) == 1, paths
    assert not any("persistentvolumeclaims" in p for p in paths)
    assert {r.method for r in claims_server.requests} == {"GET"}


def test_no_persistent_volumes_are_read_when_no_pod_uses_a_claim(
        claims_plugin: Plugin, claims_server: ApiServer | RealApiServer) -> None:
    result = claims_plugin.run("scan", "-n", "plain,monitoring")
    assert result.returncode == 0, result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()[1:]] == ["DaemonSet/win-agent"]
    assert not any(r.path.startswith(PV_LIST) for r in claims_server.requests)


def test_one_list_serves_every_namespace_scanned(claims_plugin: Plugin,
                                                 claims_server: ApiServer | RealApiServer) -> None:
    result = claims_plugin.run("scan", "-n", "ci,logging,cache", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["statefulset.apps/layer-cache", "deployment.apps/build-runner", "pod/log-collector"]
    assert [r.path for r in claims_server.requests].count(PV_LIST) == 1


def test_a_user_who_may_not_list_persistent_volumes_is_warned_and_the_rest_is_reported(
        claims_plugin: Plugin) -> None:
    result = claims_plugin.run("scan", "-A", "-o", "json", "--token", "carol-token")
    assert result.returncode == 4, result.stderr
    assert result.stderr == FORBIDDEN_WARNING
    doc = json.loads(result.stdout)
    assert doc["warnings"] == [FORBIDDEN_WARNING.removeprefix("Warning: ").strip()]
    rows = wide_rows(result)
    assert not any(r[4].startswith("pvc/") for r in rows)
    # What no claim carries is still found: the build runner's DOCKER_HOST, Windows, the configurators.
    assert ("ci", "Deployment/build-runner", "build-runner-6d9c-x2kq", "DS005", "DOCKER_HOST=unix:///run/docker.sock") \
        not in rows  # DS005 needs the socket's mount, which is the claim
    assert {r[1] for r in rows} == {"DaemonSet/win-agent", "CronJob/image-prune", "DaemonSet/registry-mirror-setup",
                                    "DaemonSet/containerd-mirror-setup"}
    explained = claims_plugin.run("explain", "pod/log-collector", "-n", "logging", "--token", "carol-token")
    assert explained.returncode == 4 and explained.stderr == FORBIDDEN_WARNING
    assert "Docker dependency: none found" in explained.stdout


def test_explain_of_a_claimed_volume_says_what_scan_says(claims_plugin: Plugin) -> None:
    scanned = json.loads(claims_plugin.run("scan", "-A", "-o", "json").stdout)["items"]
    for target, namespace, owner in (("pod/log-collector", "logging", "Pod/log-collector"),
                                     ("deploy/build-runner", "ci", "Deployment/build-runner"),
                                     ("sts/layer-cache", "cache", "StatefulSet/layer-cache")):
        result = claims_plugin.run("explain", target, "-n", namespace, "-o", "json")
        assert result.returncode == 0 and result.stderr == "", result.stderr
        explained = sorted((f["rule"], f["hostPath"], f["evidence"], f["reason"])
                           for f in json.loads(result.stdout)["findings"])
        expected = sorted((i["rule"], i["hostPath"], i["evidence"], i["reason"]) for i in scanned
                          if f"{i['owner']['kind']}/{i['owner']['name']}" == owner)
        assert explained == expected and any(e[2] and e[2].startswith("pvc/") for e in explained)
    text = claims_plugin.run("explain", "pod/log-collector", "-n", "logging").stdout
    assert "Evidence:     pvc/log-collector-logs -> pv/pvc-1b7e0d2c" in text
    assert "through the PersistentVolumeClaim log-collector-logs, bound to the hostPath PersistentVolume" in text


def test_offline_scan_of_a_dump_with_volumes_and_claims_reports_the_same(claims_plugin: Plugin,
                                                                         tmp_path: Path) -> None:
    dump = tmp_path / "dump.json"
    # PersistentVolumes last, as `kubectl get pods,...,pvc,pv -A -o json` lists them.
    ordered = sorted(objects(), key=lambda o: o["kind"] == "PersistentVolume")
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": ordered}))
    offline = claims_plugin.run("scan", "-f", str(dump), "-o", "json")
    online = claims_plugin.run("scan", "-A", "-o", "json")
    assert offline.returncode == online.returncode == 0, offline.stderr

    def items(doc: dict) -> list[dict]:
        return [{k: v for k, v in i.items() if k not in ("sources", "nodeRuntimes")} for i in doc["items"]]

    assert items(json.loads(offline.stdout)) == items(json.loads(online.stdout))


def test_mounts_lists_the_host_paths_behind_claims(claims_plugin: Plugin) -> None:
    result = claims_plugin.run("mounts", "-n", "tools", "-o", "json")
    assert result.returncode == 0, result.stderr
    listed = {(i["volume"], i["hostPath"], i["evidence"]) for i in json.loads(result.stdout)["items"]
              if i["owner"]["name"] == "image-inspector"}
    # The containerd directory behind a claim is a host path; the CSI disk is not.
    assert listed == {("state", "/var/lib/containerd", "pvc/containerd-state -> pv/containerd-state")}
