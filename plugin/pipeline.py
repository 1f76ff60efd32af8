"""Builds the pipeline for a scan: source -> rules -> owners -> report.

`scan_cluster` streams pods from the API server; `scan_files` reads manifests and dumps. Both
end in the same `Report`, so the printers never know where the objects came from.
"""

from __future__ import annotations

from plugin.explain import Explanation, explain_object, guidance, label_selector, not_found, parse_target, pods_owned_by
from plugin.models import AgentRef, ObjectRef, Report
from plugin.owners import ClusterLookup, ObjectsLookup, resolve_chains
from plugin.report import build_report
from plugin.rules import RULES, Rule, RuleSettings
from plugin.scan import Identify, scan_objects
from plugin.sources.files import FileProblem, read_manifests


def identify_agent(spec: dict, metadata: dict) -> AgentRef | None:
    """The catalogue's identification, reduced to what a report item carries."""
    agent = guidance(spec, metadata)
    return agent.ref() if agent else None


def scan_cluster(flags, settings: RuleSettings, *, all_namespaces: bool,
                 label_selector: str | None = None, field_selector: str | None = None,
                 rules: tuple[Rule, ...] = RULES, identify: Identify | None = identify_agent) -> Report:
    """Scan the pods of the cluster (`mounts` passes its listing rule and no identification)."""
    from plugin.api import ApiClient
    from plugin.kubeconfig import load_connection
    from plugin.resources import PODS
    from plugin.sources.cluster import cluster_objects

    connection = load_connection(flags)
    api = ApiClient(connection)
    namespace = None if all_namespaces else connection.namespace
    pods = cluster_objects(api, PODS, namespace, context=connection.context,
                           label_selector=label_selector, field_selector=field_selector)
    result = scan_objects(pods, settings, default_namespace=namespace, identify=identify, rules=rules)
    lookup = ClusterLookup(api)
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    return build_report(result.scanned, chains, warnings=lookup.problems, complete=not lookup.problems,
                        context=connection.context, namespace=namespace, counts=result.counts)


def scan_files(paths: list[str], settings: RuleSettings, namespace: str | None,
               rules: tuple[Rule, ...] = RULES, identify: Identify | None = identify_agent
               ) -> tuple[Report, list[FileProblem]]:
    """Scan manifests offline. Objects without a namespace are placed in `namespace` (from -n),
    else `default`, as `kubectl apply` would place them."""
    read = read_manifests(paths)
    default_namespace = namespace or "default"
    result = scan_objects(read.objects, settings, default_namespace=default_namespace, identify=identify,
                          rules=rules)
    lookup = ObjectsLookup((o.kind, o.obj) for o in read.objects)
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    report = build_report(result.scanned, chains, complete=not read.problems, namespace=None,
                          counts=result.counts,
                          warnings=[f"{p}, skipped" for p in read.skipped])
    return report, read.problems


def explain_cluster(flags, settings: RuleSettings, target: list[str]) -> Explanation:
    """Explain one pod or workload of the cluster: one GET for it, plus its owners and (for a
    workload) one list of the pods its selector matches."""
    from plugin.api import ApiClient
    from plugin.kubeconfig import load_connection
    from plugin.resources import PODS

    resource, name = parse_target(target)
    connection = load_connection(flags)
    api = ApiClient(connection)
    namespace = connection.namespace
    obj = api.get(resource, namespace, name)
    if obj is None:
        raise not_found(resource, name)
    lookup = ClusterLookup(api)

    def owned(ref: ObjectRef) -> list[str]:
        # A CronJob's pods carry its Jobs' labels, not a selector of its own: read the namespace.
        selector = label_selector(obj) if resource.kind != "CronJob" else None
        pods = (p for page in api.list_pages(PODS, namespace, label_selector=selector) for p in page)
        return pods_owned_by(ref, pods, lookup)

    return explain_object(resource.kind, obj, namespace, lookup, settings, owned)


def explain_files(paths: list[str], settings: RuleSettings, namespace: str | None,
                  target: list[str]) -> tuple[Explanation, list[FileProblem]]:
    """Explain one object of the input files, with owners and pods from the same input."""
    from plugin import queries

    resource, name = parse_target(target)
    read = read_manifests(paths)
    default_namespace = namespace or "default"
    for source in read.objects:
        obj_namespace = queries.NAMESPACE.search(source.obj) or default_namespace
        if source.kind == resource.kind and queries.NAME.search(source.obj) == name \
                and (namespace is None or obj_namespace == namespace):
            break
    else:
        raise not_found(resource, name)
    lookup = ObjectsLookup((o.kind, o.obj) for o in read.objects)
    pods = [o.obj for o in read.objects if o.kind == "Pod"]
    explanation = explain_object(resource.kind, source.obj, obj_namespace, lookup, settings,
                                 lambda ref: pods_owned_by(ref, pods, lookup))
    return explanation, read.problems
