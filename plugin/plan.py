"""`plan`: per node pool, whether it can switch from Docker to containerd or CRI-O now, and what
blocks it. It joins what the other stages know: the scan's report (the workloads that depend on
Docker, with their pods' nodes and their templates' placements), the nodes' runtime verdicts
(`plugin.nodes`, the one definition of "still on Docker"), where a template may be scheduled
(`plugin.scheduling`), the hosts' own findings (`probe`), and the catalogue's first migration step.

Pools come from the well-known node labels (EKS, GKE, AKS, Karpenter, kOps, OpenShift, Cluster API)
or `--pool-label`; nodes without one form one group with no name. A pool is `migrated` when every
node of it runs containerd or CRI-O (verdict `no`) and nothing that needs Docker runs or would run
there; `ready` when it still runs Docker (dockershim or cri-dockerd; an `unknown` runtime is not
proof of a migration, and a pool with mixed runtimes still has nodes to switch) and nothing there
depends on Docker; `blocked` when such a pool has blockers; `broken` when a migrated pool has.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from plugin import queries
from plugin.models import SEVERITIES, AgentRef, Finding, ObjectRef, Report, WorkloadSummary
from plugin.nodes import NodeRuntime, node_runtime
from plugin.report import workloads
from plugin.scheduling import NodeFacts, Placement, can_schedule, node_facts

# The labels that name a node's pool, first match wins: EKS managed node groups, GKE node pools,
# AKS agent pools (and their older label), Karpenter (v1beta1 and later, then v1alpha5), kOps
# instance groups, OpenShift machine sets (when a MachineSet's template puts its label on the
# nodes) and Cluster API machine deployments (when propagated to the nodes).
POOL_LABELS = (
    "eks.amazonaws.com/nodegroup",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
    "agentpool",
    "karpenter.sh/nodepool",
    "karpenter.sh/provisioner-name",
    "kops.k8s.io/instancegroup",
    "machine.openshift.io/cluster-api-machineset",
    "cluster.x-k8s.io/deployment-name",
)
# Without those labels, the annotations the machine controllers put on every node they make:
# OpenShift's nodelink controller links a node to its Machine ("openshift-machine-api/NAME", NAME
# being the MachineSet's name plus a generated suffix), Cluster API names the node's owner (the
# MachineSet, or the control plane).
OPENSHIFT_MACHINE = "machine.openshift.io/machine"
CLUSTER_API_OWNER = "cluster.x-k8s.io/owner-name"
# A MachineSet's machines are named from it plus 5 generated characters; control-plane machines
# NAME-master-0, -1, -2 share NAME-master.
_MACHINE_SUFFIX = re.compile(r"-(?:[a-z0-9]{5}|\d{1,2})$")

MIGRATED, READY, BLOCKED, BROKEN = "migrated", "ready", "blocked", "broken"
STATUSES = (READY, BLOCKED, BROKEN, MIGRATED)
RUNNING, ON_HOST, WOULD_SCHEDULE = "running there", "on the host", "would schedule there"
_REASON_ORDER = {RUNNING: 0, ON_HOST: 1, WOULD_SCHEDULE: 2}
TARGET_RUNTIMES = ("containerd", "cri-o")


@dataclass(frozen=True)
class PlanNode:
    runtime: NodeRuntime  # the `nodes` verdict, with the probe's report when asked
    facts: NodeFacts  # labels and taints, for the scheduling filters
    annotations: dict[str, str] = field(default_factory=dict)  # the machine controllers' annotations only


@dataclass(frozen=True)
class Blocker:
    """A workload (or a node's host) that depends on Docker and runs, or would run, on a pool."""

    namespace: str | None
    owner: ObjectRef  # as `scan` names it; Node/NAME for a host's own findings
    rules: tuple[str, ...]  # rule ids; for a host, the kinds of its findings
    agent: AgentRef | None
    severity: str  # the worst of its findings
    reason: str  # RUNNING, ON_HOST or WOULD_SCHEDULE
    step: str | None  # the catalogue's first migration step (the probe's advice for a host)
    nodes: tuple[str, ...] = ()  # the pool's nodes its pods run on (for a host, the node)


@dataclass(frozen=True)
class Pool:
    name: str | None  # the label's value; None for the nodes without a pool label
    label: str | None  # the label (or annotation) that names it
    status: str
    nodes: tuple[NodeRuntime, ...]
    blockers: tuple[Blocker, ...]
    display: str = ""  # the name as tables show it: `key=value` when two labels give one name

    @property
    def runtimes(self) -> dict[str, int]:
        """How many of its nodes run each runtime ("" when the node does not say), by name."""
        counts: dict[str, int] = {}
        for node in self.nodes:
            counts[node.runtime] = counts.get(node.runtime, 0) + 1
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class MigrationPlan:
    pools: tuple[Pool, ...]
    context: str | None
    namespaces: tuple[str, ...] | None  # None: the workloads of every namespace were considered
    selector: str | None
    pool_label: str | None  # --pool-label, None for the well-known labels
    runtime: str  # the runtime the Docker pools switch to (their blockers' steps are for it)
    severities: tuple[str, ...]  # findings of these severities block
    complete: bool = True
    warnings: tuple[str, ...] = ()
    scanned: dict[str, int] = field(default_factory=dict)
    hidden: dict[str, int] = field(default_factory=dict)  # findings of other severities, not blockers
    probes: bool = False  # the hosts' own findings were read (--probes)

    @property
    def can_switch(self) -> bool:
        """No pool is blocked or broken (what `--exit-code` tests)."""
        return not any(p.status in (BLOCKED, BROKEN) for p in self.pools)


def plan_node(node: dict) -> PlanNode:
    """A Node object reduced to what the plan reads of it (a few hundred bytes, not its status)."""
    annotations = queries.ANNOTATIONS.search(node)
    kept = {k: v for k in (OPENSHIFT_MACHINE, CLUSTER_API_OWNER)
            if isinstance(annotations, dict) and isinstance(v := annotations.get(k), str)}
    return PlanNode(runtime=node_runtime(node), facts=node_facts(node), annotations=kept)


def pool_of(node: PlanNode, pool_label: str | None) -> tuple[str | None, str | None]:
    """(label, name) of the node's pool; (None, None) when nothing names one."""
    labels = node.facts.labels
    if pool_label is not None:
        value = labels.get(pool_label)
        return (pool_label, value) if value else (None, None)
    for key in POOL_LABELS:
        if labels.get(key):
            return key, labels[key]
    machine = node.annotations.get(OPENSHIFT_MACHINE, "")
    if machine:
        return OPENSHIFT_MACHINE, _MACHINE_SUFFIX.sub("", machine.rpartition("/")[2]) or machine
    owner = node.annotations.get(CLUSTER_API_OWNER, "")
    if owner:
        return CLUSTER_API_OWNER, owner
    return None, None


def on_docker(node: NodeRuntime) -> bool:
    """Whether the node still has to switch: dockershim, cri-dockerd, or a runtime it does not tell.
    Only `no` (containerd, CRI-O) is positive evidence of a migration."""
    return node.dockershim != "no"


@dataclass
class _Workload:
    """One blocking candidate: a workload of the report as `scan`'s table sums it up, with where
    its pods run, where its templates may be scheduled, and its findings."""

    summary: WorkloadSummary
    findings: list[Finding] = field(default_factory=list)
    nodes: set[str] = field(default_factory=set)
    placements: dict[Placement, None] = field(default_factory=dict)
    steps: dict[str, str | None] = field(default_factory=dict)  # by runtime, computed once

    def step(self, runtime: str) -> str | None:
        if runtime not in self.steps:
            self.steps[runtime] = first_step(self.summary.agent, self.findings, runtime)
        return self.steps[runtime]


def first_step(agent: AgentRef | None, findings: Sequence[Finding], runtime: str) -> str | None:
    """The catalogue's first step for these findings on `runtime`, as `explain` lists them."""
    from plugin.explain import workloads_migration

    migration = workloads_migration(agent.id if agent else None, findings, [agent.image if agent else None])
    if migration is None:
        return None
    steps = migration.for_runtime(runtime) + migration.for_runtime("any")
    return steps[0].text if steps else None


def _workloads(report: Report) -> list[_Workload]:
    """The report's workloads (`report.workloads`, the rows of `scan`'s table), with their items' facts."""
    found = {(w.context, w.namespace, w.owner.kind, w.owner.name): _Workload(w) for w in workloads(report)}
    for item in report.items:
        workload = found[(item.context, item.namespace, item.owner.kind, item.owner.name)]
        workload.findings.append(item.finding)
        workload.nodes.update(item.nodes)
        workload.placements.update(dict.fromkeys(item.placements))
    return list(found.values())


def _workload_blocker(workload: _Workload, pool_nodes: Sequence[PlanNode], names: set[str],
                      runtime: str) -> Blocker | None:
    """The workload as a blocker of the pool of `pool_nodes` (named `names`), or None."""
    running = tuple(sorted(workload.nodes & names))
    if running:
        reason = RUNNING
    elif any(can_schedule(p, n.facts) for p in workload.placements for n in pool_nodes):
        reason = WOULD_SCHEDULE
    else:
        return None
    w = workload.summary
    return Blocker(namespace=w.namespace, owner=w.owner, rules=w.rules, agent=w.agent, severity=w.severity,
                   reason=reason, step=workload.step(runtime), nodes=running)


def _host_blocker(node: NodeRuntime, severities: Collection[str]) -> Blocker | None:
    """A node whose probe reported host findings of the shown severities: it blocks its pool too."""
    from plugin.probe.findings import severity_rank, sort_key

    report = node.probe.report if node.probe else None
    findings = sorted((f for f in report.findings if f.severity in severities), key=sort_key) if report else []
    if not findings:
        return None
    worst = min(findings, key=lambda f: severity_rank(f.severity))
    return Blocker(namespace=None, owner=ObjectRef("Node", node.name, api_version="v1"),
                   rules=tuple(sorted({f.kind for f in findings})), agent=None, severity=worst.severity,
                   reason=ON_HOST, step=worst.advice, nodes=(node.name,))


def _pool_runtime(nodes: Sequence[NodeRuntime], target: str) -> str:
    """The runtime whose steps fit the pool: the one it already runs, else the one it switches to."""
    runtimes = {n.runtime for n in nodes}
    if len(runtimes) == 1 and not any(map(on_docker, nodes)) and runtimes <= set(TARGET_RUNTIMES):
        return next(iter(runtimes))
    return target


def _blocker_order(blocker: Blocker) -> tuple:
    return (_REASON_ORDER[blocker.reason], blocker.namespace or "", blocker.owner.kind, blocker.owner.name)


def _pool_order(pool: Pool) -> tuple:
    """Those that can switch now, then those with blockers (fewest first), then the migrated."""
    rank = 0 if pool.status == READY else 2 if pool.status == MIGRATED else 1
    return (rank, len(pool.blockers), pool.name is None, pool.name or "", pool.label or "")


def build_plan(report: Report, nodes: Iterable[PlanNode], *, pool_label: str | None = None,
               runtime: str = "containerd", severities: tuple[str, ...] = SEVERITIES,
               namespaces: tuple[str, ...] | None = None, selector: str | None = None,
               probes: bool = False) -> MigrationPlan:
    """The plan of one cluster from its (severity-filtered) report and its nodes."""
    grouped: dict[tuple[str | None, str | None], list[PlanNode]] = {}
    for node in sorted(nodes, key=lambda n: n.runtime.name):
        grouped.setdefault(pool_of(node, pool_label), []).append(node)
    names = [name for _, name in grouped]
    candidates = _workloads(report)
    pools = []
    for (label, name), members in grouped.items():
        runtimes = tuple(n.runtime for n in members)
        step_runtime = _pool_runtime(runtimes, runtime)
        member_names = {n.runtime.name for n in members}
        blockers = [b for w in candidates if (b := _workload_blocker(w, members, member_names, step_runtime))]
        if probes:
            blockers += [b for n in runtimes if (b := _host_blocker(n, severities))]
        docker = any(map(on_docker, runtimes))
        status = (BLOCKED if docker else BROKEN) if blockers else (READY if docker else MIGRATED)
        display = name if name is None or names.count(name) == 1 else f"{label}={name}"
        pools.append(Pool(name=name, label=label, status=status, nodes=runtimes,
                          blockers=tuple(sorted(blockers, key=_blocker_order)), display=display or ""))
    warnings = list(report.warnings)
    if namespaces is not None or selector:
        warnings.append(scope_note(namespaces, selector))
    if probes:
        unprobed = sorted(n.runtime.name for members in grouped.values() for n in members
                          if n.runtime.probe is None or n.runtime.probe.report is None)
        if unprobed:
            warnings.append(_unprobed_note(unprobed))
    return MigrationPlan(pools=tuple(sorted(pools, key=_pool_order)), context=report.context, namespaces=namespaces,
                         selector=selector, pool_label=pool_label, runtime=runtime, severities=severities,
                         complete=report.complete, warnings=tuple(warnings), scanned=dict(report.scanned),
                         hidden=dict(report.hidden), probes=probes)


def scope_note(namespaces: tuple[str, ...] | None, selector: str | None) -> str:
    """What -n and -l left out: nodes are cluster-scoped, so other workloads may block the pools too."""
    parts = []
    if namespaces is not None:
        parts.append(("the namespace " if len(namespaces) == 1 else "the namespaces ") + ", ".join(namespaces))
    if selector:
        parts.append(f"labels {selector}")
    return (f"only the workloads of {' with '.join(parts)} were considered: nodes are cluster-scoped, "
            "so workloads elsewhere may block these pools too")


def _unprobed_note(names: list[str]) -> str:
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    count = f"{len(names)} node" + ("s have" if len(names) != 1 else " has")
    return (f"{count} no report from the node probe (deploy/node-probe.yaml), so their hosts were not "
            f"checked: {shown}")
