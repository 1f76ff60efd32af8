"""Volumes that reach a host path through a PersistentVolumeClaim: a `hostPath` or `local`
PersistentVolume bound to a claim that a pod mounts is, to the pod, the same as a hostPath volume
of that path, so the same rules see it (`ClaimedPodSpecView`), and the finding says through which
claim and volume.

A pod names its claims three ways: a `persistentVolumeClaim` volume (`claimName`), an `ephemeral`
volume (the claim `<pod>-<volume>`, which the ephemeral-volume controller creates and the kubelet
insists on; a template has no pod name, so only pods resolve it), and, for a StatefulSet, each
of its `volumeClaimTemplates` (the claims `<template>-<statefulset>-<ordinal>` of its pods, which
outlive a scale-down, so an idle StatefulSet's retained claims are read too). A storage class
alone says nothing about a path (a provisioner's directory is its own configuration), so what
is known is what is bound: the PersistentVolumes.

The binding is read from the PersistentVolume's `claimRef` (the volume controller writes it,
with `spec.volumeName` on the claim, and marks a volume whose claim is gone `Released`), which
is why a live scan lists only the cluster-scoped PersistentVolumes, once, and only when some
pod or template uses a claim (`ClusterClaims`); a claim that names its volume (`volumeName`)
binds too, which manifests often write instead, and offline both are read (`OfflineClaims`).
Only PersistentVolumes with a host path are kept, so the index stays small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from plugin import queries
from plugin.errors import ApiError
from plugin.models import SourceObject
from plugin.podspec import ClaimBinding, HostPathVolume, PodSpecView, pod_spec_of

if TYPE_CHECKING:
    from plugin.api import ApiClient

# A volume whose claim is gone: its claimRef names a claim that no longer holds it.
UNBOUND_PHASES = frozenset({"Released", "Failed"})
CLAIM_KINDS = frozenset({"PersistentVolume", "PersistentVolumeClaim"})


@dataclass(frozen=True)
class HostPathVolumeSource:
    """What the rules need of a PersistentVolume with a host path."""

    name: str
    path: str
    source: str  # "hostPath" or "local"
    type: str | None  # the hostPath type; None for a local volume
    claim_ref: tuple[str, str] | None  # (namespace, name) of the claim it is bound or reserved to


class ClaimIndex:
    """Claims bound to PersistentVolumes that have a host path, by (namespace, claim name)."""

    def __init__(self) -> None:
        self._volumes: dict[str, HostPathVolumeSource] = {}
        self._bound: dict[str, dict[str, str]] = {}  # namespace -> claim -> volume, from claimRef
        self._named: dict[tuple[str, str], str] = {}  # (namespace, claim) -> volumeName of the claim
        self._named_namespaces: set[str] = set()

    def __bool__(self) -> bool:
        """False when no PersistentVolume has a host path: then no claim can reach one."""
        return bool(self._volumes)

    def add_volume(self, pv: dict, default_namespace: str = "default") -> None:
        name = queries.NAME.search(pv)
        host_path, local = queries.PV_HOST_PATH.search(pv), queries.PV_LOCAL_PATH.search(pv)
        if not isinstance(name, str):
            return
        if isinstance(host_path, dict) and isinstance(host_path.get("path"), str) and host_path["path"]:
            kind = host_path.get("type")
            path, source, type_ = host_path["path"], "hostPath", kind if isinstance(kind, str) and kind else None
        elif isinstance(local, str) and local:
            path, source, type_ = local, "local", None
        else:
            return
        ref = queries.PV_CLAIM_REF.search(pv)
        claim_ref = None
        if isinstance(ref, dict) and isinstance(ref.get("name"), str):
            namespace = ref.get("namespace")
            claim_ref = (namespace if isinstance(namespace, str) and namespace else default_namespace, ref["name"])
        self._volumes[name] = HostPathVolumeSource(name, path, source, type_, claim_ref)
        if claim_ref is not None and queries.PV_PHASE.search(pv) not in UNBOUND_PHASES:
            self._bound.setdefault(claim_ref[0], {})[claim_ref[1]] = name

    def add_claim(self, pvc: dict, default_namespace: str = "default") -> None:
        name, namespace = queries.NAME.search(pvc), queries.NAMESPACE.search(pvc)
        volume = queries.PVC_VOLUME_NAME.search(pvc)
        if isinstance(name, str) and isinstance(volume, str) and volume:
            namespace = namespace if isinstance(namespace, str) and namespace else default_namespace
            self._named[(namespace, name)] = volume
            self._named_namespaces.add(namespace)

    def has_claims_in(self, namespace: str) -> bool:
        """Whether any claim of the namespace may be bound to a host-path volume: most namespaces
        have none, and their pods' claims are then not read at all."""
        return namespace in self._bound or namespace in self._named_namespaces

    def volume_of(self, namespace: str, claim: str) -> HostPathVolumeSource | None:
        """The host-path PersistentVolume the claim is bound to, or None."""
        bound = self._bound.get(namespace, {}).get(claim)
        if bound is not None:
            return self._volumes[bound]
        named = self._volumes.get(self._named.get((namespace, claim), ""))
        # A claim may name a volume reserved for another claim: it stays pending, unbound.
        if named is not None and named.claim_ref in (None, (namespace, claim)):
            return named
        return None

    def claims_named(self, namespace: str, pattern: re.Pattern[str]) -> list[str]:
        """The claims of a namespace bound to a host-path volume whose whole name matches `pattern`."""
        names = set(self._bound.get(namespace, {}))
        names |= {claim for (ns, claim) in self._named if ns == namespace}
        return sorted(n for n in names if pattern.fullmatch(n) and self.volume_of(namespace, n) is not None)


class ClaimSource(Protocol):
    def index(self) -> ClaimIndex:
        """The claims bound to host-path volumes; read when first asked for."""


def uses_claims(kind: str, obj: dict, spec: dict) -> bool:
    """Whether a pod spec (or a StatefulSet's claim templates) names any claim. One pass over the
    volumes that allocates nothing: it runs for every pod of the cluster."""
    volumes = spec.get("volumes")
    if isinstance(volumes, list):
        for volume in volumes:
            if isinstance(volume, dict) and ("persistentVolumeClaim" in volume or "ephemeral" in volume):
                return True
    return kind == "StatefulSet" and bool(queries.STATEFULSET_CLAIM_TEMPLATES.search(obj))


def _templates_use_claims(source: SourceObject) -> bool:
    """Whether any pod template of a custom resource (an object of a group with a dot) names a claim."""
    from plugin.custom_resources import pod_templates

    search = pod_templates(source.kind, source.api_version, source.obj)
    return search is not None and any(uses_claims(source.kind, source.obj, t.spec) for t in search.templates)


def _claims_of(kind: str, obj: dict, spec: dict, namespace: str, index: ClaimIndex) -> Iterator[tuple[str, str]]:
    """(pod volume name, claim name) of every claim the object's pods use."""
    for volume in queries.CLAIM_VOLUMES.search(spec) or []:
        if isinstance(volume.get("name"), str) and isinstance(volume.get("claim"), str):
            yield volume["name"], volume["claim"]
    name = queries.NAME.search(obj)
    if not isinstance(name, str):
        return
    if kind == "Pod":
        for volume in queries.EPHEMERAL_VOLUMES.search(spec) or []:
            if isinstance(volume, str):
                yield volume, f"{name}-{volume}"
    elif kind == "StatefulSet":
        for template in queries.STATEFULSET_CLAIM_TEMPLATES.search(obj) or []:
            if isinstance(template, str):
                pattern = re.compile(re.escape(f"{template}-{name}-") + r"\d+")
                for claim in index.claims_named(namespace, pattern):
                    yield template, claim


def claimed_host_paths(kind: str, obj: dict, spec: dict, namespace: str,
                       index: ClaimIndex) -> tuple[HostPathVolume, ...]:
    """The object's claimed volumes that are host paths, as hostPath volumes that say their claim."""
    found = []
    for volume, claim in _claims_of(kind, obj, spec, namespace, index):
        pv = index.volume_of(namespace, claim)
        if pv is not None:
            found.append(HostPathVolume(volume, pv.path, pv.type, ClaimBinding(claim, pv.name, pv.source)))
    return tuple(found)


class ClaimedPodSpecView(PodSpecView):
    """A pod spec whose claimed host paths count as hostPath volumes, for every rule alike."""

    def __init__(self, spec: dict, metadata: dict | None, claimed: tuple[HostPathVolume, ...]) -> None:
        super().__init__(spec, metadata)
        self.claimed = claimed

    @cached_property
    def host_path_volumes(self) -> tuple[HostPathVolume, ...]:
        return PodSpecView(self.spec).host_path_volumes + self.claimed


def pod_spec_view(kind: str, obj: dict, spec: dict, metadata: dict, default_namespace: str | None,
                  claims: ClaimSource | None) -> PodSpecView:
    """The view the rules run on: with the claimed host paths when the object uses claims and a
    claim source is given (the index is read only then)."""
    if claims is None or not uses_claims(kind, obj, spec):
        return PodSpecView(spec, metadata)
    index = claims.index()
    if not index:
        return PodSpecView(spec, metadata)
    namespace = queries.NAMESPACE.search(obj)
    namespace = namespace if isinstance(namespace, str) and namespace else default_namespace or "default"
    if not index.has_claims_in(namespace):
        return PodSpecView(spec, metadata)
    claimed = claimed_host_paths(kind, obj, spec, namespace, index)
    return ClaimedPodSpecView(spec, metadata, claimed) if claimed else PodSpecView(spec, metadata)


@dataclass
class ClusterClaims:
    """The cluster's PersistentVolumes, listed (paginated, raw JSON) the first time a pod or
    template uses a claim, once for every namespace scanned. A 403 is a problem named in
    `problems`: the claims are then not checked, and the scan says so."""

    api: ApiClient
    problems: list[str]
    context: str | None = None
    _index: ClaimIndex | None = field(default=None, init=False)

    def index(self) -> ClaimIndex:
        if self._index is None:
            from plugin.resources import PERSISTENT_VOLUMES
            from plugin.sources.cluster import cluster_objects

            self._index = ClaimIndex()
            try:
                for source in cluster_objects(self.api, PERSISTENT_VOLUMES, None, context=self.context):
                    self._index.add_volume(source.obj)
            except ApiError as err:
                if err.status != 403:
                    raise
                self._index = ClaimIndex()
                self.problems.append("cannot list persistentvolumes (Forbidden): volumes that pods claim are not "
                                     "checked for Docker's host paths")
        return self._index


class OfflineClaims:
    """Claims and PersistentVolumes from the input files. They may come after the pods that use
    them, so objects that use claims are held (`divert`) and scanned once the input is read; the
    others stream through as before."""

    def __init__(self, default_namespace: str) -> None:
        self.default_namespace = default_namespace
        self.held: list[SourceObject] = []
        self._index = ClaimIndex()

    def index(self) -> ClaimIndex:
        return self._index

    def add(self, sources: Iterable[SourceObject]) -> None:
        """Read the PersistentVolumes and claims of `sources` (explain reads the whole input at once)."""
        for source in sources:
            self._add(source)

    def _add(self, source: SourceObject) -> None:
        if source.kind == "PersistentVolume":
            self._index.add_volume(source.obj, self.default_namespace)
        elif source.kind == "PersistentVolumeClaim":
            self._index.add_claim(source.obj, self.default_namespace)

    def divert(self, sources: Iterable[SourceObject]) -> Iterator[SourceObject]:
        """`sources` without the objects that use claims, which are kept in `held`."""
        for source in sources:
            if source.kind in CLAIM_KINDS:
                self._add(source)
                continue
            found = pod_spec_of(source.kind, source.obj)
            if found is not None and uses_claims(source.kind, source.obj, found[0]):
                self.held.append(source)
                continue
            if found is None and "." in source.api_version and _templates_use_claims(source):
                self.held.append(source)  # a custom resource's templates: scanned like a workload's
                continue
            yield source
