"""The node probe in the cluster: deploy/node-probe.yaml validates against the Kubernetes schemas
and is the DaemonSet `nodes --probes` looks for; and `nodes --probes`, through the real kubectl
against the test API server, reads each probe pod's log (GET pods/NAME/log) and adds the host
findings the real probe wrote there to each node, in the table and in -o json. A node without a
probe pod, a log without a report, and a user who may not read logs are statuses, not failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from plugin.sources.probe_logs import PROBE_NAMESPACE, PROBE_SELECTOR
from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e.conftest import ROOT, Plugin
from tests.k8s_validate import validate_objects

MANIFEST = ROOT / "deploy" / "node-probe.yaml"


def daemonset() -> dict:
    documents = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    assert [d["kind"] for d in documents] == ["DaemonSet"]
    return documents[0]


def node(name: str, runtime: str, kubelet: str) -> dict:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"containerRuntimeVersion": runtime, "kubeletVersion": kubelet,
                                    "architecture": "amd64", "bootID": "", "kernelVersion": "6.1.0",
                                    "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux",
                                    "osImage": "Debian GNU/Linux 12", "systemUUID": ""}}}


def probe_pod(name: str, node_name: str, phase: str = "Running", created: str = "2026-12-01T08:00:00Z") -> dict:
    """A pod of the DaemonSet as its controller makes it: the manifest's template on one node."""
    ds = daemonset()
    template = ds["spec"]["template"]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ds["metadata"]["namespace"], "creationTimestamp": created,
                         "labels": template["metadata"]["labels"],
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "controller": True,
                                              "name": ds["metadata"]["name"], "uid": "uid-ds-probe"}]},
            "spec": {**template["spec"], "nodeName": node_name}, "status": {"phase": phase}}


def host_tree(root: Path) -> Path:
    (root / "etc/cron.d").mkdir(parents=True)
    (root / "etc/cron.d/images").write_text("0 3 * * * root docker image prune -af\n")
    (root / "etc/docker").mkdir()
    (root / "etc/docker/daemon.json").write_text('{"registry-mirrors": ["https://mirror.example"]}')
    return root


@pytest.fixture(scope="module")
def probe_server() -> Iterator[ApiServer]:
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROBE_NAMESPACE}},
        node("node-a", "docker://20.10.24", "v1.23.17"), node("node-b", "containerd://1.7.11", "v1.29.0"),
        node("node-c", "containerd://1.7.11", "v1.29.0"), node("node-d", "containerd://1.7.11", "v1.29.0"),
        probe_pod("dockershim-node-probe-aaaaa", "node-a"),
        probe_pod("dockershim-node-probe-old", "node-a", phase="Failed", created="2026-11-01T08:00:00Z"),
        probe_pod("dockershim-node-probe-bbbbb", "node-b"),
        probe_pod("dockershim-node-probe-ddddd", "node-d"),
    ]
    validate_objects(objects)
    policy = Policy({"admin": [Rule()], "no-logs": [Rule(resources=("nodes", "pods"))]})
    srv = ApiServer(objects, tokens={"admin-token": "admin", "no-logs-token": "no-logs"}, policy=policy).start()
    yield srv
    srv.stop()


@pytest.fixture
def cluster(probe_server: ApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    probe_server.clear_requests()
    kubeconfig = probe_server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


def test_the_manifest_is_valid_and_is_what_nodes_probes_reads() -> None:
    ds = daemonset()
    validate_objects([ds])
    rbac = [d for d in yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text()) if d]
    namespace = next(d for d in rbac if d["kind"] == "Namespace")["metadata"]["name"]
    assert ds["metadata"]["namespace"] == namespace == PROBE_NAMESPACE
    key, value = PROBE_SELECTOR.split("=")
    assert ds["spec"]["selector"]["matchLabels"] == {key: value} == ds["spec"]["template"]["metadata"]["labels"]
    pod = ds["spec"]["template"]["spec"]
    assert pod["hostPID"] is True and pod["automountServiceAccountToken"] is False
    assert pod["tolerations"] == [{"operator": "Exists"}]
    [container] = pod["containers"]
    host = next(v for v in pod["volumes"] if v.get("hostPath"))
    mount = next(m for m in container["volumeMounts"] if m["name"] == host["name"])
    assert host["hostPath"]["path"] == "/" and (mount["mountPath"], mount["readOnly"]) == ("/host", True)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["DAC_READ_SEARCH", "SYS_PTRACE"]}
    limits = container["resources"]["limits"]
    assert limits["memory"].endswith("Mi") and int(limits["memory"][:-2]) <= 256
    script = container["args"][0]
    assert '"probe", "--root", "/host", "-o", "json"' in script and "PLUGIN_SHA256" in script
    assert "time.sleep" in script
    cronjob = (ROOT / "deploy" / "cronjob.yaml").read_text()
    download = [line.strip() for line in script.splitlines()[1:5]]
    assert all(line in cronjob for line in download), "the same download-and-verify start as the CronJob"


def test_nodes_probes_adds_each_nodes_host_findings(cluster: Plugin, probe_server: ApiServer, tmp_path: Path) -> None:
    written = cluster.run("probe", "--root", str(host_tree(tmp_path / "host")), "--node-name", "node-a", "-o", "json")
    assert written.returncode == 0, written.stderr
    # The pod's log: the start's own lines and the probe's warnings, then the report.
    probe_server.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-aaaaa")] = (
        "Warning: processes were not inspected\n" + written.stdout)
    probe_server.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-bbbbb")] = json.dumps(
        {"apiVersion": "dockershim.kubectl.dev/v1alpha1", "kind": "NodeProbeReport",
         "metadata": {"node": "node-b", "root": "/host", "processesInspected": True}, "items": []}) + "\n"
    probe_server.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-ddddd")] = "downloading the plugin...\n"

    result = cluster.run("nodes", "--probes")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[-1] == "HOST-FINDINGS"
    cells = {line.split()[0]: line.split()[-1] for line in lines[1:5]}
    assert cells == {"node-a": "2", "node-b": "0", "node-c": "<no-probe>", "node-d": "<no-report>"}
    findings = lines[lines.index("") + 1:]
    assert findings[0].split()[:4] == ["NODE", "SEVERITY", "KIND", "PROCESS/PATH"]
    assert {tuple(line.split()[:4]) for line in findings[1:]} == {
        ("node-a", "high", "cron", "/etc/cron.d/images"), ("node-a", "medium", "docker-setting", "/etc/docker/daemon.json")}

    document = json.loads(cluster.run("nodes", "--probes", "-o", "json").stdout)
    probes = {item["name"]: item["probe"] for item in document["items"]}
    assert probes["node-a"]["pod"] == "dockershim-node-probe-aaaaa" and probes["node-a"]["status"] == "reported"
    assert [(f["kind"], f["path"], f["evidence"]) for f in probes["node-a"]["findings"]] == [
        ("cron", "/etc/cron.d/images", "runs `docker image`"),
        ("docker-setting", "/etc/docker/daemon.json", 'registry-mirrors: ["https://mirror.example"]')]
    assert "certs.d" in probes["node-a"]["findings"][1]["advice"]
    assert probes["node-c"] == {"pod": None, "status": "no probe pod", "processesInspected": None,
                                "dockerSockets": [], "warnings": [], "findings": []}

    log_reads = [r.path for r in probe_server.requests if r.path.endswith("/log")]
    assert sorted(set(log_reads)) == [f"/api/v1/namespaces/{PROBE_NAMESPACE}/pods/dockershim-node-probe-{n}/log"
                                      for n in ("aaaaa", "bbbbb", "ddddd")]  # never the failed pod's
    assert {r.method for r in probe_server.requests} == {"GET"}

    probe_server.clear_requests()
    plain = json.loads(cluster.run("nodes", "-o", "json").stdout)
    assert all("probe" not in item for item in plain["items"])
    assert not any(r.path.endswith("/log") or PROBE_NAMESPACE in r.path for r in probe_server.requests)


def test_a_user_who_may_not_read_logs_gets_the_nodes_and_a_status(cluster: Plugin, probe_server: ApiServer) -> None:
    result = cluster.run("nodes", "--probes", "-o", "json", "--token", "no-logs-token")
    assert result.returncode == 0, result.stderr
    statuses = {item["name"]: item["probe"]["status"] for item in json.loads(result.stdout)["items"]}
    assert statuses["node-c"] == "no probe pod"
    assert statuses["node-a"].startswith('log not read: Error from server (Forbidden): pods "dockershim-node-probe-aaaaa"'
                                         ' is forbidden: User "no-logs" cannot get resource "pods/log"')
