"""The resources the test API server serves and the discovery documents that describe them.

Kept independent of `plugin.resources` on purpose: the server must describe the API as a real
cluster does, so a wrong entry in the plugin's own table shows up as a failing test instead of
being mirrored here. Besides the built-in kinds it serves the custom resources that the
CustomResourceDefinitions among its objects define (`custom_resources`), at every served version,
in discovery both legacy (`/apis`, `/apis/GROUP`, `/apis/GROUP/VERSION`) and aggregated
(`apidiscovery.k8s.io/v2`), as kube-apiserver 1.37 does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
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
    # A custom resource (defined by a CRD): its list items carry apiVersion and kind, as the real
    # server sends them, and one table of objects is served at every version in `versions`.
    custom: bool = False
    versions: tuple[str, ...] = ()  # served versions, the preferred first (custom resources only)

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
CUSTOM_RESOURCE_DEFINITION = Resource(
    "CustomResourceDefinition", "customresourcedefinitions", "apiextensions.k8s.io", "v1", False, ("crd", "crds"),
    ("api-extensions",), fields={"metadata.name": _NAME})

RESOURCES = (
    POD, NODE, NAMESPACE, PERSISTENT_VOLUME, PERSISTENT_VOLUME_CLAIM, REPLICATION_CONTROLLER,
    DEPLOYMENT, REPLICA_SET, DAEMON_SET, STATEFUL_SET,
    JOB, CRON_JOB, CONFIG_MAP, CUSTOM_RESOURCE_DEFINITION,
)
BY_KIND = {r.kind: r for r in RESOURCES}
# (group, version, plural) -> resource, for routing request paths.
BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
GROUPS = ("apps", "batch", "apiextensions.k8s.io")

_VERSION = re.compile(r"v(\d+)(?:(alpha|beta)(\d+))?")


def version_priority(version: str) -> tuple:
    """The order kube-apiserver prefers a CRD's versions in (apimachinery's CompareKubeAwareVersionStrings):
    GA before beta before alpha, higher numbers first, then other names alphabetically."""
    m = _VERSION.fullmatch(version)
    if m is None:
        return (1, 0, 0, 0, version)
    stability = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (0, stability, -int(m.group(1)), -int(m.group(3) or 0), version)


def custom_resources(crd: Mapping[str, Any]) -> list[Resource]:
    """One resource per served version of a CustomResourceDefinition, the preferred first; the
    server refuses a definition it could not serve (a ValueError, as a 422 would)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
    if not all(isinstance(v, str) and v for v in (group, kind, plural)) or "." not in str(group):
        raise ValueError(f"CustomResourceDefinition {crd.get('metadata', {}).get('name')!r}: spec.group (with a dot), "
                         "names.kind and names.plural are required")
    if (crd.get("metadata") or {}).get("name") != f"{plural}.{group}":
        raise ValueError(f"CustomResourceDefinition must be named {plural}.{group}")
    served = sorted((v["name"] for v in spec.get("versions") or [] if v.get("served")), key=version_priority)
    if not served:
        raise ValueError(f"CustomResourceDefinition {plural}.{group} serves no version")
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        raise ValueError(f"CustomResourceDefinition {plural}.{group}: scope must be Namespaced or Cluster")
    namespaced = scope == "Namespaced"
    fields = dict(_META_FIELDS) if namespaced else {"metadata.name": _NAME}
    return [Resource(str(kind), str(plural), str(group), version, namespaced, tuple(names.get("shortNames") or ()),
                     tuple(names.get("categories") or ()), fields=fields, custom=True, versions=tuple(served))
            for version in served]

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


def served_groups(custom: Iterable[Resource] = ()) -> dict[str, list[str]]:
    """Every group with its versions, the preferred first: the built-in ones, then the CRDs' groups
    by name, as kube-apiserver 1.37 lists them in its aggregated document."""
    groups: dict[str, list[str]] = {g: ["v1"] for g in GROUPS}
    for r in sorted(custom, key=lambda r: r.group):
        versions = groups.setdefault(r.group, [])
        versions.extend(v for v in r.versions if v not in versions)
    for versions in groups.values():
        versions.sort(key=version_priority)
    return groups


def api_group(group: str, versions: list[str] | None = None) -> dict[str, Any]:
    listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions or ["v1"]]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": listed,
            "preferredVersion": listed[0]}


def api_group_list(custom: Iterable[Resource] = ()) -> dict[str, Any]:
    groups = [api_group(g, versions) for g, versions in served_groups(custom).items()]
    for g in groups:
        del g["kind"], g["apiVersion"]  # list items carry no type, as on a real server
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(group: str, version: str, custom: Iterable[Resource] = ()) -> dict[str, Any] | None:
    entries = [r.discovery_entry() for r in (*RESOURCES, *custom) if r.group == group and r.version == version]
    if not entries:
        return None
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": entries}


AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _aggregated_entry(r: Resource) -> dict[str, Any]:
    # Built-in kinds name no group or version in their responseKind; custom resources name both.
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group if r.custom else "", "version": r.version if r.custom else "",
                         "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.kind.lower(),
        "verbs": list(VERBS),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    return entry


def aggregated_discovery(core: bool, custom: Iterable[Resource] = ()) -> dict[str, Any]:
    """The APIGroupDiscoveryList of `/api` (core: the legacy group, named "") or of `/apis`."""
    custom = tuple(custom)
    if core:
        groups: dict[str, list[str]] = {"": ["v1"]}
    else:
        groups = served_groups(custom)
    items = []
    for group, versions in groups.items():
        listed = []
        for version in versions:
            resources = [_aggregated_entry(r) for r in (*RESOURCES, *custom) if r.group == group and r.version == version]
            listed.append({"version": version, "resources": resources, "freshness": "Current"})
        items.append({"metadata": {"name": group} if group else {}, "versions": listed})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def wants_aggregated(accept: str) -> bool | None:
    """How kube-apiserver answers discovery for this Accept header: True for the aggregated
    document (`as=APIGroupDiscoveryList` of apidiscovery.k8s.io v2) when any alternative asks for
    it, even after plain JSON (the real server prefers it so); else False for the legacy one (plain
    JSON); None when neither is acceptable. v2beta1 is no longer served (1.37)."""
    if not accept.strip():
        return False
    plain = False
    for alternative in accept.split(","):
        media, *parameters = [part.strip() for part in alternative.split(";")]
        if media not in ("application/json", "application/*", "*/*"):
            continue
        options = dict(p.partition("=")[::2] for p in parameters)
        if options == {**options, "g": "apidiscovery.k8s.io", "v": "v2", "as": "APIGroupDiscoveryList"}:
            return True
        plain = plain or "as" not in options
    return False if plain else None
