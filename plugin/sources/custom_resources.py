"""The live source of custom resources: every object of the known kinds the cluster serves.

Which kinds, and at which version, comes from discovery (`plugin.discovery`); each is listed
like a built-in workload kind, page by page as raw JSON (`cluster_objects`), and fed to the owner
walk as it passes. A list the user may not read is a warning naming it: the rest is still read.
"""

from __future__ import annotations

from collections.abc import Iterator

from plugin.discovery import ServedCustomResources
from plugin.errors import ApiError
from plugin.models import SourceObject
from plugin.owners import ApiReader, ClusterLookup
from plugin.sources.cluster import cluster_objects


def custom_resource_objects(api: ApiReader, served: ServedCustomResources, scope: str | None, *,
                            context: str | None, lookup: ClusterLookup, problems: list[str],
                            label_selector: str | None, covering: set[str]) -> Iterator[SourceObject]:
    """The objects of each served known kind in `scope` (None: every namespace). A cluster-scoped
    kind (ClusterWorkflowTemplate, ClusterTask, SidecarSet) belongs to no namespace, so it is read
    only when every namespace is. The type key of each kind read whole goes into `covering`: what
    such an object owns (a Rollout's ReplicaSets) is then left to its template."""
    for key, resource in served.served().items():
        if not resource.namespaced and scope is not None:
            continue
        where = f' in the namespace "{scope}"' if scope and resource.namespaced else ""
        try:
            for source in cluster_objects(api, resource, scope if resource.namespaced else None, context=context,
                                          label_selector=label_selector):
                lookup.remember(key, source.obj)
                yield source
        except ApiError as err:
            if err.status == 404:
                continue  # its CRD was deleted since discovery: nothing is served to read
            if err.status != 403:
                raise
            problems.append(f"cannot list {resource.qualified_plural}{where} (Forbidden): their pod templates "
                            "are not scanned")
            continue
        covering.add(key)
        if not label_selector:  # a filtered list does not tell that an owner is gone
            lookup.mark_listed(key, scope if resource.namespaced else None)
