"""One shape for everything that carries a pod spec: a running Pod, a workload's template,
or a manifest on disk.

`pod_spec_of` finds the spec and metadata of any supported object; `PodSpecView` extracts, once,
the fields the rules read (hostPath volumes, containers and their mounts) and tolerates
missing, null or mistyped fields by dropping what cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from plugin import paths, queries

_T = TypeVar("_T")

_TEMPLATE_KINDS = frozenset(
    {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job", "ReplicationController"}
)
TEMPLATE_KINDS = _TEMPLATE_KINDS | {"CronJob"}
# The probes that can run an exec command, in the order the API documents them.
PROBE_KINDS = ("livenessProbe", "readinessProbe", "startupProbe")


@dataclass(frozen=True)
class ClaimBinding:
    """How a host path reaches a pod through a PersistentVolumeClaim (plugin.claims)."""

    claim: str
    persistent_volume: str
    source: str  # the PersistentVolume's volume source: "hostPath" or "local"

    def evidence(self) -> str:
        return f"pvc/{self.claim} -> pv/{self.persistent_volume}"

    def describe(self) -> str:
        return (f"through the PersistentVolumeClaim {self.claim}, bound to the {self.source} "
                f"PersistentVolume {self.persistent_volume}")


@dataclass(frozen=True)
class HostPathVolume:
    name: str
    path: str
    type: str | None
    claim: ClaimBinding | None = None  # set when the path is a PersistentVolume's, reached through a claim


@dataclass(frozen=True)
class Mount:
    volume: str
    mount_path: str | None
    sub_path: str | None
    read_only: bool


@dataclass(frozen=True)
class EnvVar:
    """One env entry as far as the rules may read it. Values from Secrets and ConfigMaps are
    never read, so they cannot leak into a finding: `value` is None for them."""

    name: str
    value: str | None  # the literal `value`, unexpanded
    field_path: str | None  # valueFrom.fieldRef.fieldPath, e.g. `status.hostIP`


@dataclass(frozen=True)
class ExecProbe:
    kind: str  # one of PROBE_KINDS
    command: tuple[str, ...]


@dataclass(frozen=True)
class Container:
    name: str
    role: str  # "container", "init" or "ephemeral"
    image: str | None
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[dict, ...]  # the raw env entries that are mappings
    probes: tuple[tuple[str, ...], ...]  # exec probe commands
    mounts: tuple[Mount, ...]
    env_vars: tuple[EnvVar, ...] = ()  # the named env entries, in order (kubelet expands `$(VAR)` in order)
    exec_probes: tuple[ExecProbe, ...] = ()  # `probes` with the kind of each probe kept

    def mount_for(self, path: str) -> Mount | None:
        """The mount that serves `path` inside this container: the one whose mountPath contains it
        segment-wise with the most segments, since a nested mount hides its parent there.
        `/var/run` and `/run` are alike, as on the host."""
        target = paths.canonical(path)
        best: Mount | None = None
        best_path = ""
        for mount in self.mounts:
            if mount.mount_path is None:
                continue
            mount_path = paths.canonical(mount.mount_path)
            if paths.is_within(target, mount_path) and (best is None or len(mount_path) > len(best_path)):
                best, best_path = mount, mount_path
        return best


def pod_spec_of(kind: str, obj: dict) -> tuple[dict, dict] | None:
    """(pod spec, metadata of the pod or template) of a Pod or workload, or None for other kinds."""
    if kind == "Pod":
        spec, metadata = queries.POD_SPEC.search(obj), obj.get("metadata")
    elif kind in _TEMPLATE_KINDS:
        spec, metadata = queries.TEMPLATE_SPEC.search(obj), queries.TEMPLATE_METADATA.search(obj)
    elif kind == "CronJob":
        spec = queries.CRONJOB_TEMPLATE_SPEC.search(obj)
        metadata = queries.CRONJOB_TEMPLATE_METADATA.search(obj)
    else:
        return None
    return (spec if isinstance(spec, dict) else {}, metadata if isinstance(metadata, dict) else {})


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, (str, int, float)))


def _mounts(value: object) -> tuple[Mount, ...]:
    if not isinstance(value, list):
        return ()
    mounts = []
    for m in value:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str):
            continue
        sub_path = m.get("subPath")
        mounts.append(Mount(
            volume=m["name"],
            mount_path=m["mountPath"] if isinstance(m.get("mountPath"), str) else None,
            # subPathExpr expands env vars we cannot know: treat it as the whole volume.
            sub_path=sub_path if isinstance(sub_path, str) and sub_path else None,
            read_only=m.get("readOnly") is True,
        ))
    return tuple(mounts)


def _env_vars(value: object) -> tuple[EnvVar, ...]:
    if not isinstance(value, list):
        return ()
    found = []
    for e in value:
        if not isinstance(e, dict) or not isinstance(e.get("name"), str) or not e["name"]:
            continue
        literal = e.get("value")
        field_path = queries.ENV_FIELD_PATH.search(e)
        found.append(EnvVar(
            name=e["name"],
            value=literal if isinstance(literal, str) else None,
            field_path=field_path if isinstance(field_path, str) else None,
        ))
    return tuple(found)


def _exec_probes(value: object) -> tuple[ExecProbe, ...]:
    if not isinstance(value, dict):
        return ()
    found = ((kind, _strings(value.get(kind))) for kind in PROBE_KINDS)
    return tuple(ExecProbe(kind, command) for kind, command in found if command)


class _computed_once(Generic[_T]):
    """`functools.cached_property` without its lock (Python 3.11 takes one on every first read,
    once per pod and property: a tenth of the scan of a pod). The value is stored in the
    instance's `__dict__`, which every later read finds first."""

    def __init__(self, compute: Callable[[Any], _T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> _T:
        value = instance.__dict__[self._name] = self._compute(instance)
        return value


def host_path_volumes(spec: dict) -> tuple[HostPathVolume, ...]:
    """The hostPath volumes of a pod spec that have a name and a path, as `PodSpecView` keeps
    them from `queries.HOST_PATH_VOLUMES`, read in one loop: most pods have a few volumes and
    none of them a hostPath, and the query cost the scan of every pod. (A path is read only from
    a mapping, so `[?hostPath]`'s test for a true value adds nothing here.) `tests/test_podspec_fast.py`
    holds the two equal."""
    volumes = spec.get("volumes")
    if not isinstance(volumes, list):
        return ()
    found = []
    for volume in volumes:
        host_path = volume.get("hostPath") if isinstance(volume, dict) else None
        if not isinstance(host_path, dict):
            continue
        name, path, kind = volume.get("name"), host_path.get("path"), host_path.get("type")
        if isinstance(name, str) and isinstance(path, str) and path:
            found.append(HostPathVolume(name, path, kind if isinstance(kind, str) else None))
    return tuple(found)


def _collect_words(container: object, words: list) -> None:
    """Add to `words` what `queries.CLIENT_WORDS` reads of one container: its env names, its
    command, args and exec probe commands, each flattened once (a field that is not a list is
    one word itself)."""
    if not isinstance(container, dict):
        return  # the query reads no field of anything else
    env = container.get("env")
    if isinstance(env, list):
        try:
            words.extend([entry["name"] for entry in env])  # the usual shape, at C speed
        except (TypeError, KeyError):
            for entry in env:
                if isinstance(entry, dict):
                    words.append(entry.get("name"))
                elif isinstance(entry, list):  # `env[]` flattens a list inside the list
                    words.extend(item.get("name") for item in entry if isinstance(item, dict))
    for field in ("command", "args"):
        value = container.get(field)
        if isinstance(value, list):
            words.extend(value)
        elif value is not None:  # a None would only cost the quick search below
            words.append(value)
    for probe in PROBE_KINDS:
        handler = container.get(probe)
        if handler is None:
            continue
        handler = handler.get("exec") if isinstance(handler, dict) else None
        value = handler.get("command") if isinstance(handler, dict) else None
        if isinstance(value, list):
            words.extend(value)
        elif value is not None:
            words.append(value)


def mentions_docker(spec: dict) -> bool:
    """Whether any env name, command, argument or exec probe of the spec's containers says
    "docker": `queries.CLIENT_WORDS`, which lists those words, evaluated by hand, because it
    runs on every pod and the query builds every list it flattens. The containers are what the
    query reaches: the items of each container list (and of lists inside it), or a container
    field that is a single mapping. The words are searched in one string, which a newline, in
    no word's lower case "docker", keeps apart. `tests/test_podspec_fast.py` holds it equal to
    the query on random documents."""
    words: list = []
    for field in ("containers", "initContainers", "ephemeralContainers"):
        containers = spec.get(field)
        if not isinstance(containers, list):
            _collect_words(containers, words)
            continue
        for container in containers:
            if isinstance(container, list):
                for item in container:
                    _collect_words(item, words)
            else:
                _collect_words(container, words)
    try:
        return "docker" in "\n".join(words).lower()
    except TypeError:  # a word that is no string (null, a number, a list): only strings count
        return any(isinstance(word, str) and "docker" in word.lower() for word in words)


class PodSpecView:
    """A pod spec with its fields extracted once, for all rules to share."""

    def __init__(self, spec: dict, metadata: dict | None = None) -> None:
        self.spec = spec
        self.metadata = metadata or {}

    @_computed_once
    def host_path_volumes(self) -> tuple[HostPathVolume, ...]:
        return host_path_volumes(self.spec)

    @_computed_once
    def mentions_docker(self) -> bool:
        """Whether any env name, command, argument or exec probe says "docker". Rules about the
        Docker client check this first: most pods do not, and skip the full container extraction."""
        return mentions_docker(self.spec)

    @_computed_once
    def containers(self) -> tuple[Container, ...]:
        result = []
        for role, query in (("container", queries.CONTAINERS), ("init", queries.INIT_CONTAINERS),
                            ("ephemeral", queries.EPHEMERAL_CONTAINERS)):
            for c in query.search(self.spec) or []:
                if not isinstance(c.get("name"), str):
                    continue
                env = c.get("env")
                probes = c.get("probes") or []
                result.append(Container(
                    name=c["name"],
                    role=role,
                    image=c["image"] if isinstance(c.get("image"), str) else None,
                    command=_strings(c.get("command")),
                    args=_strings(c.get("args")),
                    env=tuple(e for e in env if isinstance(e, dict)) if isinstance(env, list) else (),
                    probes=tuple(p for p in (_strings(p) for p in probes) if p),
                    mounts=_mounts(c.get("mounts")),
                    env_vars=_env_vars(env),
                    exec_probes=_exec_probes(c.get("exec_probes")),
                ))
        return tuple(result)

    def host_path_volume(self, name: str) -> HostPathVolume | None:
        """The hostPath volume of that name, or None when the volume is of another type or missing."""
        return next((v for v in self.host_path_volumes if v.name == name), None)

    def mounts_of(self, volume: str) -> list[tuple[Container, Mount]]:
        """Every (container, mount) that mounts the named volume."""
        return [(c, m) for c in self.containers for m in c.mounts if m.volume == volume]
