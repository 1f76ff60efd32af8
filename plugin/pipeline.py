"""Builds the pipeline for a scan: source -> rules -> owners -> report.

`scan_cluster` streams pods from the API server; `scan_files` reads manifests and dumps. Both
end in the same `Report`, so the printers never know where the objects came from.
"""

from __future__ import annotations

from plugin.models import Report
from plugin.owners import ClusterLookup, ObjectsLookup, resolve_chains
from plugin.report import build_report
from plugin.rules import RuleSettings
from plugin.scan import scan_objects
from plugin.sources.files import FileProblem, read_manifests


def scan_cluster(flags, settings: RuleSettings, *, all_namespaces: bool,
                 label_selector: str | None = None, field_selector: str | None = None) -> Report:
    from plugin.api import ApiClient
    from plugin.kubeconfig import load_connection
    from plugin.resources import PODS
    from plugin.sources.cluster import cluster_objects

    connection = load_connection(flags)
    api = ApiClient(connection)
    namespace = None if all_namespaces else connection.namespace
    pods = cluster_objects(api, PODS, namespace, context=connection.context,
                           label_selector=label_selector, field_selector=field_selector)
    result = scan_objects(pods, settings, default_namespace=namespace)
    lookup = ClusterLookup(api)
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    return build_report(result.scanned, chains, warnings=lookup.problems, complete=not lookup.problems,
                        context=connection.context, namespace=namespace, counts=result.counts)


def scan_files(paths: list[str], settings: RuleSettings,
               namespace: str | None) -> tuple[Report, list[FileProblem]]:
    """Scan manifests offline. Objects without a namespace are placed in `namespace` (from -n),
    else `default`, as `kubectl apply` would place them."""
    read = read_manifests(paths)
    default_namespace = namespace or "default"
    result = scan_objects(read.objects, settings, default_namespace=default_namespace)
    lookup = ObjectsLookup((o.kind, o.obj) for o in read.objects)
    chains = resolve_chains([(s.ref, s.owner_references) for s in result.scanned], lookup)
    report = build_report(result.scanned, chains, complete=not read.problems, namespace=None,
                          counts=result.counts,
                          warnings=[f"{p}, skipped" for p in read.skipped])
    return report, read.problems
