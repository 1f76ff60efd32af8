"""Owner resolution: walk `ownerReferences` from a pod (or template) up to its top-level workload.

The walk follows the controller reference (else the first) through the kinds the plugin
reads: the built-in workloads (Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob, ...) and
the custom resources of `plugin.custom_resources` (Pod -> Workflow -> CronWorkflow, Pod ->
EphemeralRunner -> EphemeralRunnerSet -> AutoscalingRunnerSet). Kinds are told apart by their
type key (`plugin.resources.type_key`: an OpenKruise StatefulSet is not the built-in one). An
owner of any other kind ends the walk without an API call; a `Node` owner marks a mirror
(static) pod. Lookups go through `OwnerLookup`, keyed by type key, backed by the cluster (cached,
batched per level) or by the objects of the input files.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Protocol

from plugin import queries
from plugin.errors import ApiError
from plugin.models import ObjectRef
from plugin.resources import WORKLOAD_RESOURCES, Resource, resource_for_kind, type_key
from plugin.validation import path_segment_problems

# Built-in kinds worth fetching to continue the walk; the known custom resources are walked too
# (`walkable`). Anything else is a leaf we report as is.
WALKABLE_KINDS = frozenset(r.kind for r in WORKLOAD_RESOURCES)


def walkable(key: str) -> bool:
    """Whether the walk goes on through an owner of this type key: a built-in workload, or a known
    custom resource. The custom table is read only for a key that is one (it has a dot)."""
    if key in WALKABLE_KINDS:
        return True
    if "." not in key:
        return False
    from plugin.custom_resources import kind_for_key

    return kind_for_key(key) is not None
_MAX_DEPTH = 10  # guards against reference cycles in hostile input


class Missing(enum.Enum):
    """Why a lookup returned no object."""

    NOT_FOUND = "not found"  # the owner does not exist (or is not in the input): reported, marked not found
    UNKNOWN = "unknown"  # it could not be looked up (forbidden): the reference is reported as it is


class OwnerLookup(Protocol):
    def prefetch(self, wanted: Iterable[tuple[str, str | None, str]]) -> None:
        """Announce the (kind, namespace, name) lookups of one level, so they can be batched."""

    def get(self, kind: str, namespace: str | None, name: str) -> dict | Missing:
        """The owner object, or why there is none."""


def controller_reference(owner_references: object) -> dict | None:
    """The reference with `controller: true`, else the first usable one."""
    if not isinstance(owner_references, list):
        return None
    first = None
    for ref in owner_references:
        if isinstance(ref, dict) and isinstance(ref.get("kind"), str) and isinstance(ref.get("name"), str):
            if ref.get("controller") is True:
                return ref
            if first is None:
                first = ref
    return first


def _ref(reference: dict, namespace: str | None) -> ObjectRef:
    # Owners live in the namespace of what they own; a Node (or any cluster-scoped owner) has none.
    return ObjectRef(
        kind=reference["kind"], name=reference["name"],
        namespace=None if reference["kind"] == "Node" else namespace,
        api_version=str(reference.get("apiVersion") or ""), uid=str(reference.get("uid") or ""),
    )


def resolve_chains(starts: list[tuple[ObjectRef, tuple[dict, ...]]],
                   lookup: OwnerLookup) -> list[tuple[ObjectRef, ...]]:
    """For each (object, its ownerReferences), the chain from the object to its top-level owner.

    All objects advance one level at a time so the lookup can batch each level's requests.
    """
    chains: list[list[ObjectRef]] = [[ref] for ref, _ in starts]
    pending: dict[int, dict | None] = {
        i: controller_reference(list(owner_refs)) for i, (_, owner_refs) in enumerate(starts)
    }
    for _ in range(_MAX_DEPTH):
        wanted: dict[int, tuple[str, ObjectRef]] = {}
        for i, reference in pending.items():
            if reference is None:
                continue
            owner = _ref(reference, chains[i][-1].namespace)
            # The kind alone for a built-in group (no dot): the common case costs one `in`.
            key = owner.kind if "." not in owner.api_version else type_key(owner.kind, owner.api_version)
            # A cycle's guard, by kind name (as cheap as before type keys): a custom kind named like
            # a built-in one owning an object of that name would only end the walk there.
            seen = {(r.kind, r.namespace, r.name) for r in chains[i]}
            if (key in WALKABLE_KINDS or ("." in key and walkable(key))) \
                    and (owner.kind, owner.namespace, owner.name) not in seen:
                wanted[i] = (key, owner)
            else:
                chains[i].append(owner)  # a leaf: Node, an unknown custom resource, or a cycle's end
        if not wanted:
            break
        lookup.prefetch((key, o.namespace, o.name) for key, o in wanted.values())
        pending = {}
        for i, (key, owner) in wanted.items():
            found = lookup.get(key, owner.namespace, owner.name)
            if found is Missing.NOT_FOUND:
                # The referenced owner is still the owner (the garbage collector has not caught up,
                # or a dump left it out): reported, marked, and the walk ends there.
                chains[i].append(replace(owner, found=False))
                continue
            if found is Missing.UNKNOWN:
                chains[i].append(owner)
                continue
            assert isinstance(found, dict)
            uid = queries.UID.search(found)
            if owner.uid and uid and uid != owner.uid:
                # Same name, other object: the owner referenced was deleted.
                chains[i].append(replace(owner, found=False))
                continue
            chains[i].append(owner)
            pending[i] = controller_reference(queries.OWNER_REFERENCES.search(found))
    return [tuple(chain) for chain in chains]


class ObjectsLookup:
    """Owners from the objects of the input files (offline scans). A reference to an object
    that is not in the input is not found, as it would be live: reported, and marked so.

    Objects are added one at a time as the files stream past, and only what the walk needs of
    each is kept (as in `ClusterLookup`), so the index does not hold every parsed object."""

    def __init__(self, objects: Iterable[tuple[str, dict]] = ()) -> None:
        self._index: dict[tuple[str, str | None, str], Compact] = {}
        # Custom kinds the input holds objects of: one it holds none of was not dumped, so an
        # owner of that kind is reported as it is (unknown), not as deleted.
        self._custom_kinds: set[str] = set()
        # Top-level workloads' selectors, for pods of hand-written manifests that carry no
        # references: (namespace, selector, the reference a controller would have set).
        self._selectors: list[tuple[str | None, dict, dict]] = []
        self.pods_carry_references = False  # a dump: references are the whole truth
        for kind, obj in objects:
            self.add(kind, obj)

    def add(self, kind: str, obj: dict) -> None:
        """Index an object of the input (by its type key, from its apiVersion); of several with
        the same kind, namespace and name, the first one read is the owner."""
        name, namespace = queries.NAME.search(obj), queries.NAMESPACE.search(obj)
        if not isinstance(name, str):
            return
        api_version = obj.get("apiVersion")
        if isinstance(api_version, str) and "." in api_version:
            kind = type_key(kind, api_version)
            self._custom_kinds.add(kind)
        namespace = namespace if isinstance(namespace, str) else None
        key = (kind, namespace, name)
        if key not in self._index:
            self._index[key] = _compact(obj)
        references = queries.OWNER_REFERENCES.search(obj)
        if kind == "Pod" and isinstance(references, list) and references:
            self.pods_carry_references = True
        elif kind in SELECTOR_KINDS and controller_reference(references) is None:
            spec = obj.get("spec")
            selector = spec.get("selector") if isinstance(spec, dict) else None
            if isinstance(selector, dict) and selector:
                uid = queries.UID.search(obj)
                self._selectors.append((namespace, selector, {
                    "apiVersion": str(obj.get("apiVersion") or ""), "kind": kind, "name": name,
                    "uid": uid if isinstance(uid, str) else "", "controller": True}))

    def selector_owner(self, namespace: str | None, labels: object) -> dict | None:
        """The owner reference of the one top-level workload of `namespace` whose selector matches
        a pod's labels: the fallback for pods that carry no references, in input that has no
        pod with references at all (hand-written manifests). A dump's pods carry references,
        and a pod without them there is a bare pod. None when no workload, or several, match."""
        if self.pods_carry_references or not isinstance(labels, dict):
            return None
        found = [ref for ns, selector, ref in self._selectors
                 if (ns is None or namespace is None or ns == namespace) and selector_matches(selector, labels)]
        return found[0] if len(found) == 1 else None

    def prefetch(self, wanted: Iterable[tuple[str, str | None, str]]) -> None:
        pass

    def get(self, kind: str, namespace: str | None, name: str) -> dict | Missing:
        found = self._index.get((kind, namespace, name))
        if found is None and namespace is not None:
            # Manifests often omit metadata.namespace; match those by kind and name.
            found = self._index.get((kind, None, name))
        if found is None and "." in kind and kind not in self._custom_kinds:
            return Missing.UNKNOWN  # a dump without objects of that kind says nothing about this one
        return _expand(found) if found is not None else Missing.NOT_FOUND


# Workload kinds whose `spec.selector` picks their pods (a CronJob's pods belong to its Jobs).
SELECTOR_KINDS = frozenset({"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController"})


def selector_matches(selector: dict, labels: dict) -> bool:
    """Whether a workload's `spec.selector` (a LabelSelector, or a ReplicationController's plain
    map) selects these labels, as the API server evaluates it. An empty selector selects nothing
    here: it would claim every pod of the namespace."""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list) or not (match_labels or expressions):
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        if not isinstance(expression, dict):
            return False
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


# What the walk needs of an owner, as a tuple: its uid, then its controller reference's
# apiVersion, kind, name and uid (strings), or the uid alone when it has no reference. A cluster's
# ReplicaSets, or every object of the input files, would otherwise cost memory in proportion to
# the cluster. The uid is kept as read when it is not a string: an API server always sends a
# string, but in a manifest `uid: 5` must still fail to match a reference's "5", as the object
# itself would (`resolve_chains` compares what it reads).
Compact = tuple[object, ...]


def _compact(obj: dict) -> Compact:
    metadata = obj.get("metadata")
    return _compact_metadata(metadata if isinstance(metadata, dict) else {})


def _compact_metadata(metadata: dict) -> Compact:
    # Strings are kept as one copy each (sys.intern): a namespace; an owner's kind, name and
    # uid, which each of a Deployment's ReplicaSets names and the Deployment's own entry holds.
    # The lookup keeps an entry per workload of the cluster (53,000 in the benchmark's), and
    # decoded JSON gives each its own copies: 29 MiB, against 20 with one copy.
    reference = controller_reference(metadata.get("ownerReferences"))
    uid = metadata.get("uid") or ""  # every false value reads the same to the walk
    if type(uid) is str:
        uid = sys.intern(uid)
    if reference is None:
        return (uid,)
    return (uid, sys.intern(str(reference.get("apiVersion") or "")), sys.intern(reference["kind"]),
            sys.intern(reference["name"]), sys.intern(str(reference.get("uid") or "")))


def _expand(compact: Compact) -> dict:
    """The compact form as the object shape `resolve_chains` reads."""
    if len(compact) == 1:
        return {"metadata": {"uid": compact[0], "ownerReferences": []}}
    uid, api_version, kind, name, owner_uid = compact
    references = [{"apiVersion": api_version, "kind": kind, "name": name, "uid": owner_uid, "controller": True}]
    return {"metadata": {"uid": uid, "ownerReferences": references}}


class ApiReader(Protocol):
    """What the cluster lookup needs from `plugin.api.ApiClient`."""

    def list_pages(self, resource, namespace=None, *, label_selector=None, field_selector=None,
                   limit=None, metadata_only=False, prefetch=False): ...

    def get(self, resource, namespace, name): ...


class ClusterLookup:
    """Owners from the API server, cached. For each (kind, namespace) of a level it sends one GET
    when one owner is wanted and one (paginated) LIST when several are, whichever is fewer
    requests, so the number of requests never grows with the number of pods.

    A forbidden lookup does not fail the scan: the owner is reported as far as it was resolved
    and `problems` says what could not be read."""

    def __init__(self, api: ApiReader, resource_for: Callable[[str], Resource | None] = resource_for_kind) -> None:
        self._api = api
        # The REST resource of a type key: the built-in table, or (for a scan) discovery's answer
        # for the custom resources the cluster serves.
        self._resource_for = resource_for
        self._cache: dict[tuple[str, str | None, str], Compact | Missing] = {}
        self._listed: set[tuple[str, str | None]] = set()  # (kind, namespace or None for all) read in full
        self.problems: list[str] = []

    def remember(self, kind: str, obj: dict) -> None:
        """Keep what the walk needs of an object listed elsewhere (the workload lists of a scan;
        `kind` is its type key),
        so no request is sent for it later. Only the uid and controller reference are kept:
        a cluster's ReplicaSets would otherwise cost memory in proportion to the cluster."""
        metadata = obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if isinstance(name, str):
            assert isinstance(metadata, dict)
            namespace = metadata.get("namespace")
            key = (kind, sys.intern(namespace) if type(namespace) is str else None,
                   sys.intern(name) if type(name) is str else name)
            self._cache[key] = _compact_metadata(metadata)  # type: ignore[index]

    def mark_listed(self, kind: str, namespace: str | None) -> None:
        """Every object of `kind` in `namespace` (None: all namespaces) has been remembered, so a
        name that is not there does not exist."""
        self._listed.add((kind, namespace))

    def _known_missing(self, kind: str, namespace: str | None) -> bool:
        return (kind, None) in self._listed or (kind, namespace) in self._listed

    def prefetch(self, wanted: Iterable[tuple[str, str | None, str]]) -> None:
        groups: dict[tuple[str, str | None], set[str]] = {}
        for kind, namespace, name in wanted:
            if path_segment_problems(name):
                continue  # get() answers it without a request
            if (kind, namespace, name) not in self._cache and not self._known_missing(kind, namespace):
                groups.setdefault((kind, namespace), set()).add(name)
        for (kind, namespace), names in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
            resource = self._resource_for(kind)
            if resource is None or len(names) < 2:
                continue  # get() fetches a single owner by name
            try:
                # The walk reads only metadata (uid, ownerReferences): a ReplicaSet's template
                # would be most of what is sent.
                for page in self._api.list_pages(resource, namespace, metadata_only=True):
                    for obj in page:
                        name = queries.NAME.search(obj)
                        if isinstance(name, str):
                            self._cache[(kind, namespace, name)] = _compact(obj)
            except ApiError as err:
                self._forbidden_or_raise(err, kind, resource, namespace, names)
                continue
            for name in names:
                self._cache.setdefault((kind, namespace, name), Missing.NOT_FOUND)

    def get(self, kind: str, namespace: str | None, name: str) -> dict | Missing:
        key = (kind, namespace, name)
        if key not in self._cache and self._known_missing(kind, namespace):
            return Missing.NOT_FOUND
        if key not in self._cache and path_segment_problems(name):
            # A reference no object can answer (`..`, a `/`): forged or broken, never sent in a URL.
            return Missing.NOT_FOUND
        if key not in self._cache:
            resource = self._resource_for(kind)
            if resource is None:
                return Missing.UNKNOWN
            try:
                found = self._api.get(resource, namespace if resource.namespaced else None, name)
                self._cache[key] = _compact(found) if found is not None else Missing.NOT_FOUND
            except ApiError as err:
                self._forbidden_or_raise(err, kind, resource, namespace, {name})
        found = self._cache[key]
        return found if isinstance(found, Missing) else _expand(found)

    def _forbidden_or_raise(self, err: ApiError, kind: str, resource: Resource, namespace: str | None,
                            names: set[str]) -> None:
        if err.status != 403:
            raise err
        for name in names:
            self._cache[(kind, namespace, name)] = Missing.UNKNOWN
        where = f' in the namespace "{namespace}"' if namespace else ""
        problem = (f"cannot read {resource.qualified_plural}{where} "
                   f"(Forbidden): owners are shown as far as they could be resolved")
        if problem not in self.problems:
            self.problems.append(problem)


def missing_owners_warning(chains: Sequence[tuple[ObjectRef, ...]]) -> str | None:
    """One warning line naming the owners that were referenced but not found, or None."""
    missing = sorted({(c[-1].namespace or "", c[-1].describe()) for c in chains if not c[-1].found})
    if not missing:
        return None
    shown = ", ".join(owner + (f' in "{ns}"' if ns else "") for ns, owner in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    noun = "owner was" if len(missing) == 1 else "owners were"
    return (f"{len(missing)} {noun} not found (deleted, or not in the input): {shown}{more}; "
            "their pods are reported under them")
