"""`kubectl dockershim plan` end to end (issue 18), through the real kubectl, against the test API
server and a real kube-apiserver serving the plan cluster (tests/e2e/plan_cluster.py): the
statuses and blockers of every pool, the same plan offline from a dump of the cluster made with
the real kubectl, the requests (scan's plus one node list), -n and -l, a refused node list; on the
test server only, host findings from the node probes' logs (a real apiserver has no kubelet to
serve them) and names that carry control characters."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from plugin.sources.probe_logs import PROBE_NAMESPACE
from tests.apiserver import ApiServer, Policy, Rule
from tests.e2e import plan_cluster
from tests.e2e.cluster import table_rows
from tests.e2e.conftest import ROOT, Plugin
from tests.e2e.plan_cluster import EKS, EXPECTED_BLOCKERS, EXPECTED_POOLS, node
from tests.e2e.test_node_probes import daemonset, host_tree, probe_pod
from tests.e2e.test_terminal_injection import BIDI, ESC, OSC8, assert_no_raw_control
from tests.k8s_validate import validate_objects
from tests.podspecs import owner_ref, pod, socket_spec, workload
from tests.realapi.pool import POOL
from tests.realapi.server import RealApiServer

TOKENS = {"admin-token": "admin", "no-nodes-token": "no-nodes"}
# May read every workload and pod, but not the nodes.
POLICY = Policy({"no-nodes": [Rule(resources=("pods", "deployments", "replicasets", "daemonsets", "statefulsets",
                                               "jobs", "cronjobs", "replicationcontrollers"))]})
DUMP_KINDS = "nodes,pods,deployments,replicasets,daemonsets,statefulsets,jobs,cronjobs,replicationcontrollers"


@pytest.fixture(scope="module")
def plan_objects() -> list[dict]:
    objects = plan_cluster.objects()
    validate_objects(objects)
    return objects


@pytest.fixture(scope="module")
def plan_server(server_kind: str, plan_objects: list[dict]) -> Iterator[ApiServer | RealApiServer]:
    if server_kind == "real":
        yield POOL.get("plan", plan_cluster.objects, tokens=TOKENS, policy=POLICY)
        return
    srv = ApiServer(plan_objects, tokens=TOKENS, policy=Policy({"admin": [Rule(verbs=("*",))], **POLICY.rules}))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def cli(plan_server: ApiServer | RealApiServer, plugin_bin: Path, tmp_path: Path) -> Plugin:
    plan_server.clear_requests()
    kubeconfig = plan_server.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token", context="test",
                                              namespace="ci")
    return Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)


@pytest.fixture
def dump(cli: Plugin, tmp_path: Path) -> Path:
    """The cluster dumped with the real kubectl, nodes included, as the help tells users to."""
    result = cli.kubectl("get", DUMP_KINDS, "-A", "-o", "yaml")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "dump.yaml"
    path.write_text(result.stdout)
    return path


def tables(stdout: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    pools, _, blockers = stdout.partition("\n\n")
    return table_rows(pools), table_rows(blockers)


def test_every_pool_gets_its_status_and_blockers(cli: Plugin) -> None:
    result = cli.run("plan")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[0].split() == ["POOL", "STATUS", "NODES", "RUNTIMES", "BLOCKERS"]
    pools, blockers = tables(result.stdout)
    assert pools == EXPECTED_POOLS
    assert blockers == EXPECTED_BLOCKERS
    assert cli.run("plan", "--exit-code").returncode == 3


def test_the_same_plan_offline_from_a_dump(cli: Plugin, dump: Path) -> None:
    live, offline = cli.run("plan", "-o", "json"), cli.run("plan", "-f", str(dump), "-o", "json")
    assert live.returncode == offline.returncode == 0, (live.stderr, offline.stderr)
    live_doc, offline_doc = json.loads(live.stdout), json.loads(offline.stdout)
    assert live_doc["pools"] == offline_doc["pools"]
    assert (live_doc["metadata"]["context"], offline_doc["metadata"]["context"]) == ("test", None)
    assert live_doc["warnings"] == offline_doc["warnings"] == []
    assert tables(cli.run("plan", "-f", str(dump)).stdout) == (EXPECTED_POOLS, EXPECTED_BLOCKERS)
    assert cli.run("plan", "-f", str(dump), "--exit-code").returncode == 3


def test_the_document_for_scripts(cli: Plugin) -> None:
    doc = yaml.safe_load(cli.run("plan", "-o", "yaml").stdout)
    assert (doc["kind"], doc["metadata"]["namespaces"], doc["metadata"]["poolLabel"]) == ("MigrationPlan", None, None)
    ci = next(p for p in doc["pools"] if p["name"] == "ci")
    assert (ci["label"], ci["status"], ci["nodes"], ci["runtimes"]) == (EKS, "blocked", ["ci-1", "ci-2"], {"docker": 2})
    runner = ci["blockers"][0]
    assert {k: runner[k] for k in ("namespace", "owner", "rules", "agent", "reason", "nodes")} == {
        "namespace": "ci", "owner": {"kind": "Deployment", "name": "runner", "apiVersion": "apps/v1"},
        "rules": ["DS001"], "agent": None, "reason": "running there", "nodes": ["ci-1"]}
    assert runner["step"].startswith("Remove the hostPath of Docker's socket")
    unlabelled = next(p for p in doc["pools"] if p["name"] is None)
    assert (unlabelled["label"], unlabelled["nodes"]) == (None, ["legacy-1"])


def test_requests_are_scans_plus_one_node_list(cli: Plugin, plan_server: ApiServer | RealApiServer) -> None:
    def paths(*args: str) -> Counter[str]:
        plan_server.clear_requests()
        result = cli.run(*args)
        assert result.returncode == 0, result.stderr
        return Counter(r.path for r in plan_server.requests)

    scan, plan = paths("scan", "-A"), paths("plan")
    assert plan - scan == Counter({"/api/v1/nodes": 1}) and scan - plan == Counter()
    assert {r.method for r in plan_server.requests} == {"GET"}


def test_namespaces_and_selectors_narrow_the_workloads_only(cli: Plugin) -> None:
    result = cli.run("plan", "-n", "ci")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ("Warning: only the workloads of the namespace ci were considered: nodes are "
                             "cluster-scoped, so workloads elsewhere may block these pools too\n")
    pools, blockers = tables(result.stdout)
    assert len(pools) == len(EXPECTED_POOLS)  # every node still
    assert {b[0]: b[1] for b in blockers} == {"ci": "ci"}
    assert {p[0]: p[1] for p in pools}["general"] == "migrated"  # its log shipper is in logging
    labelled = cli.run("plan", "-l", "app=log-shipper", "-o", "json")
    doc = json.loads(labelled.stdout)
    assert doc["metadata"]["selector"] == "app=log-shipper"
    # as `scan -l`: the pods carry the label, the DaemonSet object does not, so its template is
    # not read and it blocks only where its pods run
    assert {p["name"]: [b["owner"]["name"] for b in p["blockers"]] for p in doc["pools"] if p["blockers"]} == {
        "general": ["log-shipper"]}
    assert "labels app=log-shipper" in doc["warnings"][0]


def test_wide_and_markdown(cli: Plugin) -> None:
    wide = cli.run("plan", "-o", "wide")
    assert wide.returncode == 0, wide.stderr
    pools, blockers = tables(wide.stdout)
    assert pools[0] == ("gpu", "ready", "1", "docker:1", "0", "cloud.google.com/gke-nodepool", "gpu-1")
    shipper = next(b for b in blockers if b[0] == "general")
    assert shipper[7] == "gen-1,gen-2" and shipper[8].startswith("Set env FLUENT_CONTAINER_TAIL_PARSER_TYPE=cri")
    ticket = cli.run("plan", "-o", "markdown", "--runtime", "cri-o")
    assert ticket.returncode == 0, ticket.stderr
    assert ticket.stdout.startswith("# Switching node pools to cri-o: test\n")
    assert "## ci: blocked" in ticket.stdout and "| ci | CronJob/image-build | \\<unknown\\> | high | DS001 |" in ticket.stdout


def test_a_user_who_may_not_list_nodes_gets_kubectls_error_and_a_hint(cli: Plugin) -> None:
    result = cli.run("plan", "--token", "no-nodes-token")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith('Error from server (Forbidden): nodes is forbidden: User "no-nodes" cannot list '
                                    'resource "nodes" in API group "" at the cluster scope')
    assert result.stderr.endswith("\nhint: plan needs to list the nodes (cluster-scoped), to know their pools and "
                                  "runtimes\n")


def test_usage_errors(cli: Plugin, dump: Path, tmp_path: Path) -> None:
    for args, message in ((["--runtime", "docker"], 'invalid --runtime "docker": use containerd or cri-o'),
                          (["-f", str(dump), "--probes"], "--probes reads the node probes' logs from the cluster"),
                          (["-o", "name"], 'unable to match a printer suitable for the output format "name"'),
                          (["--severity", "critical"], 'invalid --severity "critical"')):
        result = cli.run("plan", *args)
        assert (result.returncode, result.stdout) == (1, ""), args
        assert result.stderr.startswith(f"error: {message}"), result.stderr
        assert result.stderr.endswith("See 'kubectl dockershim plan --help' for usage.\n")
    no_nodes = tmp_path / "workloads.yaml"
    no_nodes.write_text(cli.kubectl("get", "pods,daemonsets", "-A", "-o", "yaml").stdout)
    result = cli.run("plan", "-f", str(no_nodes))
    assert result.returncode == 1 and result.stderr.startswith(
        "error: the input holds no Node: a plan needs the nodes of the cluster\nhint: dump them with the workloads")


def test_the_readme_shows_what_plan_prints_on_the_plan_cluster(cli: Plugin) -> None:
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("$ kubectl dockershim plan\n", 1)[1].split("\n```", 1)[0] + "\n"
    result = cli.run("plan")
    assert shown == result.stdout


def test_the_help_examples_are_the_readmes_flags(cli: Plugin) -> None:
    text = cli.run("plan", "--help").stdout
    assert "kubectl dockershim plan [flags]" in text
    assert cli.run("help", "plan").stdout == text
    readme = (ROOT / "README.md").read_text().split("### `kubectl dockershim plan`", 1)[1].split("\n### ", 1)[0]
    flags = set(re.findall(r"^\| `(?:-\w`, `)?(--[a-z-]+)", readme, re.M))
    assert len(flags) == 13 and flags <= set(re.findall(r"--[a-z-]+", text))


# -- the test server only ------------------------------------------------------------------------

@pytest.fixture
def probed(plugin_bin: Path, tmp_path: Path) -> Iterator[Plugin]:
    """The plan cluster with the node-probe DaemonSet's pods on web-1 (a report with host findings,
    written by the real probe) and gpu-1 (a report without), read from their logs."""
    probe = daemonset()
    probe["metadata"]["uid"] = "uid-ds-probe"  # the uid its pods' owner references name
    objects = [*plan_cluster.objects(), {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROBE_NAMESPACE}},
               probe, probe_pod("dockershim-node-probe-web", "web-1"), probe_pod("dockershim-node-probe-gpu", "gpu-1")]
    srv = ApiServer(objects, tokens=TOKENS).start()
    kubeconfig = srv.write_kubeconfig(str(tmp_path / "kubeconfig"), token="admin-token", context="test")
    cli = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)
    written = cli.run("probe", "--root", str(host_tree(tmp_path / "host")), "--node-name", "web-1", "-o", "json")
    assert written.returncode == 0, written.stderr
    srv.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-web")] = written.stdout
    srv.pod_logs[(PROBE_NAMESPACE, "dockershim-node-probe-gpu")] = json.dumps(
        {"apiVersion": "dockershim.kubectl.dev/v1alpha1", "kind": "NodeProbeReport",
         "metadata": {"node": "gpu-1", "root": "/host", "processesInspected": True}, "items": []}) + "\n"
    yield cli
    srv.stop()


def test_host_findings_from_the_probes_block_their_pool(probed: Plugin) -> None:
    # The probe's own pods mount the host's / read-only: identified by their command as the
    # plugin's node probe, that DS003 is `info` and blocks nothing at the default severities.
    result = probed.run("plan", "--probes")
    assert result.returncode == 0, result.stderr
    pools, blockers = tables(result.stdout)
    statuses = {p[0]: p[1] for p in pools}
    assert statuses["web"] == "blocked" and statuses["gpu"] == "ready"
    assert [b for b in blockers if b[0] == "web"] == [
        ("web", "<none>", "Node/web-1", "<none>", "high", "cron,docker-setting", "on the host")]
    assert result.stderr == ("Warning: 7 nodes have no report from the node probe (deploy/node-probe.yaml), so their "
                             "hosts were not checked: ci-1, ci-2, fresh-1, gen-1, gen-2 and 2 more\n")
    doc = json.loads(probed.run("plan", "--probes", "-o", "json").stdout)
    host = next(p for p in doc["pools"] if p["name"] == "web")["blockers"][0]
    assert (host["owner"], host["namespace"], host["nodes"], host["agent"]) == (
        {"kind": "Node", "name": "web-1", "apiVersion": "v1"}, None, ["web-1"], None)
    assert "crictl" in host["step"] and doc["metadata"]["probes"] is True
    # without --probes, the hosts are not read and web can switch
    assert {p[0]: p[1] for p in tables(probed.run("plan").stdout)[0]}["web"] == "ready"
    # with every severity the probe's own pods are shown, as the plugin's node probe
    everything = json.loads(probed.run("plan", "--severity", "all", "-o", "json").stdout)
    own = [b for p in everything["pools"] for b in p["blockers"] if b["owner"]["name"] == "dockershim-node-probe"]
    assert own and {(b["agent"]["id"], b["severity"]) for b in own} == {("dockershim-node-probe", "info")}


def hostile_objects() -> list[dict]:
    spec = socket_spec()
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "hostile"}},
            node("n" + ESC, "docker://20.10.24", "v1.23.17", {EKS: "pool" + OSC8}),
            node("m\nforged   ready   1   docker:1   0", "containerd://1.7.11", "v1.29.0", {EKS: "p" + BIDI}),
            workload("DaemonSet", "ds" + ESC, spec, "hostile"),
            pod("agent\rx", spec, "hostile", [owner_ref("DaemonSet", "ds" + ESC)], "n" + ESC)]


@pytest.mark.parametrize("fmt", [[], ["-o", "wide"], ["-o", "markdown"]], ids=lambda f: " ".join(f) or "table")
def test_pool_node_and_owner_names_are_escaped(plugin_bin: Path, tmp_path: Path, fmt: list[str]) -> None:
    srv = ApiServer(hostile_objects()).start()
    try:
        kubeconfig = srv.write_kubeconfig(str(tmp_path / "kubeconfig"))
        cli = Plugin(kubeconfig=kubeconfig, bin_dir=plugin_bin, home=tmp_path)
        result = cli.run("plan", *fmt)
        assert_no_raw_control(result)
        assert result.returncode == 0, result.stderr
        assert not any(line.startswith("forged") for line in result.stdout.splitlines())
        if not fmt:
            pools, blockers = tables(result.stdout)
            # one blocker each (the DaemonSet runs on one, would schedule on the other): by name
            assert [p[0] for p in pools] == ["pool\\x1b]8;;https://evil.example/\\x07click\\x1b]8;;\\x07", "p\\u202egnp.exe"]
            assert {b[2] for b in blockers} == {"DaemonSet/ds\\x1b[31mRED\\x1b[0m"}
        if fmt == ["-o", "wide"]:
            assert "m\\nforged   ready" in result.stdout and "n\\x1b[31mRED\\x1b[0m" in result.stdout
        exact = json.loads(cli.run("plan", "-o", "json").stdout)
        assert {p["name"] for p in exact["pools"]} == {"pool" + OSC8, "p" + BIDI}
        assert {n for p in exact["pools"] for n in p["nodes"]} == {"n" + ESC, "m\nforged   ready   1   docker:1   0"}
    finally:
        srv.stop()


def test_building_the_e2e_cluster_leaves_its_shared_specs_alone() -> None:
    """plan_cluster builds on the e2e cluster's pod specs: building that cluster first (as a session
    that runs other modules does) must not change them (it once gave SOCKET a nodeSelector)."""
    from tests.e2e import cluster

    before = json.dumps([cluster.SOCKET, cluster.RUN_DIR, cluster.ROOT], sort_keys=True)
    cluster.objects()
    assert json.dumps([cluster.SOCKET, cluster.RUN_DIR, cluster.ROOT], sort_keys=True) == before
    assert plan_cluster.objects() == plan_cluster.objects()
