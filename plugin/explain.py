"""`explain`: everything the plugin knows about one pod or workload, as plain data.

It runs the same rules and owner walk as `scan` on a single object, adds the agent the catalogue
identifies with its migration steps, and for a workload lists the pods it owns. A custom resource
is explained from all its pod templates at once, each finding with the templates it is in.
Printing is left to the describe printer (or json/yaml).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from plugin import paths, queries
from plugin.claims import ClaimSource, pod_spec_view
from plugin.errors import ApiError, UsageError
from plugin.models import AgentRef, Finding, ObjectRef
from plugin.owners import OwnerLookup, resolve_chains
from plugin.podspec import TEMPLATE_KINDS, pod_spec_of
from plugin.resources import Resource, resource_for_type
from plugin.rules import RuleSettings, run_rules
from plugin.scan import mark_migrated

if TYPE_CHECKING:
    from plugin.catalogue import Step
    from plugin.custom_resources import CustomKind


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
    containerd_steps: tuple[str, ...]  # every step of the catalogue entry; `Migration` has those that apply
    crio_steps: tuple[str, ...]
    docs: str
    migrated: tuple[str, ...]
    image: str | None = None  # the image that identified it (its tag decides version-bound steps)

    def ref(self) -> AgentRef:
        return AgentRef(self.id, self.name, self.evidence, self.strong, self.migrated)


RUNTIMES = ("containerd", "cri-o", "any")


@dataclass(frozen=True)
class MigrationStep:
    """One step to take, for one runtime ("any" for both), with the rules of the findings it answers."""

    runtime: str  # one of RUNTIMES
    text: str
    findings: tuple[str, ...]
    general: bool = False  # an untagged step: it applies whatever was found (`findings` is then all of them)


@dataclass(frozen=True)
class Migration:
    """The steps that fit the workload in front of us: only those for what was found, for the
    version its image runs, with the vendor's side effects; the same data for every printer."""

    summary: str
    version_note: str | None
    steps: tuple[MigrationStep, ...]
    side_effects: tuple[MigrationStep, ...]
    docs: str
    agent: str | None  # the catalogue id, None for an unknown workload

    def for_runtime(self, runtime: str) -> tuple[MigrationStep, ...]:
        return tuple(s for s in self.steps if s.runtime == runtime)


def finding_tags(finding: Finding) -> tuple[str, ...]:
    """What a step may be tagged with to answer this finding: its rule id and, for DS004, whether
    the mount holds Docker's container logs ("DS004:logs"), its other data ("DS004:data"), or both
    (the whole /var/lib/docker)."""
    if finding.rule_id != "DS004" or not finding.host_path:
        return (finding.rule_id,)
    path = paths.canonical(paths.join(finding.host_path, finding.sub_path))
    logs = paths.WINDOWS_CONTAINER_LOGS if paths.is_windows(path) else paths.DOCKER_CONTAINER_LOGS
    kinds = []
    if paths.is_within(path, logs) or paths.is_within(logs, path):
        kinds.append("DS004:logs")
    if not paths.is_within(path, logs):
        kinds.append("DS004:data")
    return ("DS004", *kinds)


def _answered(step: Step, rule_ids: tuple[str, ...], tags: tuple[str, ...]) -> tuple[str, ...]:
    if not step.findings:
        return rule_ids
    return tuple(r for r in rule_ids if any(t == r or t.startswith(r + ":") for t in step.findings if t in tags))


def _migration_step(runtime: str, step: Step, rule_ids: tuple[str, ...], tags: tuple[str, ...]) -> MigrationStep:
    return MigrationStep(runtime, step.text, _answered(step, rule_ids, tags), general=not step.findings)


def _cli_steps(findings: Iterable[Finding]) -> tuple[MigrationStep, ...]:
    """The crictl equivalent of each docker command a DS006 finding names."""
    from plugin import catalogue

    evidence = [f.evidence for f in findings if f.rule_id == "DS006" and f.evidence]
    return tuple(MigrationStep("any", f"Instead of `docker {command}`: {instead}", ("DS006",))
                 for command, instead in catalogue.cli_equivalents(evidence))


def migration_for(agent: AgentGuidance | None, findings: Iterable[Finding]) -> Migration | None:
    """The migration advice for these findings: the agent's steps that apply to them and to its
    image's version, or the vendor-neutral steps for an unknown workload; None without findings."""
    return workloads_migration(agent.id if agent else None, findings, [agent.image if agent else None])


def workloads_migration(agent_id: str | None, findings: Iterable[Finding],
                        images: Iterable[str | None]) -> Migration | None:
    """The advice for one agent across workloads (or for the unknown ones, `agent_id` None): a step
    applies when it applies to any of the images, each step once; None without findings."""
    from plugin import catalogue

    found = tuple(findings)
    rule_ids = tuple(sorted({f.rule_id for f in found}))
    tags = tuple(sorted({t for f in found for t in finding_tags(f)}))
    if not rule_ids:
        return None
    seen = tuple(dict.fromkeys(images)) or (None,)
    entry = catalogue.agent_by_id(agent_id) if agent_id else None
    if entry is None:
        generic = catalogue.generic_guidance()
        steps = [_migration_step("any", s, rule_ids, tags) for s in catalogue.applicable(generic.steps, tags, None)]
        return Migration(summary=generic.summary, version_note=None, steps=(*steps, *_cli_steps(found)),
                         side_effects=(), docs=generic.docs, agent=None)

    def fitting(candidates: tuple[Step, ...]) -> list[Step]:
        wanted = {s for image in seen for s in catalogue.applicable(candidates, tags, image)}
        return [s for s in candidates if s in wanted]

    steps = [_migration_step(runtime, s, rule_ids, tags)
             for runtime, candidates in (("containerd", entry.containerd_steps), ("cri-o", entry.crio_steps))
             for s in fitting(candidates)]
    side = tuple(_migration_step("any", s, rule_ids, tags) for s in fitting(entry.side_effects))
    note = catalogue.version_note(entry, seen[0]) if len(seen) == 1 else None
    return Migration(summary=entry.migration_summary, version_note=note, steps=(*steps, *_cli_steps(found)),
                     side_effects=side, docs=entry.docs, agent=entry.id)


@dataclass(frozen=True)
class Explanation:
    ref: ObjectRef
    node: str | None
    owner_chain: tuple[ObjectRef, ...]
    findings: tuple[Finding, ...]
    agent: AgentGuidance | None
    images: tuple[tuple[str, str], ...]  # (container, image)
    pods: tuple[str, ...] = field(default=())  # for a workload: the pods it owns
    note: str | None = None  # how it was explained, when not from the object itself
    migration: Migration | None = None  # the steps that apply to `findings`; None without findings
    warnings: tuple[str, ...] = ()  # what could not be read (the PersistentVolumes of claimed volumes)
    # A custom resource's pod templates (their paths, `spec.templates[0]`), and for each finding
    # (in the order of `findings`) the templates it was found in. Empty for every other object.
    templates: tuple[str, ...] = ()
    finding_templates: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Target:
    """What `explain` was asked about: a kind the plugin reads (`resource` set), or any other
    owner kind that `scan` prints (a Rollout, a Workflow, a Node), as typed."""

    resource: Resource | None
    type_name: str
    name: str
    custom: CustomKind | None = None  # a known custom resource (`wf/NAME`, `rollouts.argoproj.io/NAME`)

    def matches(self, ref: ObjectRef) -> bool:
        """Whether an owner reference is this target: the same kind (singular or plural, with or
        without its API group, any case) and name."""
        if ref.name != self.name:
            return False
        if self.resource is not None:
            return ref.kind == self.resource.kind
        if self.custom is not None:
            return ref.type_key == self.custom.key or (not ref.api_version and ref.kind == self.custom.kind)
        kind, wanted = ref.kind.lower(), self.type_name.lower()
        group = ref.api_version.rpartition("/")[0].lower() if "/" in ref.api_version else ""
        names = {kind, kind + "s", kind + "es"}
        return wanted in names or (bool(group) and wanted in {f"{n}.{group}" for n in names})

    @property
    def kind(self) -> str:
        if self.custom is not None:
            return self.custom.kind
        return self.resource.kind if self.resource else self.type_name


# Types kubectl knows that never own a pod: refused rather than searched for.
_NOT_OWNERS = frozenset({
    "svc", "service", "services", "cm", "configmap", "configmaps", "secret", "secrets", "ns", "namespace",
    "namespaces", "pvc", "persistentvolumeclaim", "persistentvolumeclaims", "pv", "persistentvolume",
    "persistentvolumes", "ing", "ingress", "ingresses", "sa", "serviceaccount", "serviceaccounts",
    "ep", "endpoints", "event", "events", "ev",
})


def parse_target(args: list[str]) -> Target:
    """`POD`, `pod/NAME`, `TYPE/NAME` or `TYPE NAME`, as kubectl accepts them. TYPE may be any
    owner kind `scan` prints: kinds the plugin does not read are explained from their pods."""
    if len(args) == 1 and "/" in args[0]:
        type_name, name = args[0].split("/", 1)
    elif len(args) == 2:
        type_name, name = args
    elif len(args) == 1:
        type_name, name = "pod", args[0]
    else:
        raise UsageError("you must specify the pod or workload to explain: POD, TYPE/NAME or TYPE NAME")
    if not type_name:
        raise UsageError("the type of the object to explain is empty: use TYPE/NAME")
    resource = resource_for_type(type_name)
    if resource is not None and resource.kind == "Node":
        resource = None  # a Node owns its static pods: explained from them, as any owner the plugin does not read
    if (resource is not None and resource.kind != "Pod" and resource.kind not in TEMPLATE_KINDS) \
            or type_name.lower() in _NOT_OWNERS:
        raise UsageError(f'cannot explain "{type_name}": use a pod, a workload (deployment, replicaset, '
                         "daemonset, statefulset, job, cronjob, replicationcontroller) or any owner that "
                         "scan prints (rollout/NAME, node/NAME, ...)")
    if not name:
        raise UsageError("the name of the object to explain is empty")
    custom = None
    if resource is None:
        from plugin.custom_resources import kind_for_type

        custom = kind_for_type(type_name)
    return Target(resource, type_name, name, custom)


def not_found(resource: Resource | None, name: str, type_name: str = "") -> ApiError:
    if resource is None:
        from plugin.custom_resources import kind_for_type

        custom = kind_for_type(type_name) if type_name else None
        if custom is not None:
            return ApiError(f'Error from server (NotFound): {custom.qualified_plural} "{name}" not found', 404,
                            "NotFound")
        return ApiError(f'Error from server (NotFound): no pod owned by {type_name} "{name}" found', 404, "NotFound")
    group = f".{resource.group}" if resource.group else ""
    return ApiError(f'Error from server (NotFound): {resource.plural}{group} "{name}" not found', 404, "NotFound")


def guidance(spec: dict, metadata: dict) -> AgentGuidance | None:
    from plugin import catalogue

    match = catalogue.identify(spec, metadata)
    if match is None:
        return None
    agent = match.agent
    migrated = match.migrated
    if agent.detects_runtime == "none" and match.strong:
        # e.g. node-exporter mounts / but never talks to Docker: the mount is a false alarm. Only
        # an image or command says the container is that agent: a name or label is no evidence.
        migrated += ("this agent does not use the Docker daemon",)
    return AgentGuidance(
        id=agent.id, name=agent.name, vendor=agent.vendor, evidence=match.evidence, strong=match.strong,
        container=match.container, detects_runtime=agent.detects_runtime, auto_since=agent.auto_since,
        summary=agent.migration_summary, containerd_steps=tuple(s.text for s in agent.containerd_steps),
        crio_steps=tuple(s.text for s in agent.crio_steps), docs=agent.docs, migrated=migrated, image=match.image,
    )


def _explain_spec(kind: str, obj: dict, spec: dict, metadata: dict, namespace: str, settings: RuleSettings,
                  claims: ClaimSource | None = None
                  ) -> tuple[list[Finding], AgentGuidance | None, list[tuple[str, str]]]:
    """The findings, agent and (container, image) pairs of one pod spec of `obj`; with `claims`,
    the host paths it reaches through PersistentVolumeClaims too."""
    view = pod_spec_view(kind, obj, spec, metadata, namespace, claims)
    agent = guidance(spec, metadata)
    findings = run_rules(view, settings)
    if agent is not None:
        findings, checked = mark_migrated(findings, agent.ref())
        if checked is not None and checked.migrated != agent.migrated:
            agent = replace(agent, migrated=checked.migrated)
    return findings, agent, [(c.name, c.image or "") for c in view.containers]


def explain_object(kind: str, obj: dict, namespace: str, lookup: OwnerLookup, settings: RuleSettings,
                   owned_pods: Callable[[ObjectRef], Iterable[str]] | None = None,
                   claims: ClaimSource | None = None) -> Explanation:
    from plugin.custom_resources import kind_for_key, pod_templates
    from plugin.resources import type_key

    api_version = str(obj.get("apiVersion") or "")
    search = pod_templates(kind, api_version, obj) if "." in api_version else None
    templates: tuple[str, ...] = ()
    finding_templates: tuple[tuple[str, ...], ...] = ()
    note = None
    if search is None:
        found = pod_spec_of(kind, obj)
        spec, metadata = found if found else ({}, {})
        findings, agent, images = _explain_spec(kind, obj, spec, metadata, namespace, settings, claims)
    else:
        # Every template's findings, each once (the same mount in two templates is one finding, in
        # both), the first agent identified by its image (else the first hinted), every image.
        by_key: dict[tuple, tuple[Finding, list[str]]] = {}
        agents: list[AgentGuidance] = []
        images = []
        for template in search.templates:
            found_here, template_agent, template_images = _explain_spec(kind, obj, template.spec, template.metadata,
                                                                        namespace, settings)
            for finding in found_here:
                by_key.setdefault(finding.key(), (finding, []))[1].append(template.path)
            if template_agent is not None:
                agents.append(template_agent)
            images += template_images
        findings = [f for f, _ in by_key.values()]
        finding_templates = tuple(tuple(dict.fromkeys(paths)) for _, paths in by_key.values())
        agent = next((a for a in agents if a.strong), agents[0] if agents else None)
        images = list(dict.fromkeys(images))
        templates = tuple(t.path for t in search.templates)
        note = f"this {kind} {search.problem}" if search.problem else None
    name, obj_namespace = queries.NAME.search(obj), queries.NAMESPACE.search(obj)
    known = kind_for_key(type_key(kind, api_version)) if "." in api_version else None
    ref_namespace = obj_namespace if isinstance(obj_namespace, str) and obj_namespace else namespace
    ref = ObjectRef(kind, name if isinstance(name, str) else "<unnamed>",
                    None if known is not None and not known.namespaced else ref_namespace, api_version)
    owner_refs = queries.OWNER_REFERENCES.search(obj)
    (chain,) = resolve_chains([(ref, tuple(owner_refs) if isinstance(owner_refs, list) else ())], lookup)
    node = queries.NODE_NAME.search(obj) if kind == "Pod" else None
    return Explanation(
        ref=ref, node=node if isinstance(node, str) else None, owner_chain=chain, findings=tuple(findings),
        agent=agent, images=tuple(images),
        pods=tuple(sorted(owned_pods(ref))) if owned_pods and kind != "Pod" else (),
        migration=migration_for(agent, findings), note=note, templates=templates,
        finding_templates=finding_templates,
    )


def explain_from_pods(target: Target, pods: Iterable[dict], namespace: str, lookup: OwnerLookup,
                      settings: RuleSettings, claims: ClaimSource | None = None) -> Explanation | None:
    """Explain an owner that is not read itself (a kind the plugin does not fetch, or one that
    was deleted) from the pods it owns, as `scan` aggregates them under it; None without pods."""
    candidates: list[tuple[ObjectRef, tuple[dict, ...], dict]] = []
    for p in pods:
        name, refs = queries.NAME.search(p), queries.OWNER_REFERENCES.search(p)
        if isinstance(name, str) and isinstance(refs, list) and refs:
            candidates.append((ObjectRef("Pod", name, namespace), tuple(r for r in refs if isinstance(r, dict)), p))
    chains = resolve_chains([(ref, refs) for ref, refs, _ in candidates], lookup)
    owned: list[tuple[tuple[ObjectRef, ...], dict]] = []
    for (_, _, p), chain in zip(candidates, chains, strict=True):
        at = next((i for i, r in enumerate(chain) if i and target.matches(r)), None)
        if at is not None:
            owned.append((chain[at:], p))
    if not owned:
        return None
    owned.sort(key=lambda o: str(queries.NAME.search(o[1])))
    parts = [explain_object("Pod", p, namespace, lookup, settings, claims=claims) for _, p in owned]
    findings = tuple({f.key(): f for e in parts for f in e.findings}.values())
    agents = [e.agent for e in parts if e.agent]
    agent = next((a for a in agents if a.strong), agents[0] if agents else None)
    chain = owned[0][0]
    if not chain[0].found:
        why = "it was not found"
    elif target.custom is not None:
        why = f"the {chain[0].kind} itself could not be read"
    else:
        why = f"the plugin does not read {chain[0].kind} objects"
    count = f"{len(parts)} pod" + ("s" if len(parts) != 1 else "")
    return Explanation(
        ref=chain[0], node=None, owner_chain=chain, findings=findings, agent=agent,
        images=tuple(dict.fromkeys(i for e in parts for i in e.images)),
        pods=tuple(e.ref.name for e in parts),
        note=f"explained from the {count} it owns: {why}", migration=migration_for(agent, findings),
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
            if any((r.type_key, r.name) == (target.type_key, target.name) for r in chain[1:])]
