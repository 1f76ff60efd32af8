"""Custom resources end to end, through the real kubectl, on the test API server and on a real
kube-apiserver with the operators' CustomResourceDefinitions (tests/e2e/custom_resources_cluster.py):
discovery, the lists, the owner walk through them, the template paths in every output, explain,
a custom resource list the user may not read, and the same objects offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e import custom_resources_cluster as crs
from tests.e2e.cluster import table_rows
from tests.e2e.conftest import Plugin
from tests.k8s_validate import validate_objects
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

TOKENS = {"admin-token": "admin", "alice-token": "alice", "bob-token": "bob"}
BUILT_IN = ("pods", "replicationcontrollers", "nodes", "namespaces", "deployments", "replicasets", "daemonsets",
            "statefulsets", "jobs", "cronjobs")
CUSTOM = tuple(plural for _, _, plural, *_ in crs.VENDOR_CRDS)
POLICY = Policy({
    "admin": [Rule(verbs=("*",))],
    # everything but Argo's Workflows
    "alice": [Rule(resources=tuple(r for r in BUILT_IN + CUSTOM if r != "workflows"))],
    "bob": [Rule(namespaces=("ci",))],  # everything, but only in ci (a RoleBinding)
})
# The lists a scan -A sends for the custom resources: every served kind the plugin knows, at the
# version it prefers (the table's), and none for Volcano's Jobs, which it has no entry for.
CUSTOM_LISTS = {f"/apis/{group}/{versions[0]}/{plural}" for group, _, plural, versions, *_ in crs.VENDOR_CRDS}


@pytest.fixture(scope="module")
def crd_server(server_kind: str) -> Iterator[ApiServer | RealApiServer]:
    if server_kind == "real":
        yield POOL.get("crd", crs.objects, tokens=TOKENS, policy=POLICY)
        return
    objects = crs.objects()
    validate_objects([o for o in objects if "." not in o["apiVersion"].rpartition("/")[0]])
    with ApiServer(objects, tokens=TOKENS, policy=POLICY) as srv:
        yield srv


def plugin_for(server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path, token: str = "admin-token",
               namespace: str = "ci") -> Plugin:
    server.clear_requests()
    kubeconfig = server.write_kubeconfig(str(tmp_path / "kubeconfig"), token=token, namespace=namespace)
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


@pytest.fixture
def plugin(crd_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    return plugin_for(crd_server, plugin_bin, tmp_path)


def test_scan_reports_each_custom_resource_as_one_workload(plugin: Plugin, crd_server) -> None:
    result = plugin.run("scan", "-A")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert table_rows(result.stdout) == crs.EXPECTED_ROWS
    # One discovery request, one list per served kind the plugin knows; nothing per object.
    requests = crd_server.requests
    assert {r.method for r in requests} == {"GET"}
    paths = [r.path for r in requests]
    assert paths.count("/apis") == 1
    assert {p for p in paths if p.startswith("/apis/") and p.split("/")[2] in {g for g, *_ in crs.VENDOR_CRDS}} \
        == CUSTOM_LISTS
    assert not [p for p in paths if "volcano" in p]
    # The Rollout's ReplicaSets are its: none is read by name, as a stand-alone one would be.
    assert not [p for p in paths if "/replicasets/" in p]


def test_wide_and_json_name_the_template_of_each_finding(plugin: Plugin) -> None:
    wide = plugin.run("scan", "-A", "-o", "wide")
    assert wide.returncode == 0, wide.stderr
    header = wide.stdout.splitlines()[0].split()
    assert header[-1] == "TEMPLATE"
    cells = {(r[1], r[4], r[7]): r[-1] for r in table_rows(wide.stdout)}
    assert cells[("Workflow/image-build-x7k2q", "main", "docker-socket")] == "spec.templates[2],spec.templates[3]"
    assert cells[("Beat/metricbeat", "metricbeat", "docker-socket")] == "spec.daemonSet.podTemplate"
    assert cells[("Rollout/build-cache", "cache", "docker-socket-directory")] == "<none>"  # only its old pod
    document = json.loads(plugin.run("scan", "-A", "-o", "json").stdout)
    items = [i for i in document["items"] if i["owner"]["name"] == "metricbeat"]
    assert [s.get("path") for s in items[0]["sources"]] == [None, "spec.daemonSet.podTemplate"]
    assert items[0]["pods"] == ["metricbeat-beat-metricbeat-x7k2p"] and items[0]["agent"]["id"] == "metricbeat"
    assert [r["kind"] for r in items[0]["ownerChain"]] == ["Pod", "DaemonSet", "Beat"]
    assert document["metadata"]["scanned"]["Workflow"] == 2 and document["metadata"]["complete"]
    names = plugin.run("scan", "-A", "-o", "name").stdout.splitlines()
    assert "statefulset.apps.kruise.io/log-agent" in names and "statefulset.apps/log-agent" in names


def test_pods_only_walks_through_the_custom_resources(plugin: Plugin, crd_server) -> None:
    result = plugin.run("scan", "-A", "--pods-only")
    assert result.returncode == 0, result.stderr
    owners = {row[1]: row[3] for row in table_rows(result.stdout)}
    assert owners["RunnerDeployment/org-runners"] == "1" and owners["CronWorkflow/nightly"] == "1"
    assert "Task/docker-build" not in owners  # templates are not read
    paths = [r.path for r in crd_server.requests]
    assert paths.count("/apis") == 1  # discovered once, when the walk met the first custom owner


@pytest.mark.parametrize("target, namespace, kind, pods, templates", [
    ("rollout/build-cache", "ci", "Rollout", ["build-cache-5c8-bbbbb", "build-cache-7f9-aaaaa"], ["spec.template"]),
    ("wf/image-build-x7k2q", "argo", "Workflow", ["image-build-x7k2q-build-3412"],
     ["spec.templates[1]", "spec.templates[2]", "spec.templates[3]"]),
    ("statefulsets.apps.kruise.io/log-agent", "logging", "StatefulSet", ["log-agent-0"], ["spec.template"]),
    ("rdeploy/org-runners", "actions-runner-system", "RunnerDeployment", ["org-runners-w8k2s-p2x9q"],
     ["spec.template.spec"]),
])
def test_explain_a_custom_resource(plugin: Plugin, target: str, namespace: str, kind: str, pods: list[str],
                                   templates: list[str]) -> None:
    result = plugin.run("explain", target, "-n", namespace, "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["kind"], doc["pods"], doc["templates"], doc["dockerDependency"]) == (kind, pods, templates, True)
    assert all(f["templates"] for f in doc["findings"])
    text = plugin.run("explain", target, "-n", namespace).stdout
    assert f"Pod templates:    {', '.join(templates)}" in text and "Template:" in text


def test_explain_of_a_missing_custom_resource(plugin: Plugin) -> None:
    result = plugin.run("explain", "wf/nope", "-n", "argo")
    assert result.returncode == 1
    assert result.stderr.startswith('Error from server (NotFound): workflows.argoproj.io "nope" not found')


def test_a_custom_resource_list_the_user_may_not_read_is_a_warning(crd_server, plugin_bin: Path,
                                                                  tmp_path: Path) -> None:
    alice = plugin_for(crd_server, plugin_bin, tmp_path, "alice-token")
    result = alice.run("scan", "-A")
    assert result.returncode == 4, result.stderr  # incomplete, as for a forbidden workload list
    assert 'Warning: cannot list workflows.argoproj.io (Forbidden): their pod templates are not scanned' \
        in result.stderr
    # The owner walk may not read them either: pods are shown under the Workflow they name.
    assert ('Warning: cannot read workflows.argoproj.io in the namespace "argo" (Forbidden): owners are shown as '
            'far as they could be resolved') in result.stderr
    rows = {row[1]: row for row in table_rows(result.stdout)}
    # Everything else is read; a Workflow still shows through its pod, its template does not.
    assert set(rows) == {r[1] for r in crs.EXPECTED_ROWS} | {"Workflow/nightly-1733022000"}
    assert rows["Workflow/image-build-x7k2q"][3:] == ("1", "high", "docker.sock")
    assert rows["Workflow/nightly-1733022000"][3] == "1" and rows["CronWorkflow/nightly"][3] == "0"


def test_a_namespace_scan_reads_no_cluster_scoped_custom_resource(crd_server, plugin_bin: Path,
                                                                 tmp_path: Path) -> None:
    bob = plugin_for(crd_server, plugin_bin, tmp_path, "bob-token")
    result = bob.run("scan", "-n", "ci")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert [row[0] for row in table_rows(result.stdout)] == [
        "Pipeline/build-and-notify", "Rollout/build-cache", "Task/docker-build", "TaskRun/docker-build-run-1"]
    paths = {r.path for r in crd_server.requests}
    assert "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows" in paths
    assert not [p for p in paths if "clusterworkflowtemplates" in p or "clustertasks" in p or "sidecarsets" in p]


def test_offline_the_same_objects_give_the_same_report(plugin: Plugin, tmp_path: Path) -> None:
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": crs.objects()}))
    offline = plugin.run("scan", "-f", str(dump))
    assert offline.returncode == 0, offline.stderr
    rows = table_rows(offline.stdout)
    # Offline the generic search also finds the Volcano Job, a kind a live scan does not list.
    volcano = ("ml", "Job.batch.volcano.sh/train-and-package", "docker-cli", "0", "high", "docker.sock, docker CLI")
    assert rows == sorted([*crs.EXPECTED_ROWS, volcano], key=lambda r: (r[0], r[1].split("/")[0], r[1]))


def test_manifests_offline_through_kubectl(plugin: Plugin) -> None:
    result = plugin.run("scan", "-f", str(crs.MANIFESTS), "--exit-code")
    assert result.returncode == 3, result.stderr
    owners = [row[1] for row in table_rows(result.stdout)]
    assert "Beat/filebeat" not in owners and "TaskRun/dind-sidecar-8kq2l" not in owners  # the look-alikes
    assert "Workflow/image-build-x7k2q" in owners and "Job.batch.volcano.sh/train-and-package" in owners


def test_legacy_discovery_gives_the_same_report(plugin_bin: Path, tmp_path: Path) -> None:
    """Test server only: a real 1.37 server always offers the aggregated document; the test server
    can answer as an older one (or a proxy that drops the media type) does."""
    with ApiServer(crs.objects(), tokens=TOKENS) as srv:
        plugin = plugin_for(srv, plugin_bin, tmp_path)
        expected = plugin.run("scan", "-A", "-o", "json").stdout
        srv.aggregated_discovery = False
        srv.clear_requests()
        legacy = plugin.run("scan", "-A", "-o", "json")
        requests = srv.requests
    assert legacy.returncode == 0 and legacy.stdout == expected and json.loads(expected)["items"]
    # a resource list per known group and version it has (never twice), for the 8 known groups
    documents = [r.path for r in requests if r.path.count("/") == 3 and r.path.startswith("/apis/")]
    assert len(documents) == len(set(documents)) and len({p.split("/")[2] for p in documents}) == 8
