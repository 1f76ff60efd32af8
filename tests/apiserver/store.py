"""The server's objects: serialized once, sorted like etcd keys, and cut into list pages.

Each object is turned into JSON bytes when it is stored, so a request only selects and joins
byte strings; that keeps 100,000-pod benchmarks about the client rather than this server. A
`Store` is never changed after it is built: updates build a new one and the server swaps the
reference, so requests in flight keep a consistent view without locks.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.apiserver.resources import (
    BY_KIND,
    BY_PATH,
    CUSTOM_RESOURCE_DEFINITION,
    NAMESPACE,
    RESOURCES,
    Resource,
    custom_resources,
)

Key = tuple[str, str]  # (namespace, name); namespace is "" for cluster-scoped objects
LabelPredicate = Callable[[Mapping[str, str]], bool]
FieldPredicate = Callable[[Sequence[str]], bool]

_CONTINUE_VERSION = "meta.k8s.io/v1"


@dataclass(frozen=True)
class Entry:
    namespace: str
    name: str
    labels: Mapping[str, str]
    fields: tuple[str, ...]  # selectable field values, in the order of Resource.fields
    item: bytes  # the object as a list item: JSON without kind and apiVersion
    explicit: bool = True  # False for namespaces the store derived from other objects
    metadata_item: bytes = b""  # the object as a PartialObjectMetadata (metadata only)


@dataclass(frozen=True)
class Page:
    items: list[bytes]
    continue_after: Key | None  # key of the last item sent when more may follow
    remaining: int | None  # remainingItemCount, only known without selectors (as on a real server)


class BadContinue(ValueError):
    """A `continue` token the server cannot decode; answered with 400 BadRequest."""


def encode_continue(resource_version: int, key: Key) -> str:
    # Same shape as the real server's token, so a client cannot rely on a simpler format.
    start = f"{key[0]}/{key[1]}\x00" if key[0] else f"{key[1]}\x00"
    raw = json.dumps({"v": _CONTINUE_VERSION, "rv": resource_version, "start": start},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str, resource: Resource) -> tuple[int, Key]:
    raw = b""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as e:
        raise BadContinue(f"invalid continue token: continue key is not valid: {_go_json_error(raw, e)}") from None
    version = data.get("v") if isinstance(data, dict) else None
    if version != _CONTINUE_VERSION:
        raise BadContinue("invalid continue token: continue key is not valid: server does not "
                          f"recognize this encoded version {version if isinstance(version, str) else ''}")
    rv, start = data.get("rv"), data.get("start")
    if not isinstance(rv, int) or rv <= 0 or not isinstance(start, str) or not start:
        raise BadContinue("invalid continue token: continue key is not valid: incorrect encoded start "
                          f"resourceVersion (version {_CONTINUE_VERSION})")
    start = start.rstrip("\x00")
    if resource.namespaced and "/" in start:
        namespace, name = start.split("/", 1)
        return rv, (namespace, name)
    return rv, ("", start)


def _go_json_error(raw: bytes, error: Exception) -> str:
    """encoding/json's message for a token that is not JSON from its first byte, as the real server
    words it; other errors keep Python's wording."""
    if not raw.strip() or isinstance(error, binascii.Error):
        return str(error)
    first = raw.lstrip(b" \t\r\n")[0]
    if first in b'{["-0123456789tfn':
        return str(error)
    if 0x20 <= first < 0x7f:
        quoted = "'\\''" if first == 0x27 else f"'{chr(first)}'"
    elif first < 0x80:
        quoted = "'" + json.dumps(chr(first))[1:-1].replace("\\u00", "\\x") + "'"
    else:
        quoted = f"'\\u{first:04x}'"
    return f"invalid character {quoted} looking for beginning of value"


def _uid(kind: str, namespace: str, name: str) -> str:
    # Deterministic, so fixtures and their expected outputs stay stable between runs.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"kubectl-dockershim-test/{kind}/{namespace}/{name}"))


def _entry(obj: Mapping[str, Any], resource_version: int,
           custom: Mapping[tuple[str, str], Resource] | None = None) -> tuple[Resource, Entry]:
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    defined = (custom or {}).get((group, kind)) if isinstance(kind, str) and "." in group else None
    resource = defined or (BY_KIND.get(kind) if isinstance(kind, str) else None)
    if resource is None:
        raise ValueError(f"the test API server does not serve kind {kind!r} of {api_version!r} "
                         f"(served: {', '.join(sorted(BY_KIND))} and the kinds of its CustomResourceDefinitions)")
    if defined is not None:
        if api_version not in (f"{group}/{v}" for v in defined.versions):
            raise ValueError(f"{kind} of {group} is served at {', '.join(defined.versions)}, not {api_version!r}")
    elif api_version != resource.api_version:
        raise ValueError(f"{kind} must have apiVersion {resource.api_version!r}, not {api_version!r}")
    metadata = dict(obj.get("metadata") or {})
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{kind} without metadata.name: {json.dumps(obj)[:200]}")
    namespace = ""
    if resource.namespaced:
        # The real server fills the namespace from the request path; "default" is kubectl's.
        namespace = metadata.get("namespace") or "default"
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    metadata.setdefault("uid", _uid(resource.kind, namespace, name))
    metadata.setdefault("resourceVersion", str(resource_version))
    # metadata first, as the real server orders it; kind and apiVersion are left out because
    # list items carry none (a get adds them back).
    item = {"metadata": metadata, **{k: v for k, v in obj.items()
                                     if k not in ("kind", "apiVersion", "metadata")}}
    labels = metadata.get("labels") or {}
    fields = tuple(get(item) for get in resource.fields.values())
    data = json.dumps(item, separators=(",", ":")).encode()
    partial = json.dumps({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata},
                         separators=(",", ":")).encode()
    return resource, Entry(namespace, name, labels, fields, data, metadata_item=partial)


def _derived_namespace(name: str, resource_version: int) -> Entry:
    _, entry = _entry({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }, resource_version)
    return Entry(entry.namespace, entry.name, entry.labels, entry.fields, entry.item, explicit=False,
                 metadata_item=entry.metadata_item)


class _Table:
    """One resource's entries sorted by (namespace, name), with their keys for bisecting."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = sorted(entries, key=lambda e: (e.namespace, e.name))
        self.keys: list[Key] = [(e.namespace, e.name) for e in self.entries]
        self.by_key = dict(zip(self.keys, self.entries, strict=True))

    def span(self, namespace: str | None) -> tuple[int, int]:
        if not namespace:
            return 0, len(self.keys)
        # (ns,) sorts before every (ns, name) and (ns + "\0",) after them.
        return bisect_left(self.keys, (namespace,)), bisect_left(self.keys, (namespace + "\0",))


def _defined(crds: Iterable[Entry]) -> list[list[Resource]]:
    """The resources of each stored CustomResourceDefinition (one per served version, preferred first)."""
    return [custom_resources(json.loads(entry.item)) for entry in crds]


class Store:
    """An immutable snapshot of every served object; build a new one to change anything.

    A custom resource's objects are kept once, under the resource of its preferred version, and
    served at each of its versions (the table is shared), with that version's apiVersion."""

    def __init__(self, explicit: Mapping[Resource, Mapping[Key, Entry]], resource_version: int,
                 custom: Iterable[Resource] = ()) -> None:
        self.resource_version = resource_version
        self._explicit = explicit
        # Custom resources: every served version, and (group, version, plural) -> resource for routing.
        self.custom: list[Resource] = list(custom)
        self.by_path: dict[tuple[str, str, str], Resource] = {
            **BY_PATH, **{(r.group, r.version, r.plural): r for r in self.custom}}
        namespaces = dict(explicit.get(NAMESPACE, {}))
        rv = resource_version
        for resource, entries in explicit.items():
            if resource.namespaced:
                for namespace, _ in entries:
                    if ("", namespace) not in namespaces:
                        rv += 1
                        namespaces[("", namespace)] = _derived_namespace(namespace, rv)
        self.resource_version = rv
        self._tables = {r: _Table(explicit.get(r, {}).values()) for r in RESOURCES if r is not NAMESPACE}
        self._tables[NAMESPACE] = _Table(namespaces.values())
        preferred = {(r.group, r.kind): r for r in self.custom if r.version == r.versions[0]}
        for r in self.custom:
            canonical = preferred[(r.group, r.kind)]
            if canonical not in self._tables:
                self._tables[canonical] = _Table(explicit.get(canonical, {}).values())
            self._tables[r] = self._tables[canonical]

    @classmethod
    def build(cls, objects: Iterable[Mapping[str, Any]], previous: Store | None = None,
              keep_previous: bool = True) -> Store:
        """A store holding `objects` and, if `keep_previous`, the objects of `previous` that
        `objects` do not replace; resourceVersions continue from `previous`'s."""
        explicit: dict[Resource, dict[Key, Entry]] = {r: {} for r in RESOURCES}
        rv = previous.resource_version if previous is not None else 0
        kept: dict[Resource, Mapping[Key, Entry]] = dict(previous._explicit) if previous is not None and keep_previous \
            else {}
        explicit[CUSTOM_RESOURCE_DEFINITION].update(kept.get(CUSTOM_RESOURCE_DEFINITION, {}))
        for resource, entries in kept.items():
            if not resource.custom and resource is not CUSTOM_RESOURCE_DEFINITION:
                explicit[resource].update(entries)
        # Objects stream through (a benchmark's 150,000 are never all held); custom resources wait
        # until every definition has been read, as the real server must have those first.
        pending: list[tuple[int, Mapping[str, Any]]] = []
        for obj in objects:
            rv += 1
            api_version = obj.get("apiVersion")
            if obj.get("kind") == CUSTOM_RESOURCE_DEFINITION.kind:
                resource, entry = _entry(obj, rv)
                custom_resources(json.loads(entry.item))  # refused before it is stored
            elif isinstance(api_version, str) and "." in api_version.rpartition("/")[0]:
                pending.append((rv, obj))
                continue
            else:
                resource, entry = _entry(obj, rv)
            explicit[resource][(entry.namespace, entry.name)] = entry
        served = _defined(explicit[CUSTOM_RESOURCE_DEFINITION].values())
        defined = {(versions[0].group, versions[0].kind): versions[0] for versions in served}
        for resource, entries in kept.items():
            if resource.custom:
                canonical = defined.get((resource.group, resource.kind))
                if canonical is not None:  # a kind whose definition is gone is no longer served
                    explicit.setdefault(canonical, {}).update(entries)
        for version, obj in pending:
            resource, entry = _entry(obj, version, defined)
            explicit.setdefault(resource, {})[(entry.namespace, entry.name)] = entry
        return cls(explicit, rv, [r for versions in served for r in versions])

    def count(self) -> int:
        return sum(len(t.entries) for t in {id(t): t for t in self._tables.values()}.values())

    def get(self, resource: Resource, namespace: str, name: str, metadata_only: bool = False) -> bytes | None:
        """The object with its kind and apiVersion, as a get returns it."""
        entry = self._tables[resource].by_key.get((namespace if resource.namespaced else "", name))
        if entry is None:
            return None
        if metadata_only:
            return entry.metadata_item
        return _typed(resource, entry.item)

    def list_page(self, resource: Resource, namespace: str | None, *, limit: int | None = None,
                  start_after: Key | None = None, labels: LabelPredicate | None = None,
                  fields: FieldPredicate | None = None, metadata_only: bool = False) -> Page:
        """One page of items; `metadata_only` gives them as PartialObjectMetadata."""
        page = self._page(resource, namespace, limit=limit, start_after=start_after, labels=labels, fields=fields,
                          metadata_only=metadata_only)
        if resource.custom and not metadata_only:
            # A custom resource's list items carry their apiVersion and kind, as the real server's do.
            return Page([_typed(resource, item) for item in page.items], page.continue_after, page.remaining)
        return page

    def _page(self, resource: Resource, namespace: str | None, *, limit: int | None, start_after: Key | None,
              labels: LabelPredicate | None, fields: FieldPredicate | None, metadata_only: bool) -> Page:
        table = self._tables[resource]
        lo, hi = table.span(namespace if resource.namespaced else None)
        start = max(lo, bisect_right(table.keys, start_after)) if start_after else lo
        entries = table.entries
        if labels is None and fields is None:
            end = hi if not limit else min(hi, start + limit)
            items = [e.metadata_item if metadata_only else e.item for e in entries[start:end]]
            if end < hi:
                return Page(items, table.keys[end - 1], hi - end)
            return Page(items, None, None)
        items = []
        for i in range(start, hi):
            entry = entries[i]
            if (labels is None or labels(entry.labels)) and (fields is None or fields(entry.fields)):
                items.append(entry.metadata_item if metadata_only else entry.item)
                if limit and len(items) == limit:
                    # Like the real server: more keys in range means a continue token, even
                    # if none of them will match.
                    return Page(items, table.keys[i] if i + 1 < hi else None, None)
        return Page(items, None, None)


def _typed(resource: Resource, item: bytes) -> bytes:
    """A stored item with the kind and apiVersion (of the version asked for) a get returns."""
    prefix = json.dumps({"kind": resource.kind, "apiVersion": resource.api_version}, separators=(",", ":")).encode()
    return prefix[:-1] + b"," + item[1:]
