"""The resources the test API server serves and the discovery documents that describe them.

Kept independent of `plugin.resources` on purpose: the server must describe the API as a real
cluster does, so a wrong entry in the plugin's own table shows up as a failing test instead of
being mirrored here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What discovery advertises; the server answers nothing else.
VERBS = ("get", "list")

FieldGetter = Callable[[dict[str, Any]], str]


def _path(*keys: str) -> FieldGetter:
    def get(obj: dict[str, Any]) -> str:
        value: Any = obj
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return ""
        if isinstance(value, bool):
            # Go formats booleans as "true"/"false"; field selectors compare those strings.
            return "true" if value else "false"
        return str(value)

    return get


_NAME = _path("metadata", "name")
_NAMESPACE = _path("metadata", "namespace")


@dataclass(frozen=True, eq=False)  # identity equality: resources are singletons used as dict keys
class Resource:
    kind: str
    plural: str
    group: str  # "" for the core group
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # Field selectors the real server accepts for this kind, and how it words a refusal
    # (the wording differs per kind in the Kubernetes sources, so it is data here).
    fields: dict[str, FieldGetter] = field(default_factory=dict)
    field_error: str = '"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"'

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How the server names the resource in messages: `pods`, `daemonsets.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(VERBS),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        return entry


_META_FIELDS = {"metadata.name": _NAME, "metadata.namespace": _NAMESPACE}
_NOT_SUPPORTED = "field label not supported: {label}"

POD = Resource(
    "Pod", "pods", "", "v1", True, ("po",), ("all",),
    fields={
        **_META_FIELDS,
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": _path("spec", "hostNetwork"),
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    field_error=_NOT_SUPPORTED,
)
# Nodes and namespaces are cluster-scoped: the real server refuses metadata.namespace for them.
NODE = Resource(
    "Node", "nodes", "", "v1", False, ("no",),
    fields={"metadata.name": _NAME, "spec.unschedulable": _path("spec", "unschedulable")},
    field_error=_NOT_SUPPORTED,
)
NAMESPACE = Resource(
    "Namespace", "namespaces", "", "v1", False, ("ns",),
    fields={"metadata.name": _NAME, "status.phase": _path("status", "phase")},
    field_error=_NOT_SUPPORTED,
)
# PersistentVolumes are cluster-scoped, their claims namespaced; the real server selects both by
# the generic metadata fields, with the generic wording (unlike pods and nodes of the same group).
PERSISTENT_VOLUME = Resource("PersistentVolume", "persistentvolumes", "", "v1", False, ("pv",),
                             fields=dict(_META_FIELDS))
PERSISTENT_VOLUME_CLAIM = Resource("PersistentVolumeClaim", "persistentvolumeclaims", "", "v1", True, ("pvc",),
                                   fields=dict(_META_FIELDS))
REPLICATION_CONTROLLER = Resource(
    "ReplicationController", "replicationcontrollers", "", "v1", True, ("rc",), ("all",),
    fields={**_META_FIELDS, "status.replicas": _path("status", "replicas")},
    field_error=_NOT_SUPPORTED,
)
DEPLOYMENT = Resource("Deployment", "deployments", "apps", "v1", True, ("deploy",), ("all",),
                      fields=dict(_META_FIELDS))
REPLICA_SET = Resource("ReplicaSet", "replicasets", "apps", "v1", True, ("rs",), ("all",),
                       fields=dict(_META_FIELDS))
DAEMON_SET = Resource("DaemonSet", "daemonsets", "apps", "v1", True, ("ds",), ("all",),
                      fields=dict(_META_FIELDS))
STATEFUL_SET = Resource("StatefulSet", "statefulsets", "apps", "v1", True, ("sts",), ("all",),
                        fields=dict(_META_FIELDS))
JOB = Resource(
    "Job", "jobs", "batch", "v1", True, (), ("all",),
    fields={**_META_FIELDS, "status.successful": _path("status", "succeeded")},
    field_error='field label "{label}" not supported for batchv1.Job',
)
CRON_JOB = Resource("CronJob", "cronjobs", "batch", "v1", True, ("cj",), ("all",),
                    fields=dict(_META_FIELDS))
# Served for `--read-configmaps` (rule DS009), which GETs single ConfigMaps; not in the "all" category.
CONFIG_MAP = Resource("ConfigMap", "configmaps", "", "v1", True, ("cm",), fields=dict(_META_FIELDS))

RESOURCES = (
    POD, NODE, NAMESPACE, PERSISTENT_VOLUME, PERSISTENT_VOLUME_CLAIM, REPLICATION_CONTROLLER,
    DEPLOYMENT, REPLICA_SET, DAEMON_SET, STATEFUL_SET,
    JOB, CRON_JOB, CONFIG_MAP,
)
BY_KIND = {r.kind: r for r in RESOURCES}
# (group, version, plural) -> resource, for routing request paths.
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
GROUPS = ("apps", "batch")

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    """The `/api` document (legacy discovery of the core group)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def api_group(group: str) -> dict[str, Any]:
    version = {"groupVersion": f"{group}/v1", "version": "v1"}
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [version],
            "preferredVersion": version}


def api_group_list() -> dict[str, Any]:
    groups = [api_group(g) for g in GROUPS]
    for g in groups:
        del g["kind"], g["apiVersion"]  # list items carry no type, as on a real server
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    entries = [r.discovery_entry() for r in RESOURCES if r.group == group and r.version == version]
    if not entries:
        return None
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": entries}
