"""The plan stage and its printers (plugin.plan, plugin.printers.plan): pools from the well-known
labels and annotations, statuses from the nodes' verdicts, blockers from pods, templates and host
findings, the order, the first step per runtime, and the table, json and markdown forms. Plans are
built through the real offline pipeline (`plan_files`) from the end-to-end plan cluster and
variations of it."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from plugin.models import AgentRef, Finding
from plugin.pipeline import plan_files
from plugin.plan import (
    BLOCKED,
    BROKEN,
    MIGRATED,
    READY,
    MigrationPlan,
    PlanNode,
    build_plan,
    first_step,
    plan_node,
    pool_of,
)
from plugin.printers.plan import plan_document, print_plan, print_plan_markdown
from plugin.probe.findings import HostFinding, ProbeReport
from plugin.report import DEFAULT_SEVERITIES, filter_severities
from plugin.rules import RuleSettings
from plugin.sources.probe_logs import NO_PROBE, NodeProbe
from tests.e2e import plan_cluster
from tests.e2e.cluster import SOCKET
from tests.e2e.plan_cluster import EXPECTED_BLOCKERS, EXPECTED_POOLS, node
from tests.podspecs import owner_ref, pod, workload


def make_plan(tmp_path: Path, objects: list[dict], **options: Any) -> MigrationPlan:
    path = tmp_path / "dump.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    report, nodes, problems = plan_files([str(path)], RuleSettings(), None)
    assert not problems
    severities = options.pop("severities", DEFAULT_SEVERITIES)
    nodes = options.pop("with_nodes", lambda n: n)(nodes)
    return build_plan(filter_severities(report, severities), nodes, severities=severities, **options)


def rows(plan: MigrationPlan) -> list[tuple[str, ...]]:
    return [(p.display or "<none>", p.status, str(len(p.nodes)),
             ",".join(f"{r}:{n}" for r, n in p.runtimes.items()), str(len(p.blockers))) for p in plan.pools]


def blockers(plan: MigrationPlan) -> list[tuple[str, ...]]:
    return [(p.display or "<none>", b.namespace or "<none>", b.owner.describe(),
             b.agent.describe() if b.agent else "<unknown>", b.severity, ",".join(b.rules), b.reason)
            for p in plan.pools for b in p.blockers]


def labelled(name: str, labels: dict[str, str], annotations: dict[str, str] | None = None) -> PlanNode:
    obj = node(name, "containerd://1.7.11", "v1.29.0", labels)
    obj["metadata"]["annotations"] = annotations or {}
    return plan_node(obj)


@pytest.mark.parametrize("label", ["eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool",
                                   "kubernetes.azure.com/agentpool", "agentpool", "karpenter.sh/nodepool",
                                   "karpenter.sh/provisioner-name", "kops.k8s.io/instancegroup",
                                   "machine.openshift.io/cluster-api-machineset", "cluster.x-k8s.io/deployment-name"])
def test_each_well_known_pool_label(label: str) -> None:
    assert pool_of(labelled("n", {label: "pool-a"}), None) == (label, "pool-a")


def test_the_first_well_known_label_wins_and_pool_label_replaces_them() -> None:
    aks = labelled("n", {"agentpool": "old", "kubernetes.azure.com/agentpool": "nodepool1"})
    assert pool_of(aks, None) == ("kubernetes.azure.com/agentpool", "nodepool1")
    assert pool_of(aks, "agentpool") == ("agentpool", "old")
    assert pool_of(aks, "kubernetes.io/hostname") == ("kubernetes.io/hostname", "n")
    assert pool_of(aks, "team") == (None, None)  # without the chosen label: the unlabelled group
    assert pool_of(labelled("n", {"team": ""}), "team") == (None, None)
    assert pool_of(labelled("n", {}), None) == (None, None)


def test_openshift_and_cluster_api_nodes_by_their_machine_annotations() -> None:
    worker = labelled("ip-10-0-1-2", {}, {"machine.openshift.io/machine": "openshift-machine-api/ocp-x7k2p-worker-us-east-1a-4bq9z"})
    assert pool_of(worker, None) == ("machine.openshift.io/machine", "ocp-x7k2p-worker-us-east-1a")
    master = labelled("m0", {}, {"machine.openshift.io/machine": "openshift-machine-api/ocp-x7k2p-master-2"})
    assert pool_of(master, None) == ("machine.openshift.io/machine", "ocp-x7k2p-master")
    capi = labelled("md-0-abc", {}, {"cluster.x-k8s.io/owner-name": "prod-md-0-7c9f8", "cluster.x-k8s.io/owner-kind":
                                     "MachineSet"})
    assert pool_of(capi, None) == ("cluster.x-k8s.io/owner-name", "prod-md-0-7c9f8")
    both = labelled("n", {"eks.amazonaws.com/nodegroup": "ng"}, {"cluster.x-k8s.io/owner-name": "ms"})
    assert pool_of(both, None) == ("eks.amazonaws.com/nodegroup", "ng")  # a label before an annotation
    assert plan_node(node("n", "containerd://1", "v1.29.0")).annotations == {}


def test_the_plan_cluster_gives_every_status_in_order(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, plan_cluster.objects())
    assert rows(plan) == EXPECTED_POOLS
    assert blockers(plan) == EXPECTED_BLOCKERS
    assert {p.status for p in plan.pools} == {READY, BLOCKED, BROKEN, MIGRATED}
    assert plan.hidden == {"info": 1} and not plan.can_switch
    ci = next(p for p in plan.pools if p.name == "ci")
    runner = next(b for b in ci.blockers if b.owner.name == "runner")
    assert runner.nodes == ("ci-1",) and runner.step and "Docker's socket" in runner.step
    assert next(b for b in ci.blockers if b.owner.name == "image-build").nodes == ()


def test_info_findings_block_when_asked(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, plan_cluster.objects(), severities=("high", "medium", "low", "info"))
    # node-exporter tolerates every taint and may run on every node: every pool is blocked or broken
    assert {p.name: p.status for p in plan.pools} == {"gpu": BLOCKED, "web": BLOCKED, "general": BROKEN,
                                                       None: BLOCKED, "ci": BLOCKED, "fresh": BROKEN}
    web = next(p for p in plan.pools if p.name == "web")
    assert [(b.owner.name, b.reason, b.nodes) for b in web.blockers] == [("node-exporter", "running there", ("web-1",))]


def test_only_high_findings_block_when_asked(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, plan_cluster.objects(), severities=("high",))
    statuses = {p.name: p.status for p in plan.pools}
    assert statuses["general"] == MIGRATED and statuses["ci"] == BLOCKED  # the log shipper's DS004 is medium
    assert plan.hidden == {"medium": 1, "low": 1, "info": 1}  # findings, each once per workload


def test_a_pool_with_mixed_runtimes_still_has_nodes_to_switch(tmp_path: Path) -> None:
    objects = [node("a-1", "containerd://1.7.11", "v1.29.0", {"agentpool": "a"}),
               node("a-2", "docker://20.10.24", "v1.23.17", {"agentpool": "a"}),
               node("b-1", "", "v1.29.0", {"agentpool": "b"})]  # the node does not say
    plan = make_plan(tmp_path, objects)
    assert rows(plan) == [("a", "ready", "2", "containerd:1,docker:1", "0"), ("b", "ready", "1", ":1", "0")]


def test_an_agent_running_on_a_mixed_pool_blocks_it(tmp_path: Path) -> None:
    objects = [node("a-1", "containerd://1.7.11", "v1.29.0", {"agentpool": "a"}),
               node("a-2", "docker://20.10.24", "v1.23.17", {"agentpool": "a"}),
               workload("DaemonSet", "agent", SOCKET, "ops"),
               pod("agent-1", SOCKET, "ops", [owner_ref("DaemonSet", "agent")], "a-1")]
    (pool,) = make_plan(tmp_path, objects).pools
    assert pool.status == BLOCKED and [(b.reason, b.nodes) for b in pool.blockers] == [("running there", ("a-1",))]


def test_a_pending_pod_counts_where_its_own_spec_may_run(tmp_path: Path) -> None:
    pending = pod("debug", {**SOCKET, "nodeSelector": {"agentpool": "b"}}, "ops")  # no nodeName yet
    objects = [node("a-1", "docker://20.10.24", "v1.23.17", {"agentpool": "a"}),
               node("b-1", "docker://20.10.24", "v1.23.17", {"agentpool": "b"}), pending]
    plan = make_plan(tmp_path, objects)
    assert [(p.name, p.status, [(b.owner.describe(), b.reason) for b in p.blockers]) for p in plan.pools] == [
        ("a", READY, []), ("b", BLOCKED, [("Pod/debug", "would schedule there")])]


def test_cordoned_and_tainted_pools_against_deployments_and_daemonsets(tmp_path: Path) -> None:
    cordoned = node("c-1", "docker://20.10.24", "v1.23.17", {"agentpool": "cordoned"})
    cordoned["spec"] = {"unschedulable": True}
    objects = [cordoned, node("t-1", "docker://20.10.24", "v1.23.17", {"agentpool": "tainted"},
                              taints=[{"key": "dedicated", "value": "db", "effect": "NoExecute"}]),
               workload("Deployment", "builder", SOCKET, "ci")]
    assert rows(make_plan(tmp_path, objects)) == [("cordoned", "ready", "1", "docker:1", "0"),
                                                  ("tainted", "ready", "1", "docker:1", "0")]
    objects[-1] = workload("DaemonSet", "builder", SOCKET, "ci")
    plan = make_plan(tmp_path, objects)  # a DaemonSet tolerates the cordon, not the taint
    assert [(p.name, p.status) for p in plan.pools] == [("tainted", READY), ("cordoned", BLOCKED)]


def test_host_findings_block_their_nodes_pool(tmp_path: Path) -> None:
    cron = HostFinding(kind="cron", path="/etc/cron.d/prune", evidence="runs `docker system`", severity="high",
                       advice="Replace docker system prune with crictl rmi --prune")
    setting = HostFinding(kind="docker-setting", path="/etc/docker/daemon.json", evidence="log-driver",
                          severity="medium", advice="Set the containerd log settings")
    expected = HostFinding(kind="process", evidence="kubelet", severity="info", advice="")

    def probed(nodes: list[PlanNode]) -> list[PlanNode]:
        reports = {"web-1": NodeProbe("p1", "reported", ProbeReport("web-1", "/host", (expected, setting, cron), (),
                                                                    True, ())),
                   "gpu-1": NodeProbe("p2", "reported", ProbeReport("gpu-1", "/host", (expected,), (), True, ()))}
        return [replace(n, runtime=replace(n.runtime, probe=reports.get(n.runtime.name, NO_PROBE))) for n in nodes]

    plan = make_plan(tmp_path, plan_cluster.objects(), with_nodes=probed, probes=True)
    web = next(p for p in plan.pools if p.name == "web")
    assert web.status == BLOCKED
    (host,) = web.blockers
    assert (host.owner.describe(), host.namespace, host.rules, host.severity, host.reason, host.step, host.nodes) == (
        "Node/web-1", None, ("cron", "docker-setting"), "high", "on the host", cron.advice, ("web-1",))
    assert next(p for p in plan.pools if p.name == "gpu").status == READY  # info findings only
    assert plan.warnings[-1] == ("7 nodes have no report from the node probe (deploy/node-probe.yaml), so their "
                                 "hosts were not checked: ci-1, ci-2, fresh-1, gen-1, gen-2 and 2 more")
    without = make_plan(tmp_path, plan_cluster.objects(), with_nodes=probed)
    assert next(p for p in without.pools if p.name == "web").status == READY and not without.warnings


def test_the_first_step_follows_the_runtime() -> None:
    agent = AgentRef("datadog-agent", "Datadog Agent", "image gcr.io/datadoghq/agent:7.20.0", True)
    findings = [Finding("DS002", "docker-socket-directory", "medium", "x", host_path="/var/run")]
    containerd, crio = first_step(agent, findings, "containerd"), first_step(agent, findings, "cri-o")
    assert containerd and "containerd" in containerd and crio and "CRI-O" in crio
    generic = first_step(None, findings, "cri-o")
    assert generic and generic == first_step(None, findings, "containerd")  # vendor-neutral: for both
    assert first_step(agent, [], "containerd") is None


def test_a_migrated_pool_gets_the_steps_of_its_own_runtime(tmp_path: Path) -> None:
    spec = {**SOCKET, "containers": [{**SOCKET["containers"][0], "image": "gcr.io/datadoghq/agent:7.20.0"}]}
    objects = [node("o-1", "cri-o://1.28.1", "v1.28.2", {"agentpool": "crio"}),
               node("d-1", "docker://20.10.24", "v1.23.17", {"agentpool": "docker"}),
               workload("DaemonSet", "datadog", spec, "monitoring")]
    plan = make_plan(tmp_path, objects)
    steps = {p.name: p.blockers[0].step for p in plan.pools}
    assert "CRI-O" in str(steps["crio"]) and "containerd" in str(steps["docker"])
    assert "CRI-O" in str(make_plan(tmp_path, objects, runtime="cri-o").pools[0].blockers[0].step)


def test_two_labels_giving_one_name_are_told_apart(tmp_path: Path) -> None:
    objects = [node("a", "docker://20.10.24", "v1.23.17", {"eks.amazonaws.com/nodegroup": "default"}),
               node("b", "containerd://1.7.11", "v1.29.0", {"karpenter.sh/nodepool": "default"})]
    plan = make_plan(tmp_path, objects)
    assert [p.display for p in plan.pools] == ["eks.amazonaws.com/nodegroup=default", "karpenter.sh/nodepool=default"]
    assert [p.name for p in plan.pools] == ["default", "default"]


def test_the_scope_note_says_what_was_left_out(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, plan_cluster.objects(), namespaces=("ci", "apps"), selector="team=x")
    assert plan.warnings[-1] == ("only the workloads of the namespaces ci, apps with labels team=x were considered: "
                                 "nodes are cluster-scoped, so workloads elsewhere may block these pools too")


def test_the_table_and_its_wide_form(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, plan_cluster.objects())
    out = io.StringIO()
    print_plan(plan, out, wide=False, no_headers=False)
    pools, _, blocker_lines = out.getvalue().partition("\n\n")
    assert pools.splitlines()[0].split() == ["POOL", "STATUS", "NODES", "RUNTIMES", "BLOCKERS"]
    assert [tuple(line.split()) for line in pools.splitlines()[1:]] == EXPECTED_POOLS
    assert blocker_lines.splitlines()[0].split() == ["POOL", "NAMESPACE", "OWNER", "AGENT", "SEVERITY", "RULES",
                                                     "REASON"]
    assert len(blocker_lines.splitlines()) == 1 + len(EXPECTED_BLOCKERS)
    wide = io.StringIO()
    print_plan(plan, wide, wide=True, no_headers=True)
    first = wide.getvalue().splitlines()[0].split()
    assert first == ["gpu", "ready", "1", "docker:1", "0", "cloud.google.com/gke-nodepool", "gpu-1"]
    runner = next(line for line in wide.getvalue().splitlines() if "Deployment/runner" in line)
    assert re.search(r"running there {3,}ci-1 {3,}Remove the hostPath of Docker's socket", runner)
    empty = io.StringIO()
    print_plan(replace(plan, pools=()), empty, wide=False, no_headers=False)
    assert empty.getvalue() == ""


def test_the_document(tmp_path: Path) -> None:
    doc = plan_document(make_plan(tmp_path, plan_cluster.objects()))
    assert (doc["apiVersion"], doc["kind"]) == ("dockershim.kubectl.dev/v1alpha1", "MigrationPlan")
    assert doc["metadata"]["severities"] == ["high", "medium", "low"] and doc["metadata"]["hidden"] == {"info": 1}
    assert doc["metadata"]["namespaces"] is None and doc["metadata"]["targetRuntime"] == "containerd"
    assert [p["name"] for p in doc["pools"]] == ["gpu", "web", "general", None, "ci", "fresh"]
    unlabelled = doc["pools"][3]
    assert (unlabelled["label"], unlabelled["status"], unlabelled["nodes"], unlabelled["runtimes"]) == (
        None, "blocked", ["legacy-1"], {"docker": 1})
    agent = unlabelled["blockers"][1]
    assert agent["owner"] == {"kind": "DaemonSet", "name": "node-agent", "apiVersion": "apps/v1"}
    assert agent["agent"]["id"] == "datadog-agent" and agent["rules"] == ["DS002"]
    assert (agent["namespace"], agent["reason"], agent["nodes"], agent["severity"]) == (
        "monitoring", "would schedule there", [], "low")
    assert agent["step"].startswith("Keep the /var/run")
    assert json.loads(json.dumps(doc)) == doc


def test_markdown_is_a_ticket_with_every_value_escaped(tmp_path: Path) -> None:
    objects = plan_cluster.objects()
    ci_1 = next(o for o in objects if o["kind"] == "Node" and o["metadata"]["name"] == "ci-1")
    ci_1["metadata"]["labels"]["eks.amazonaws.com/nodegroup"] = "ci|*x*"  # where the runner runs
    out = io.StringIO()
    print_plan_markdown(make_plan(tmp_path, objects), out)
    text = out.getvalue()
    assert text.startswith("# Switching node pools to containerd: the input files\n\n**7 node pools**: "
                           "2 ready, 3 blocked, 1 broken, 1 migrated.\n")
    assert "## ci\\|\\*x\\*: blocked" in text and "| \\<none\\> | blocked | 1 | docker:1 | 2 |" in text
    assert "| logging | DaemonSet/log-shipper | fluentd-kubernetes-daemonset | medium | DS004 | running there |" in text
    assert "Nothing scheduled there depends on Docker." in text and "1 info finding hidden" in text


def beat(name: str, mode: str) -> dict:
    """An ECK Beat whose pods (made by the operator as a DaemonSet or a Deployment) mount the socket."""
    return {"apiVersion": "beat.k8s.elastic.co/v1beta1", "kind": "Beat",
            "metadata": {"name": name, "namespace": "logging"},
            "spec": {"type": "filebeat", "version": "8.12.0", mode: {"podTemplate": {"spec": SOCKET}}}}


def test_a_custom_resources_daemonset_template_is_placed_as_a_daemonsets_pods(tmp_path: Path) -> None:
    """ECK runs a Beat's `spec.daemonSet.podTemplate` as a DaemonSet, whose pods tolerate a cordon
    and disk pressure: it blocks the cordoned pool, while the Deployment-mode Beat may not go there."""
    cordoned = node("old-1", "docker://20.10.24", "v1.23.17", {"agentpool": "old"},
                    taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                            {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"}])
    plan = make_plan(tmp_path, [cordoned, beat("per-node", "daemonSet"), beat("central", "deployment")])
    (pool,) = plan.pools
    assert pool.status == BLOCKED
    assert [(b.owner.describe(), b.reason) for b in pool.blockers] == [("Beat/per-node", "would schedule there")]
