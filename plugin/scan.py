"""The core loop: run the rules on every object a source yields, keeping only what matched.

Objects stream through; only those with findings are kept (as small `ScannedObject`s), so
memory grows with the findings, not with the cluster. A custom resource may hold several pod
specs (an Argo Workflow's templates, a Tekton Pipeline's tasks): each is scanned as its own
`ScannedObject` of that resource, whose origin names the template's path, so the report
attributes them all to the one custom resource and can say which template each finding is in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from plugin import queries
from plugin.claims import ClaimSource, pod_spec_view
from plugin.log_config import CONFIG_KINDS
from plugin.models import AgentRef, Finding, ObjectRef, Origin, ScannedObject, SourceObject, lower_severity
from plugin.owners import WALKABLE_KINDS, controller_reference
from plugin.podspec import TEMPLATE_KINDS, pod_spec_of
from plugin.resources import type_key
from plugin.rules import RULES, Rule, RuleSettings, run_rules
from plugin.scheduling import placement_of

if TYPE_CHECKING:
    from plugin.config_mounts import ConfigIndex


@dataclass
class ScanResult:
    scanned: list[ScannedObject] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # objects read, by kind
    problems: list[str] = field(default_factory=list)  # objects not read whole (the result is incomplete)


# (pod spec, metadata) -> the agent it is, or None; the catalogue's `identify`, injected to keep
# this loop free of the catalogue's data.
Identify = Callable[[dict, dict], "AgentRef | None"]


def _signal_fact(signal: str) -> str:
    """The fact a migrated signal names, as a finding's evidence or host path would spell it:
    `env DOCKER_HOST=tcp://x (why)` -> `DOCKER_HOST=tcp://x`."""
    fact = signal.split(" (", 1)[0]
    for prefix in ("env ", "arg ", "hostPath "):
        if fact.startswith(prefix):
            return fact[len(prefix):]
    return fact


def mark_migrated(findings: list[Finding], agent: AgentRef | None) -> tuple[list[Finding], AgentRef | None]:
    """An agent that shows it already runs on (or finds by itself) containerd/CRI-O keeps its
    findings (the mount is still there) one severity lower, with the signals in the reason.

    A signal that is the very fact a rule reports as a dependency (the same env var, argument or
    host path) is no evidence of migration, and is dropped from the agent first."""
    if agent is None or not agent.migrated:
        return findings, agent
    reported = {fact for f in findings for fact in (f.evidence, f.host_path) if fact}
    signals = tuple(s for s in agent.migrated if _signal_fact(s) not in reported)
    if signals != agent.migrated:
        agent = replace(agent, migrated=signals)
    if not signals:
        return findings, agent
    note = f" (ready for containerd/CRI-O: {'; '.join(signals)})"
    return [replace(f, severity=lower_severity(f.severity), reason=f.reason + note) for f in findings], agent


def covered_by_owner(kind: str, obj: dict, covering: Collection[str] = WALKABLE_KINDS) -> bool:
    """A ReplicaSet of a Deployment, a Job of a CronJob: the owner's own template is scanned
    instead. Old revisions (kept for rollback, without pods) would otherwise report what the owner
    no longer runs; their running pods are scanned as pods. `covering` holds the type keys of the
    owners whose templates are read: the built-in workloads, and the custom resources read too
    (a Rollout's ReplicaSets, a Beat's DaemonSet, a CronWorkflow's Workflows)."""
    if kind == "Pod":
        return False
    reference = controller_reference(queries.OWNER_REFERENCES.search(obj))
    if reference is None or reference.get("controller") is not True:
        return False
    return type_key(reference["kind"], str(reference.get("apiVersion") or "")) in covering


def scanned_object(source: SourceObject, findings: Iterable[Finding], agent: AgentRef | None,
                   default_namespace: str | None, spec: dict | None = None,
                   origin: Origin | None = None, runs_as: str | None = None) -> ScannedObject:
    """What the report keeps of a Pod or workload with findings: its identity, owners and findings,
    and, for a template or a pod not yet on a node, where it may run (for `plan`). `spec` is the
    object's pod spec when the caller has it already; `origin`, when not the source's, says which
    of a custom resource's templates it is, and `runs_as` which built-in kind its pods are made as
    (a Beat's DaemonSet template), for their placement."""
    obj = source.obj
    name = queries.NAME.search(obj)
    namespace = queries.NAMESPACE.search(obj)
    is_pod = source.kind == "Pod"
    node = queries.NODE_NAME.search(obj) if is_pod else None
    node = node if isinstance(node, str) and node else None
    if node is None and spec is None:
        found = pod_spec_of(source.kind, obj)
        spec = found[0] if found else None
    owner_refs = queries.OWNER_REFERENCES.search(obj)
    uid = queries.UID.search(obj)
    return ScannedObject(
        ref=ObjectRef(
            kind=source.kind,
            name=name if isinstance(name, str) else "<unnamed>",
            namespace=namespace if isinstance(namespace, str) and namespace else default_namespace,
            api_version=source.api_version,
            uid=uid if isinstance(uid, str) else "",
        ),
        owner_references=tuple(r for r in owner_refs if isinstance(r, dict))
        if isinstance(owner_refs, list) else (),
        is_pod=is_pod,
        node=node,
        origin=origin or source.origin,
        findings=tuple(findings),
        agent=agent,
        placement=placement_of(runs_as or source.kind, spec) if node is None and spec is not None else None,
    )


def scan_objects(objects: Iterable[SourceObject], settings: RuleSettings,
                 default_namespace: str | None = None, identify: Identify | None = None,
                 rules: tuple[Rule, ...] = RULES, into: ScanResult | None = None,
                 claims: ClaimSource | None = None, configs: ConfigIndex | None = None,
                 covering: Collection[str] = WALKABLE_KINDS) -> ScanResult:
    """Scan Pods, workload templates and the pod templates of custom resources (those of a group
    with a dot); other kinds are ignored. `default_namespace` is given to objects that have none
    (manifests usually omit it; `kubectl apply` would use the current one). Only objects with
    findings are identified, so the catalogue costs nothing on clean pods. `covering`: see
    `covered_by_owner` (a live scan fills it as it lists custom resources, before the workloads
    they own). Results accumulate in `into` when given, so a source that fails midway loses
    nothing read.

    With `claims`, host paths that objects reach through PersistentVolumeClaims are checked too.
    With `configs` (rule DS009), ConfigMaps and Helm values go to it, and so does every Pod and
    template, to learn which ConfigMaps each mounts; it decides what to keep of them."""
    result = into if into is not None else ScanResult()
    for source in objects:
        if source.kind in CONFIG_KINDS:
            if configs is not None:
                result.counts[source.kind] += 1
                configs.add_config(source, default_namespace)
            continue
        if source.kind != "Pod" and (source.kind not in TEMPLATE_KINDS or "." in source.api_version):
            if "." in source.api_version:  # a custom resource: a CRD's group has a dot
                _scan_custom_resource(source, settings, default_namespace, identify, rules, result, covering,
                                      claims, configs)
            continue
        result.counts[source.kind] += 1
        if covered_by_owner(source.kind, source.obj, covering):
            continue
        found = pod_spec_of(source.kind, source.obj)
        if found is None:
            continue
        spec, template_metadata = found
        view = pod_spec_view(source.kind, source.obj, spec, template_metadata, default_namespace, claims)
        findings = run_rules(view, settings, rules)
        if not findings:
            if configs is not None:
                configs.add_workload(source, spec, template_metadata, None, default_namespace)
            continue
        agent = identify(spec, template_metadata) if identify else None
        findings, agent = mark_migrated(findings, agent)
        scanned = scanned_object(source, findings, agent, default_namespace, spec)
        result.scanned.append(scanned)
        if configs is not None:
            configs.add_workload(source, spec, template_metadata, scanned, default_namespace)
    return result


def _scan_custom_resource(source: SourceObject, settings: RuleSettings, default_namespace: str | None,
                          identify: Identify | None, rules: tuple[Rule, ...], result: ScanResult,
                          covering: Collection[str], claims: ClaimSource | None = None,
                          configs: ConfigIndex | None = None) -> None:
    """Each pod template of a custom resource, scanned as an object of its own whose origin says
    where the template is. A known kind is counted even without a template; another kind only
    when the generic search finds one. A cluster-scoped known kind (a ClusterWorkflowTemplate)
    is in no namespace. Claims and ConfigMaps are followed as for a built-in workload's template
    (a claim by its name: the pods' names, which ephemeral claims take, are the operator's)."""
    from plugin.custom_resources import kind_for_key, pod_templates

    search = pod_templates(source.kind, source.api_version, source.obj)
    if search is None:
        return
    result.counts[source.kind] += 1
    if covered_by_owner(source.kind, source.obj, covering):
        return
    known = kind_for_key(type_key(source.kind, source.api_version))
    namespace = None if known is not None and not known.namespaced else default_namespace
    for template in search.templates:
        at = source._replace(origin=replace(source.origin, path=template.path))
        view = pod_spec_view(source.kind, source.obj, template.spec, template.metadata, namespace, claims)
        findings = run_rules(view, settings, rules)
        scanned = None
        if findings:
            agent = identify(template.spec, template.metadata) if identify else None
            findings, agent = mark_migrated(findings, agent)
            scanned = scanned_object(source, findings, agent, namespace, template.spec, at.origin, template.runs_as)
            result.scanned.append(scanned)
        if configs is not None:
            configs.add_workload(at, template.spec, template.metadata, scanned, namespace)
    if search.problem:
        name = queries.NAME.search(source.obj)
        where = source.origin.describe()
        result.problems.append(f"{source.kind}/{name if isinstance(name, str) else '<unnamed>'}"
                               f"{f' ({where})' if source.origin.file else ''} {search.problem}")
