"""Which of the known custom resources (`plugin.custom_resources`) a cluster serves, and at
which version: API discovery, as kubectl does it.

One GET of `/apis` with kubectl's Accept header (client-go 1.37: the aggregated form first, then
plain JSON) brings the aggregated discovery document (`apidiscovery.k8s.io/v2`, served by every
API server since 1.30): every group, version and resource in one answer. A server that answers
with the legacy `APIGroupList` instead (older, or behind a proxy that drops the media type) gets
a GET of `/apis/GROUP/VERSION` for each known group it serves, as kubectl's legacy discovery does
for every group: the versions the table knows first, in the server's order of preference, until
every known kind of the group is found (so one or two per group: a kind may be served at an older
version only, as OpenKruise 1.x serves CloneSet at v1alpha1 beside StatefulSet at v1beta1).
Each known kind is then read at the first version the server prefers among those the table knows
(else the server's preferred one).

The answer is kept for the run (one discovery per context), not on disk: kubectl's cache in
`~/.kube/cache/discovery` lives six hours, so a CRD installed since would be missed, and a
scan that must find every workload cannot skip a kind it is not told about; one request per run
is cheap next to the lists. Names from the server are checked before they become a URL segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from plugin.custom_resources import CustomKind, custom_kinds, kind_for_key
from plugin.errors import ApiError
from plugin.resources import Resource, resource_for_kind

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
ACCEPT = f"{AGGREGATED},application/json"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")  # a plural, a version: one DNS label each


class DiscoveryReader(Protocol):
    """What discovery needs from `plugin.api.ApiClient`."""

    def get_document(self, path: str, accept: str = ...) -> dict[str, Any] | None: ...


class ServedCustomResources:
    """The known custom resources one cluster serves, discovered on first use. `problems` says
    what could not be discovered (the result is then incomplete)."""

    def __init__(self, api: DiscoveryReader, kinds: Iterable[CustomKind] | None = None) -> None:
        self._api = api
        self._kinds = tuple(kinds) if kinds is not None else None
        self._served: dict[str, Resource] | None = None
        self.problems: list[str] = []

    def served(self) -> dict[str, Resource]:
        """Type key -> the resource to read it at, in the table's order."""
        if self._served is None:
            self._served = self._discover(self._kinds if self._kinds is not None else custom_kinds())
        return self._served

    def resource_for(self, key: str) -> Resource | None:
        """The resource of a type key, for the owner walk: a built-in kind's from the plugin's own
        table (nothing is sent), a known custom resource's from discovery (sent once, when the
        walk first meets one), None for any other kind."""
        if "." not in key:
            return resource_for_kind(key)
        if kind_for_key(key) is None:
            return None
        return self.served().get(key)

    def _discover(self, kinds: tuple[CustomKind, ...]) -> dict[str, Resource]:
        try:
            document = self._api.get_document("/apis", ACCEPT)
        except ApiError as err:
            if err.status != 403:
                raise
            self.problems.append("cannot read the API discovery document /apis (Forbidden): custom resources "
                                 "(Argo, Tekton, ECK, ...) are not scanned")
            return {}
        if document is None:
            return {}
        if document.get("kind") == "APIGroupDiscoveryList":
            served = _from_aggregated(document)
        else:
            served = self._from_legacy(document, kinds)
        found: dict[str, Resource] = {}
        for kind in kinds:
            versions = served.get((kind.group, kind.kind))
            if not versions:
                continue
            known = [v for v in versions if v[0] in kind.versions]
            version, plural, namespaced = (known or versions)[0]
            found[kind.key] = Resource(kind.kind, plural, kind.group, version, namespaced, kind.short_names)
        return found

    def _from_legacy(self, document: dict[str, Any], kinds: tuple[CustomKind, ...]) -> dict[tuple[str, str], list]:
        """The legacy way: the group list, then one resource list per version asked for."""
        wanted: dict[str, list[CustomKind]] = {}
        for kind in kinds:
            wanted.setdefault(kind.group, []).append(kind)
        served: dict[tuple[str, str], list] = {}
        for group in _dicts(document.get("groups")):
            name = group.get("name")
            if name not in wanted:
                continue
            versions = [v.get("version") for v in _dicts(group.get("versions"))]
            preferred = group.get("preferredVersion")
            first = preferred.get("version") if isinstance(preferred, dict) else None
            order = [v for v in dict.fromkeys([first, *versions]) if isinstance(v, str) and _NAME.fullmatch(v)]
            table_versions = {v for k in wanted[name] for v in k.versions}
            missing = {k.kind for k in wanted[name]}
            for version in [v for v in order if v in table_versions] + [v for v in order if v not in table_versions]:
                if not missing:
                    break
                resources = self._api.get_document(f"/apis/{name}/{version}")
                for entry in _dicts((resources or {}).get("resources")):
                    plural, kind_name = entry.get("name"), entry.get("kind")
                    if kind_name in missing and _listable(plural, entry.get("verbs")):
                        served.setdefault((name, kind_name), []).append(
                            (version, plural, entry.get("namespaced") is not False))
                        missing.discard(kind_name)
        return served


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _listable(plural: Any, verbs: Any) -> bool:
    """A resource (not a subresource: no `/`) with a name fit for a URL, that may be listed."""
    return isinstance(plural, str) and bool(_NAME.fullmatch(plural)) and isinstance(verbs, list) and "list" in verbs


def _from_aggregated(document: dict[str, Any]) -> dict[tuple[str, str], list]:
    """(group, kind) -> [(version, plural, namespaced)] in the server's order of preference, from an
    APIGroupDiscoveryList. A version the server marks `Stale` (an aggregated API server that did
    not answer) is passed over, as kubectl does."""
    served: dict[tuple[str, str], list] = {}
    for group in _dicts(document.get("items")):
        metadata = group.get("metadata")
        name = metadata.get("name") if isinstance(metadata, dict) else None
        if not isinstance(name, str) or "." not in name:
            continue
        for version in _dicts(group.get("versions")):
            number = version.get("version")
            if version.get("freshness") == "Stale" or not isinstance(number, str) or not _NAME.fullmatch(number):
                continue
            for entry in _dicts(version.get("resources")):
                response = entry.get("responseKind")
                kind = response.get("kind") if isinstance(response, dict) else None
                plural = entry.get("resource")
                if isinstance(kind, str) and _listable(plural, entry.get("verbs")):
                    served.setdefault((name, kind), []).append((number, plural, entry.get("scope") != "Cluster"))
    return served
