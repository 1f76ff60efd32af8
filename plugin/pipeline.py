"""Builds the pipeline for a scan: source -> rules -> owners -> report.

`scan_cluster` streams pods from the API server; `scan_files` reads manifests and dumps. Both
end in the same `Report`, so the printers never know where the objects came from.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from plugin import queries
from plugin.claims import ClusterClaims, OfflineClaims
from plugin.config_mounts import ConfigIndex, explained_with_configs, mounted_config_maps, wants_config_maps
from plugin.errors import ApiError
from plugin.explain import (
    Explanation,
    Target,
    explain_from_pods,
    explain_object,
    guidance,
    not_found,
    parse_target,
    pods_owned_by,
)
from plugin.models import AgentRef, ObjectRef, Origin, Report, ScannedObject, SourceObject
from plugin.owners import WALKABLE_KINDS, ClusterLookup, ObjectsLookup, resolve_chains
from plugin.progress import Progress
from plugin.report import build_report
from plugin.resources import type_key
from plugin.rules import RULES, Rule, RuleSettings
from plugin.scan import Identify, ScanResult, covered_by_owner, scan_objects
from plugin.sources.config_maps import read_config_maps
from plugin.sources.files import FileProblem, FileScan, read_manifests, stream_manifests

if TYPE_CHECKING:
    from plugin.api import ApiClient
    from plugin.discovery import ServedCustomResources
    from plugin.kubeconfig import Connection, ConnectionFlags
    from plugin.plan import PlanNode
    from plugin.resources import Resource


def settle_garbage_collector() -> None:
    """Tune CPython's cycle collector for a scan, which it would otherwise slow by a quarter.

    Everything imported so far (the Kubernetes client is large) lives until exit: it is frozen,
    so no collection walks it again. And young objects are collected 70 times less often (every
    50,000 allocations instead of 700): a page of 500 pods decodes to some 150,000 objects that
    live until the page is scanned, and the default threshold makes the collector walk them
    over and over. Nothing is lost: decoded JSON and YAML trees hold no reference cycles, so
    reference counting frees each page, or document, as soon as the scan is done with it."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def identify_agent(spec: dict, metadata: dict) -> AgentRef | None:
    """The catalogue's identification, reduced to what a report item carries."""
    agent = guidance(spec, metadata)
    return agent.ref() if agent else None


def scan_cluster(flags: ConnectionFlags, settings: RuleSettings, *, all_namespaces: bool,
                 label_selector: str | None = None, field_selector: str | None = None,
                 rules: tuple[Rule, ...] = RULES, identify: Identify | None = identify_agent,
                 pods_only: bool = False, node_runtimes: bool = False, read_configmaps: bool = False) -> Report:
    """Scan one cluster: the pods, which show what really runs, and the workloads' pod templates
    (idle CronJobs, Deployments at 0 replicas and DaemonSets without pods depend on Docker too).
    The workload lists also feed the owner walk, so it sends no request of its own.

    `-n a,b` scans several namespaces: one that is forbidden is skipped with a warning.
    `mounts` passes its listing rule and no identification. `read_configmaps` (rule DS009) then
    GETs the ConfigMaps mounted by workloads with findings or by known log agents, once each."""
    from plugin.api import ApiClient
    from plugin.kubeconfig import load_connection

    connection = load_connection(flags)
    return _scan_connection(ApiClient(connection), connection, settings, all_namespaces=all_namespaces,
                            label_selector=label_selector, field_selector=field_selector, rules=rules,
                            identify=identify, pods_only=pods_only, node_runtimes=node_runtimes,
                            read_configmaps=read_configmaps)


def _scan_connection(api: ApiClient, connection: Connection, settings: RuleSettings, *, all_namespaces: bool,
                     label_selector: str | None = None, field_selector: str | None = None,
                     rules: tuple[Rule, ...] = RULES, identify: Identify | None = identify_agent,
                     pods_only: bool = False, node_runtimes: bool = False,
                     read_configmaps: bool = False) -> Report:
    """`scan_cluster` on a connection already made (`plan` lists the nodes on it too)."""
    from plugin.discovery import ServedCustomResources

    settle_garbage_collector()
    scopes: list[str | None] = [None] if all_namespaces else list(dict.fromkeys(
        n.strip() for n in connection.namespace.split(",") if n.strip()))
    # Discovered when first needed: by the custom resource lists, or by the owner walk.
    custom = ServedCustomResources(api)
    lookup = ClusterLookup(api, custom.resource_for)
    problems: list[str] = []
    # PersistentVolumes are listed once, and only if some pod or template uses a claim.
    claims = ClusterClaims(api, problems, connection.context)
    result = ScanResult()
    progress = Progress()
    configs = ConfigIndex(identify, log_agents_only=True) if read_configmaps and identify is not None else None
    # A field selector (spec.nodeName, status.phase) only means something for pods.
    with_templates = not pods_only and not field_selector
    for scope in scopes:
        # The owners whose templates stand for what they own: the built-in workloads, then each
        # custom resource kind once it has been listed whole in this scope.
        covering = set(WALKABLE_KINDS)
        objects = progress.track(_cluster_objects(api, scope, connection.context, lookup, problems,
                                                  label_selector, field_selector, with_templates, custom, covering),
                                 connection.context or "")
        try:
            scan_objects(objects, settings, default_namespace=scope, identify=identify, rules=rules, into=result,
                         claims=claims, configs=configs, covering=covering)
        except ApiError as err:
            if err.status != 403:
                raise
            if scope is None:
                raise ApiError(err.message, err.status, err.reason,
                               hint="you may be allowed to read only some namespaces: "
                                    "scan them with -n NAMESPACE[,NAMESPACE...]") from None
            if len(scopes) == 1:
                raise
            problems.append(f'cannot list pods in the namespace "{scope}" (Forbidden): not scanned')
        finally:
            progress.done()
    if configs is not None:
        # After the pods and templates: only then is it known which ConfigMaps are worth a request.
        scan_objects(read_config_maps(api, configs.wanted(), connection.context, problems), settings,
                     into=result, configs=configs)
        result.scanned.extend(configs.scanned_objects())
    # Node runtimes are extra information: without them the result is still complete.
    node_problems: list[str] = []
    runtimes = _node_runtimes(api, node_problems) if node_runtimes and result.scanned else {}
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    unread = problems + custom.problems + result.problems + lookup.problems
    return build_report(result.scanned, chains, warnings=unread + node_problems,
                        complete=not unread,
                        context=connection.context, namespace=scopes[0] if len(scopes) == 1 else None,
                        counts=result.counts, node_runtimes=runtimes)


def _cluster_objects(api: ApiClient, scope: str | None, context: str | None, lookup: ClusterLookup,
                     problems: list[str], label_selector: str | None, field_selector: str | None,
                     with_templates: bool, custom: ServedCustomResources | None = None,
                     covering: set[str] | None = None) -> Iterator[SourceObject]:
    """The pods, then the known custom resources the cluster serves, then the workloads of every
    listed kind, of one namespace scope. Pods come first: where they may not be read, the scan of
    that scope stops before any workload warning. Custom resources come before the workloads, so
    that what they own (a Rollout's ReplicaSets) is known to be covered by their templates."""
    from plugin.resources import PODS, WORKLOAD_RESOURCES
    from plugin.sources.cluster import cluster_objects
    from plugin.sources.custom_resources import custom_resource_objects

    covering = set(WALKABLE_KINDS) if covering is None else covering
    yield from cluster_objects(api, PODS, scope, context=context, label_selector=label_selector,
                               field_selector=field_selector)
    if with_templates:
        if custom is not None:
            yield from custom_resource_objects(api, custom, scope, context=context, lookup=lookup, problems=problems,
                                               label_selector=label_selector, covering=covering)
        for resource in WORKLOAD_RESOURCES:
            try:
                if resource.kind in OWNED_KINDS:
                    objects = _owned_workloads(api, resource, scope, context, label_selector, covering)
                else:
                    objects = cluster_objects(api, resource, scope, context=context, label_selector=label_selector)
                for source in objects:
                    lookup.remember(source.kind, source.obj)
                    yield source
            except ApiError as err:
                if err.status != 403:
                    raise
                problems.append(f"cannot list {resource.qualified_plural}{_where(scope)} (Forbidden): "
                                "its idle workloads are not scanned")
                continue
            # A filtered list does not tell that an owner is gone: the user's selector, or the
            # one that leaves out the ReplicaSets Deployments made.
            if not label_selector and resource.kind not in UNLISTED_BY_LABEL:
                lookup.mark_listed(resource.kind, scope)


# Workload kinds whose objects mostly belong to another listed workload: a Deployment's
# ReplicaSets (ten old revisions by default), a CronJob's Jobs. The owner's template is scanned
# instead of theirs (`scan.covered_by_owner`), so only their metadata is listed.
OWNED_KINDS = frozenset({"ReplicaSet", "Job"})

# The label the Deployment controller puts on every ReplicaSet it makes (and on their pods), and
# that nothing else sets. Those ReplicaSets are not listed at all: their templates are their
# Deployment's, which is scanned, and their pods are scanned as pods, whose owner walk then reads
# the few ReplicaSets it needs (`ClusterLookup`). Listing them would cost more than the pods'
# owners: a real server's ReplicaSet metadata is 5 KB (managedFields list every field of the
# template), ten revisions per Deployment. What is left out is a ReplicaSet orphaned by deleting
# its Deployment with --cascade=orphan and scaled to zero: nothing runs it, and nothing would.
UNLISTED_BY_LABEL = {"ReplicaSet": "!pod-template-hash"}


def _owned_workloads(api: ApiClient, resource: Resource, scope: str | None, context: str | None,
                     label_selector: str | None, covering: Collection[str] = WALKABLE_KINDS) -> Iterator[SourceObject]:
    """The ReplicaSets (or Jobs) of a scope, for the owner walk and the scan: those with an owner
    as metadata, which is all the scan reads of them; those without one (a bare ReplicaSet, a
    Job run by hand) whole, since their own template is what runs: one GET for a namespace
    holding one, one list of the namespace for several. A server that sends whole objects
    despite the metadata-only request has its objects scanned as they came."""
    from plugin.sources.cluster import cluster_objects

    standalone: dict[str, set[str]] = {}
    leave_out = UNLISTED_BY_LABEL.get(resource.kind)
    listed_selector = ",".join(s for s in (label_selector, leave_out) if s) or None
    for source in cluster_objects(api, resource, scope, context=context, label_selector=listed_selector,
                                  metadata_only=True):
        name, namespace = queries.NAME.search(source.obj), queries.NAMESPACE.search(source.obj)
        if "spec" in source.obj or covered_by_owner(source.kind, source.obj, covering) \
                or not isinstance(name, str) or not isinstance(namespace, str):
            yield source
        else:
            standalone.setdefault(namespace, set()).add(name)
    for namespace, names in sorted(standalone.items()):
        if len(names) == 1:
            (name,) = names
            obj = api.get(resource, namespace, name)
            if obj is not None:  # deleted since it was listed
                yield SourceObject(resource.kind, resource.api_version, obj, Origin(context=context))
            continue
        for source in cluster_objects(api, resource, namespace, context=context, label_selector=listed_selector):
            if queries.NAME.search(source.obj) in names:
                yield source


def _where(scope: str | None) -> str:
    return f' in the namespace "{scope}"' if scope else ""


def _node_runtimes(api: ApiClient, problems: list[str]) -> dict[str, str]:
    """Each node's container runtime, for `-o wide`: which findings block which node's migration.
    Optional: without the permission the column stays empty and the result is still complete."""
    from plugin.nodes import container_runtime_version
    from plugin.resources import NODES

    runtimes: dict[str, str] = {}
    try:
        for page in api.list_pages(NODES):
            for node in page:
                name = queries.NAME.search(node)
                if isinstance(name, str):
                    runtimes[name] = container_runtime_version(node)
    except ApiError as err:
        if err.status != 403:
            raise
        problems.append("cannot list nodes (Forbidden): node runtimes are not shown")
    return runtimes


def plan_cluster(flags: ConnectionFlags, settings: RuleSettings, *, all_namespaces: bool,
                 label_selector: str | None = None, probes: bool = False,
                 read_configmaps: bool = False) -> tuple[Report, list[PlanNode]]:
    """What `plan` reads of a cluster: the nodes (one paginated list, first: a plan without them
    is no plan, so a refusal fails before the scan), then exactly what `scan` reads (with
    `read_configmaps`, as `scan --read-configmaps`), and with `probes` the node probes' reports
    (as `nodes --probes`)."""
    from plugin.api import ApiClient
    from plugin.kubeconfig import load_connection
    from plugin.plan import plan_node
    from plugin.resources import NODES

    connection = load_connection(flags)
    api = ApiClient(connection)
    try:
        nodes = [plan_node(n) for page in api.list_pages(NODES) for n in page if isinstance(n, dict)]
    except ApiError as err:
        if err.status != 403:
            raise
        raise ApiError(err.message, err.status, err.reason,
                       hint="plan needs to list the nodes (cluster-scoped), to know their pools and runtimes") from None
    report = _scan_connection(api, connection, settings, all_namespaces=all_namespaces, label_selector=label_selector,
                              read_configmaps=read_configmaps)
    if probes:
        from plugin.sources.probe_logs import NO_PROBE, node_probes

        reports = node_probes(api)
        nodes = [replace(n, runtime=replace(n.runtime, probe=reports.get(n.runtime.name, NO_PROBE))) for n in nodes]
    return report, nodes


def plan_files(paths: list[str], settings: RuleSettings, namespace: str | None
               ) -> tuple[Report, list[PlanNode], list[FileProblem]]:
    """`plan` offline: `scan_files`, and the Nodes of the same input (a dump made with
    `kubectl get nodes,pods,... -A -o yaml`), read in the same single pass."""
    from plugin.plan import plan_node

    nodes: list[PlanNode] = []
    report, problems = scan_files(paths, settings, namespace, on_node=lambda node: nodes.append(plan_node(node)))
    return report, nodes, problems


def scan_files(paths: list[str], settings: RuleSettings, namespace: str | None,
               rules: tuple[Rule, ...] = RULES, identify: Identify | None = identify_agent,
               on_node: Callable[[dict], None] | None = None) -> tuple[Report, list[FileProblem]]:
    """Scan manifests offline. Objects without a namespace are placed in `namespace` (from -n),
    else `default`, as `kubectl apply` would place them. `on_node` is given each Node of the input.

    The objects stream from the files through the rules and the owner index, which keep only
    what they need of each, so memory grows with the findings, not with the input."""
    from plugin.custom_resources import known_keys

    settle_garbage_collector()
    read = FileScan()
    lookup = ObjectsLookup()
    default_namespace = namespace or "default"
    bare_pods: dict[tuple[str, str], object] = {}
    claims = OfflineClaims(default_namespace)
    # Rule DS009 reads the ConfigMaps and Helm values of the input; `mounts` (no identification) does not.
    configs = ConfigIndex(identify) if identify is not None else None
    # Offline every known custom resource's template is read when the input has it, so what one
    # owns is covered by it, as a Deployment's ReplicaSets are.
    covering = WALKABLE_KINDS | known_keys()
    sources = claims.divert(_indexed(stream_manifests(paths, read), lookup, bare_pods, default_namespace, on_node))
    result = scan_objects(sources, settings, default_namespace=default_namespace, identify=identify, rules=rules,
                          configs=configs, covering=covering)
    # Objects that use claims, once every PersistentVolume and claim of the input is known.
    scan_objects(claims.held, settings, default_namespace=default_namespace, identify=identify, rules=rules,
                 into=result, claims=claims, configs=configs, covering=covering)
    if configs is not None:
        result.scanned.extend(configs.scanned_objects())
    scanned = [s if s.owner_references or not s.is_pod else _selector_owned(s, lookup, bare_pods)
               for s in result.scanned]
    result.scanned[:] = scanned
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    report = build_report(result.scanned, chains, complete=not (read.problems or result.problems), namespace=None,
                          counts=result.counts,
                          warnings=[f"{p}, skipped" for p in read.skipped] + result.problems)
    return report, read.problems


def _indexed(sources: Iterable[SourceObject], lookup: ObjectsLookup, bare_pods: dict[tuple[str, str], object],
             default_namespace: str, on_node: Callable[[dict], None] | None = None) -> Iterator[SourceObject]:
    """The sources, unchanged, each added to the owner index on its way to the scan; the labels of
    pods without owner references are kept aside for the selector fallback, and Nodes go to `on_node`."""
    for source in sources:
        if on_node is not None and source.kind == "Node":
            on_node(source.obj)
        lookup.add(source.kind, source.obj)
        if source.kind == "Pod" and not queries.OWNER_REFERENCES.search(source.obj):
            name, namespace = queries.NAME.search(source.obj), queries.NAMESPACE.search(source.obj)
            if isinstance(name, str):
                key = (namespace if isinstance(namespace, str) and namespace else default_namespace, name)
                bare_pods[key] = queries.LABELS.search(source.obj)
        yield source


def _selector_owned(scanned: ScannedObject, lookup: ObjectsLookup,
                    bare_pods: dict[tuple[str, str], object]) -> ScannedObject:
    """A pod of hand-written manifests, owned by the one workload whose selector picks it."""
    labels = bare_pods.get((scanned.ref.namespace or "", scanned.ref.name))
    reference = lookup.selector_owner(scanned.ref.namespace, labels)
    return replace(scanned, owner_references=(reference,)) if reference else scanned


def _with_selector_owner(obj: dict, namespace: str, lookup: ObjectsLookup) -> dict:
    """`obj`, with the owner reference of the selector fallback when it is a pod without one."""
    if queries.OWNER_REFERENCES.search(obj):
        return obj
    reference = lookup.selector_owner(namespace, queries.LABELS.search(obj))
    if reference is None:
        return obj
    return {**obj, "metadata": {**(obj.get("metadata") or {}), "ownerReferences": [reference]}}


def explain_cluster(flags: ConnectionFlags, settings: RuleSettings, target_args: list[str], *,
                    read_configmaps: bool = False) -> Explanation:
    """Explain one pod or workload of the cluster: one GET for it, its owners, and (for a workload)
    one list of its namespace's pods, of which those whose owner references lead to it are its
    pods, as `scan` counts them. An owner kind the plugin does not read (a Rollout, a Node), or a
    workload that no longer exists, is explained from the pods it owns. `read_configmaps` adds one
    GET per ConfigMap it mounts, as `scan --read-configmaps` would read them; what may not be read
    is one of the explanation's warnings."""
    from plugin.api import ApiClient
    from plugin.discovery import ServedCustomResources
    from plugin.kubeconfig import load_connection
    from plugin.resources import PODS

    target = parse_target(target_args)
    connection = load_connection(flags)
    api = ApiClient(connection)
    namespace = connection.namespace
    custom = ServedCustomResources(api)
    lookup = ClusterLookup(api, custom.resource_for)
    problems: list[str] = []
    claims = ClusterClaims(api, problems, connection.context)

    def namespace_pods() -> Iterator[dict]:
        for page in api.list_pages(PODS, namespace):
            yield from page

    # A known custom resource is read at the version discovery finds (one request), if served.
    resource = target.resource or (custom.resource_for(target.custom.key) if target.custom else None)
    obj = api.get(resource, namespace if resource.namespaced else None, target.name) if resource else None
    if obj is not None:
        assert resource is not None
        obj.setdefault("apiVersion", resource.api_version)
        explanation = explain_object(resource.kind, obj, namespace, lookup, settings,
                                     lambda ref: pods_owned_by(ref, namespace_pods(), lookup), claims=claims)
        if read_configmaps and wants_config_maps(explanation):
            wanted = [(namespace, name) for name in mounted_config_maps(resource.kind, obj)]
            config_maps = read_config_maps(api, wanted, connection.context, problems)
            explanation = explained_with_configs(explanation, resource.kind, obj, namespace, config_maps)
        return replace(explanation, warnings=tuple(problems))
    if target.resource is None or target.resource.kind != "Pod":
        explained = explain_from_pods(target, namespace_pods(), namespace, lookup, settings, claims=claims)
        if explained is not None:
            return replace(explained, warnings=tuple(problems))
    raise not_found(target.resource, target.name, target.type_name)


def _is_target(target: Target, source: SourceObject) -> bool:
    """Whether an object of the input is of the kind `explain` was asked about: a built-in kind
    (not a custom resource of the same name), a known custom resource by its group, or any other
    custom resource whose kind the type names."""
    custom_group = "." in source.api_version
    if target.resource is not None:
        return source.kind == target.resource.kind and not custom_group
    if target.custom is not None:
        return type_key(source.kind, source.api_version) == target.custom.key
    return custom_group and target.matches(ObjectRef(source.kind, target.name, api_version=source.api_version))


def explain_files(paths: list[str], settings: RuleSettings, namespace: str,
                  target_args: list[str]) -> tuple[Explanation, list[FileProblem]]:
    """Explain one object of the input files, with owners and pods from the same input.
    `namespace` is resolved as kubectl does (-n, else the context's, else default); objects that
    name no namespace are in it. The name in other namespaces only is a not-found that says where."""
    target = parse_target(target_args)
    read = read_manifests(paths)
    lookup = ObjectsLookup((o.kind, o.obj) for o in read.objects)
    claims = OfflineClaims(namespace)
    claims.add(read.objects)
    found, elsewhere = None, set()
    for source in read.objects:
        if queries.NAME.search(source.obj) != target.name or not _is_target(target, source):
            continue
        obj_namespace = queries.NAMESPACE.search(source.obj) or namespace
        if obj_namespace == namespace:
            found = source
            break
        elsewhere.add(str(obj_namespace))
    pods = [_with_selector_owner(o.obj, namespace, lookup) for o in read.objects
            if o.kind == "Pod" and (queries.NAMESPACE.search(o.obj) or namespace) == namespace]
    if found is not None:
        obj = _with_selector_owner(found.obj, namespace, lookup) if found.kind == "Pod" else found.obj
        explanation = explain_object(found.kind, obj, namespace, lookup, settings,
                                     lambda ref: pods_owned_by(ref, pods, lookup), claims=claims)
        config_maps = [o for o in read.objects if o.kind == "ConfigMap"]
        return explained_with_configs(explanation, found.kind, obj, namespace, config_maps), read.problems
    if target.resource is None or target.resource.kind != "Pod":
        explained = explain_from_pods(target, pods, namespace, lookup, settings, claims=claims)
        if explained is not None:
            return explained, read.problems
    error = not_found(target.resource, target.name, target.type_name)
    if elsewhere:
        listed = ", ".join(sorted(elsewhere))
        error = ApiError(f'{error.message} in the namespace "{namespace}"', 404, "NotFound",
                         hint=f"the input has it in the namespace{'s' if len(elsewhere) > 1 else ''} {listed}: "
                              "choose one with -n")
    raise error
