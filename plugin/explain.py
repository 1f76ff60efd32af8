"""`explain`: everything the plugin knows about one pod or workload, as plain data.

It runs the same rules and owner walk as `scan` on a single object, adds the agent the catalogue
identifies with its migration steps, and for a workload lists the pods it owns. Printing is left
to the describe printer (or json/yaml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from plugin import queries
from plugin.errors import ApiError, UsageError
from plugin.models import AgentRef, Finding, ObjectRef
from plugin.owners import OwnerLookup, resolve_chains
from plugin.podspec import TEMPLATE_KINDS, PodSpecView, pod_spec_of
from plugin.resources import Resource, resource_for_type
from plugin.rules import RuleSettings, run_rules
from plugin.scan import mark_migrated


@dataclass(frozen=True)
class AgentGuidance:
    id: str
    name: str
    vendor: str
    evidence: str
    strong: bool
    container: str | None
    detects_runtime: str  # auto, config, none or unsupported
    auto_since: str | None
    summary: str
    containerd_steps: tuple[str, ...]
    crio_steps: tuple[str, ...]
    docs: str
    migrated: tuple[str, ...]

    def ref(self) -> AgentRef:
        return AgentRef(self.id, self.name, self.evidence, self.strong, self.migrated)


@dataclass(frozen=True)
class Explanation:
    ref: ObjectRef
    node: str | None
    owner_chain: tuple[ObjectRef, ...]
    findings: tuple[Finding, ...]
    agent: AgentGuidance | None
    images: tuple[tuple[str, str], ...]  # (container, image)
    pods: tuple[str, ...] = field(default=())  # for a workload: the pods it owns


def parse_target(args: list[str]) -> tuple[Resource, str]:
    """`POD`, `pod/NAME`, `TYPE/NAME` or `TYPE NAME`, as kubectl accepts them."""
    if len(args) == 1 and "/" in args[0]:
        type_name, name = args[0].split("/", 1)
    elif len(args) == 2:
        type_name, name = args
    elif len(args) == 1:
        type_name, name = "pod", args[0]
    else:
        raise UsageError("you must specify the pod or workload to explain: POD, TYPE/NAME or TYPE NAME")
    resource = resource_for_type(type_name)
    if resource is None or (resource.kind != "Pod" and resource.kind not in TEMPLATE_KINDS):
        raise UsageError(f'cannot explain "{type_name}": use a pod, deployment, replicaset, daemonset, '
                         "statefulset, job, cronjob or replicationcontroller")
    if not name:
        raise UsageError("the name of the object to explain is empty")
    return resource, name


def not_found(resource: Resource, name: str) -> ApiError:
    group = f".{resource.group}" if resource.group else ""
    return ApiError(f'Error from server (NotFound): {resource.plural}{group} "{name}" not found', 404, "NotFound")


def guidance(spec: dict, metadata: dict) -> AgentGuidance | None:
    from plugin import catalogue

    match = catalogue.identify(spec, metadata)
    if match is None:
        return None
    agent = match.agent
    migrated = match.migrated
    if agent.detects_runtime == "none":
        # e.g. node-exporter mounts / but never talks to Docker: the mount is a false alarm
        migrated += ("this agent does not use the Docker daemon",)
    return AgentGuidance(
        id=agent.id, name=agent.name, vendor=agent.vendor, evidence=match.evidence, strong=match.strong,
        container=match.container, detects_runtime=agent.detects_runtime, auto_since=agent.auto_since,
        summary=agent.migration_summary, containerd_steps=agent.containerd_steps, crio_steps=agent.crio_steps,
        docs=agent.docs, migrated=migrated,
    )


def explain_object(kind: str, obj: dict, namespace: str, lookup: OwnerLookup, settings: RuleSettings,
                   owned_pods: Callable[[ObjectRef], Iterable[str]] | None = None) -> Explanation:
    found = pod_spec_of(kind, obj)
    spec, metadata = found if found else ({}, {})
    view = PodSpecView(spec, metadata)
    agent = guidance(spec, metadata)
    findings = run_rules(view, settings)
    if agent is not None:
        findings = mark_migrated(findings, agent.ref())
    name, obj_namespace = queries.NAME.search(obj), queries.NAMESPACE.search(obj)
    ref = ObjectRef(kind, name if isinstance(name, str) else "<unnamed>",
                    obj_namespace if isinstance(obj_namespace, str) and obj_namespace else namespace,
                    str(obj.get("apiVersion") or ""))
    owner_refs = queries.OWNER_REFERENCES.search(obj)
    (chain,) = resolve_chains([(ref, tuple(owner_refs) if isinstance(owner_refs, list) else ())], lookup)
    node = queries.NODE_NAME.search(obj) if kind == "Pod" else None
    return Explanation(
        ref=ref, node=node if isinstance(node, str) else None, owner_chain=chain, findings=tuple(findings),
        agent=agent, images=tuple((c.name, c.image or "") for c in view.containers),
        pods=tuple(sorted(owned_pods(ref))) if owned_pods and kind != "Pod" else (),
    )


def pods_owned_by(target: ObjectRef, pods: Iterable[dict], lookup: OwnerLookup) -> list[str]:
    """Names of the pods whose owner chain passes through `target`."""
    candidates = []
    for p in pods:
        name, refs = queries.NAME.search(p), queries.OWNER_REFERENCES.search(p)
        if isinstance(name, str) and isinstance(refs, list) and refs:
            candidates.append((ObjectRef("Pod", name, target.namespace), tuple(refs)))
    chains = resolve_chains(candidates, lookup)
    return [start.name for (start, _), chain in zip(candidates, chains, strict=True)
            if any((r.kind, r.name) == (target.kind, target.name) for r in chain[1:])]


def label_selector(obj: dict) -> str | None:
    """The workload's `spec.selector` as a label selector string, to list only its pods."""
    selector = (obj.get("spec") or {}).get("selector") if isinstance(obj.get("spec"), dict) else None
    if not isinstance(selector, dict):
        return None
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        # ReplicationController: a plain map of labels
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or None
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or None

