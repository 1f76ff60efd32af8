"""The Kubernetes resources the plugin reads: API path, kind and the short names kubectl accepts.

One table, so that every stage (listing, owner lookups, `TYPE/NAME` arguments, `-o name`)
agrees on how a kind maps to its REST path.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    group: str  # "" for the core group
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """REST path: /api/v1/namespaces/NS/pods[/NAME] or /apis/apps/v1/daemonsets."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        return base

    @property
    def qualified_plural(self) -> str:
        """How the apiserver names the resource in messages: `pods`, `daemonsets.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_name(self) -> str:
        """kubectl's `-o name` prefix: `pod`, `daemonset.apps`, `cronjob.batch`."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()


PODS = Resource("Pod", "pods", "", "v1", True, ("po",))
REPLICASETS = Resource("ReplicaSet", "replicasets", "apps", "v1", True, ("rs",))
DEPLOYMENTS = Resource("Deployment", "deployments", "apps", "v1", True, ("deploy",))
DAEMONSETS = Resource("DaemonSet", "daemonsets", "apps", "v1", True, ("ds",))
STATEFULSETS = Resource("StatefulSet", "statefulsets", "apps", "v1", True, ("sts",))
JOBS = Resource("Job", "jobs", "batch", "v1", True, ())
CRONJOBS = Resource("CronJob", "cronjobs", "batch", "v1", True, ("cj",))
REPLICATIONCONTROLLERS = Resource("ReplicationController", "replicationcontrollers", "", "v1", True, ("rc",))
NODES = Resource("Node", "nodes", "", "v1", False, ("no",))
NAMESPACES = Resource("Namespace", "namespaces", "", "v1", False, ("ns",))
PERSISTENT_VOLUMES = Resource("PersistentVolume", "persistentvolumes", "", "v1", False, ("pv",))
# Read only with `scan --read-configmaps`, one GET per ConfigMap a workload mounts; never listed, and
# not one of the kinds above: nothing else reads it, and `explain cm/NAME` is not a pod's owner.
CONFIGMAPS = Resource("ConfigMap", "configmaps", "", "v1", True, ("cm",))

ALL_RESOURCES = (
    PODS, REPLICASETS, DEPLOYMENTS, DAEMONSETS, STATEFULSETS, JOBS, CRONJOBS,
    REPLICATIONCONTROLLERS, NODES, NAMESPACES,
)
# Kinds whose objects carry a pod template the rules can read.
WORKLOAD_RESOURCES = (
    DEPLOYMENTS, REPLICASETS, DAEMONSETS, STATEFULSETS, JOBS, CRONJOBS, REPLICATIONCONTROLLERS,
)

_BY_KIND = {r.kind: r for r in ALL_RESOURCES}


def resource_for_kind(kind: str) -> Resource | None:
    """The resource of a kind the plugin knows, or None (a custom resource, an Argo Rollout, ...)."""
    return _BY_KIND.get(kind)


def resource_for_type(type_name: str) -> Resource | None:
    """What kubectl accepts as TYPE in TYPE/NAME: `ds`, `daemonset`, `daemonsets`, `daemonset.apps`."""
    wanted = type_name.lower()
    for r in ALL_RESOURCES:
        names = {r.kind.lower(), r.plural, *r.short_names}
        if r.group:
            names |= {f"{r.kind.lower()}.{r.group}", f"{r.plural}.{r.group}"}
        if wanted in names:
            return r
    return None
