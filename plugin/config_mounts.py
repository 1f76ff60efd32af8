"""Rule DS009's stage: configuration findings joined to the workloads that mount the configuration.

A log shipper's configuration lives in a ConfigMap (or in the values of its Helm chart), but what
breaks at the switch is the DaemonSet that mounts it. `ConfigIndex` learns, while the scan streams
past, which ConfigMaps each Pod and template mounts (configMap volumes and projected sources,
honouring `items` and `subPath`) and what the detectors of `plugin.log_config` find in each
ConfigMap, in whatever order the two arrive; `scanned_objects` then gives every mounting workload
a DS009 finding per matching line, with the ConfigMap's origin (where to change it) as its source.
A ConfigMap that nothing in the input mounts, and a Helm values file, is reported as itself.

Live scans never read ConfigMaps unless asked (`--read-configmaps`), and then only those mounted
by a workload with findings or by a known log agent: `wanted` names them, one GET each.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import NamedTuple

from plugin import queries
from plugin.explain import Explanation, migration_for
from plugin.log_config import (
    HELM_VALUES_KIND,
    PARSER_ENV_VARS,
    ConfigMatch,
    config_texts,
    detect,
    helm_values_texts,
)
from plugin.models import Finding, ObjectRef, Origin, ScannedObject, SourceObject, lower_severity
from plugin.owners import controller_reference
from plugin.podspec import PodSpecView, pod_spec_of
from plugin.rules import CONFIG_RULES
from plugin.scan import Identify, scanned_object
from plugin.scheduling import Placement, placement_of

RULE = CONFIG_RULES[0]
# The API server's CA bundle, which every pod mounts (a projected source of its service-account
# token): never a shipper's configuration, and not worth a request per namespace.
SKIPPED_CONFIG_MAPS = frozenset({"kube-root-ca.crt"})
# Catalogue agents whose ConfigMaps a live scan reads even when their pod spec has no finding:
# the log shippers and the two controllers whose configuration DS009 knows.
LOG_AGENT_IDS = frozenset({
    "fluent-bit", "aws-for-fluent-bit", "newrelic-logging", "fluentd-kubernetes-daemonset", "fluentd-gcp",
    "fluentd-elasticsearch-addon", "splunk-connect-kubernetes", "sumologic-collection", "filebeat",
    "promtail", "grafana-agent", "grafana-alloy", "vector", "argo-workflows-executor", "node-problem-detector",
})


@dataclass(frozen=True, slots=True)
class ConfigUse:
    """One container's view of a ConfigMap, through one volume (container None: the volume is
    declared but no container mounts it)."""

    config_map: str
    volume: str | None  # None: read through the API, not mounted (Argo's controller)
    container: str | None
    mount_path: str | None
    sub_path: str | None
    read_only: bool
    files: tuple[tuple[str, str], ...] | None  # (key, file path) when the volume picks `items`; None: every key
    # The container's env among PARSER_ENV_VARS: (name, literal value, None when from valueFrom).
    env: tuple[tuple[str, str | None], ...]

    def sees(self, key: str) -> bool:
        """Whether the container finds this key of the ConfigMap as a file."""
        if self.files is None:
            path = key
        else:
            picked = dict(self.files).get(key)
            if picked is None:
                return False
            path = picked
        if self.sub_path is None:
            return True
        sub_path = self.sub_path.strip("/")
        return path == sub_path or path.startswith(sub_path + "/")

    def sets_env_otherwise(self, name: str, default: str) -> bool:
        """Whether the container sets env `name` to a literal other than `default` (one from a Secret or
        a ConfigMap is unknown, so it does not count)."""
        values = [value for env_name, value in self.env if env_name == name]
        return bool(values) and values[-1] is not None and values[-1].strip().lower() != default


def _config_map_volumes(spec: dict) -> Iterator[tuple[str, dict]]:
    """(volume name, configMap source) of each configMap volume and projected configMap source."""
    for volume in queries.CONFIG_MAP_VOLUMES.search(spec) or ():
        name = volume.get("name")
        if not isinstance(name, str):
            continue
        sources = [volume.get("configMap"), *(volume.get("projected") or ())]
        for source in sources:
            if isinstance(source, dict) and isinstance(source.get("name"), str) \
                    and source["name"] not in SKIPPED_CONFIG_MAPS:
                yield name, source


def _picked_files(source: dict) -> tuple[tuple[str, str], ...] | None:
    items = source.get("items")
    if not isinstance(items, list):
        return None
    return tuple((i["key"], i["path"]) for i in items
                 if isinstance(i, dict) and isinstance(i.get("key"), str) and isinstance(i.get("path"), str))


# Argo Workflows' controller reads its configuration through the API: the ConfigMap named by its
# --configmap flag, this one by default.
ARGO_CONTROLLER_CONFIG_MAP = "workflow-controller-configmap"


def _argo_controller_uses(view: PodSpecView) -> Iterator[ConfigUse]:
    from plugin.catalogue import image_repository

    for container in view.containers:
        if not image_repository(container.image or "").endswith("workflow-controller"):
            continue
        words = container.command + container.args
        name = ARGO_CONTROLLER_CONFIG_MAP
        for i, word in enumerate(words):
            if word.startswith("--configmap="):
                name = word.split("=", 1)[1]
            elif word == "--configmap" and i + 1 < len(words):
                name = words[i + 1]
        yield ConfigUse(name, None, container.name, None, None, True, None, ())


def _raw_containers(spec: dict) -> Iterator[dict]:
    for key in ("containers", "initContainers", "ephemeralContainers"):
        found = spec.get(key)
        if isinstance(found, list):
            yield from (c for c in found if isinstance(c, dict) and isinstance(c.get("name"), str))


def _mounts_of(container: dict, volumes: dict[str, list]) -> Iterator[tuple[dict, list]]:
    """(volumeMount, the ConfigMap sources of its volume) for each mount of one of `volumes`."""
    mounts = container.get("volumeMounts")
    for mount in mounts if isinstance(mounts, list) else ():
        if isinstance(mount, dict) and mount.get("name") in volumes:
            yield mount, volumes[mount["name"]]


def _parser_env(container: dict) -> tuple[tuple[str, str | None], ...]:
    env = container.get("env")
    if not isinstance(env, list):
        return ()
    return tuple((e["name"], e["value"] if isinstance(e.get("value"), str) else None)
                 for e in env if isinstance(e, dict) and e.get("name") in PARSER_ENV_VARS)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def config_uses(spec: dict) -> tuple[ConfigUse, ...]:
    """Every (ConfigMap, container) a pod spec mounts, through configMap volumes and projected
    sources, and the ConfigMap Argo's workflow controller reads through the API. Read straight
    from the spec, not through `PodSpecView`: this runs on every pod that mounts a ConfigMap, and
    needs only the mounts of those volumes."""
    volumes: dict[str, list] = {}
    for volume, source in _config_map_volumes(spec):
        volumes.setdefault(volume, []).append(source)
    uses = []
    mounted: set[str] = set()
    if volumes:
        for container in _raw_containers(spec):
            for mount, sources in _mounts_of(container, volumes):
                mounted.add(mount["name"])
                for source in sources:
                    uses.append(ConfigUse(
                        source["name"], mount["name"], container["name"], _text(mount.get("mountPath")),
                        _text(mount.get("subPath")), mount.get("readOnly") is True, _picked_files(source),
                        _parser_env(container)))
    for volume, sources in volumes.items():
        if volume not in mounted:
            uses += [ConfigUse(source["name"], volume, None, None, None, False, _picked_files(source), ())
                     for source in sources]
    if any("workflow-controller" in str(c.get("image")) for c in _raw_containers(spec)):
        uses.extend(_argo_controller_uses(PodSpecView(spec)))
    return tuple(uses)


class _Pending(NamedTuple):
    """A Pod or template without findings of its own that mounts a ConfigMap, as compact as the
    report allows: offline, one is kept for nearly every pod of the input until its ConfigMaps are
    known, so no dict of the parsed object is held (their memory could not be given back), and
    the catalogue, too slow to run on every such pod, runs only once a ConfigMap of it matches:
    on its images, and the name and labels its hints look at."""

    kind: str
    api_version: str
    name: str
    namespace: str | None
    uid: str
    controller: tuple[str, str, str, str, bool] | None  # (apiVersion, kind, name, uid, controller)
    node: str | None
    origin: Origin
    images: tuple[str, ...]
    hints: tuple[str | None, str | None, tuple[tuple[str, str], ...]]  # name, generateName, labels
    placement: Placement | None  # a template's, or a pod's not yet on a node (see plugin.scheduling)

    @classmethod
    def of(cls, source: SourceObject, spec: dict, metadata: dict, default_namespace: str | None) -> _Pending:
        obj = source.obj
        name, namespace, uid = queries.NAME.search(obj), queries.NAMESPACE.search(obj), queries.UID.search(obj)
        reference = controller_reference(queries.OWNER_REFERENCES.search(obj))
        node = queries.NODE_NAME.search(obj) if source.kind == "Pod" else None
        node = node if isinstance(node, str) and node else None
        labels = metadata.get("labels")
        hinted = _hinted_label_keys()
        kept = tuple((k, v) for k, v in labels.items() if k in hinted and isinstance(v, str)) \
            if isinstance(labels, dict) else ()
        name_hint, generate_name = (metadata.get(key) for key in ("name", "generateName"))
        return cls(
            source.kind, source.api_version, name if isinstance(name, str) else "<unnamed>",
            namespace if isinstance(namespace, str) and namespace else default_namespace,
            uid if isinstance(uid, str) else "",
            None if reference is None else (str(reference.get("apiVersion") or ""), reference["kind"],
                                            reference["name"], str(reference.get("uid") or ""),
                                            reference.get("controller") is True),
            node, source.origin,
            tuple(c["image"] for c in _raw_containers(spec) if isinstance(c.get("image"), str)),
            (name_hint if isinstance(name_hint, str) else None,
             generate_name if isinstance(generate_name, str) else None, kept),
            placement_of(source.kind, spec) if node is None else None,
        )

    def scanned(self, identify: Identify | None) -> ScannedObject:
        agent = None
        if identify is not None:
            name, generate_name, labels = self.hints
            metadata = {k: v for k, v in (("name", name), ("generateName", generate_name)) if v is not None}
            agent = identify({"containers": [{"image": image} for image in self.images]},
                             {**metadata, "labels": dict(labels)})
        references: tuple[dict, ...] = ()
        if self.controller is not None:
            api_version, kind, name, uid, controller = self.controller
            references = ({"apiVersion": api_version, "kind": kind, "name": name, "uid": uid,
                           "controller": controller},)
        return ScannedObject(ref=ObjectRef(self.kind, self.name, self.namespace, self.api_version, self.uid),
                             owner_references=references, is_pod=self.kind == "Pod", node=self.node,
                             origin=self.origin, findings=(), agent=agent, placement=self.placement)


@dataclass(frozen=True, slots=True)
class _Mounter:
    uses: tuple[ConfigUse, ...]  # of one ConfigMap
    scanned: ScannedObject | None  # a Pod or template with findings of its own
    pending: _Pending | None = None  # one without


@cache
def _hinted_label_keys() -> frozenset[str]:
    from plugin.catalogue import load_catalogue

    return frozenset(key for agent in load_catalogue() for key, _ in agent.label_hints)


@lru_cache(maxsize=4096)
def _is_log_agent_image(image: str) -> bool:
    """Whether an image is one of the known log agents' (cached: a cluster runs few distinct images)."""
    from plugin.catalogue import match_image

    agent = match_image(image)
    return agent is not None and agent.id in LOG_AGENT_IDS


def _runs_log_agent(spec: dict) -> bool:
    return any(isinstance(c, dict) and isinstance(c.get("image"), str) and _is_log_agent_image(c["image"])
               for key in ("containers", "initContainers") for c in (spec.get(key) or ()))


@dataclass(frozen=True)
class _Config:
    """A ConfigMap or Helm values file with matches, and how to name where each one is."""

    ref: ObjectRef
    origin: Origin
    where: str  # "ConfigMap fluent-bit" or "values"
    matches: tuple[tuple[str, ConfigMatch], ...]  # (data key or values path, match)


ConfigKey = tuple[str | None, str]  # (namespace, ConfigMap name)


class ConfigIndex:
    """The ConfigMaps each Pod and template mounts, and the DS009 matches of each ConfigMap read.

    Offline, every mounting object is kept (its ConfigMap may come later in the input); live
    (`log_agents_only`), only those with findings or that the catalogue identifies as a known log
    agent, whose ConfigMaps `wanted` then lists for the one GET each."""

    def __init__(self, identify: Identify | None, *, log_agents_only: bool = False) -> None:
        self._identify = identify
        self._log_agents_only = log_agents_only
        self._mounters: dict[ConfigKey, list[_Mounter]] = {}
        self._configs: dict[ConfigKey, _Config] = {}
        self._read: set[ConfigKey] = set()

    def add_workload(self, source: SourceObject, spec: dict, metadata: dict, scanned: ScannedObject | None,
                     default_namespace: str | None) -> None:
        """A Pod or template, with what the scan kept of it (None: no finding of its own)."""
        uses = config_uses(spec)
        if not uses:
            return
        pending = None
        if scanned is None:
            # Live, a clean workload counts only if its image is a log agent's; offline, any may
            # mount a ConfigMap of the input.
            if self._log_agents_only and not _runs_log_agent(spec):
                return
            pending = _Pending.of(source, spec, metadata, default_namespace)
        namespace = scanned.ref.namespace if scanned is not None else pending.namespace  # type: ignore[union-attr]
        by_config: dict[str, list[ConfigUse]] = {}
        for use in uses:
            by_config.setdefault(use.config_map, []).append(use)
        for name, mounted in by_config.items():
            key = (namespace, name)
            if key in self._read and key not in self._configs:
                continue  # read already, and nothing in it expects Docker
            self._mounters.setdefault(key, []).append(_Mounter(tuple(mounted), scanned, pending))

    def add_config(self, source: SourceObject, default_namespace: str | None) -> None:
        """A ConfigMap (or a Helm values file): its matches are kept, nothing else of it."""
        obj = source.obj
        if source.kind == HELM_VALUES_KIND:
            name = source.origin.file or "<stdin>"
            key: ConfigKey = (None, f"values:{name}:{source.origin.document}")
            ref = ObjectRef(HELM_VALUES_KIND, name)
            texts = helm_values_texts(obj)
            where = "values"
        else:
            found_name, found_namespace = queries.NAME.search(obj), queries.NAMESPACE.search(obj)
            if not isinstance(found_name, str):
                return
            namespace = found_namespace if isinstance(found_namespace, str) and found_namespace else default_namespace
            key = (namespace, found_name)
            uid = queries.UID.search(obj)
            ref = ObjectRef("ConfigMap", found_name, namespace, source.api_version, uid if isinstance(uid, str) else "")
            texts = list(config_texts(obj))
            where = f"ConfigMap {found_name}"
        if key in self._read:
            return  # the same ConfigMap twice in the input: the first one counts, as for owners
        self._read.add(key)
        matches = tuple((text_key, match) for text_key, text in texts for match in detect(text))
        if matches:
            self._configs[key] = _Config(ref, source.origin, where, matches)

    def wanted(self) -> list[tuple[str, str]]:
        """(namespace, name) of every mounted ConfigMap not read yet, in a stable order."""
        return sorted((namespace, name) for namespace, name in self._mounters
                      if namespace is not None and (namespace, name) not in self._read)

    def _findings(self, uses: Iterable[ConfigUse], config: _Config) -> list[Finding]:
        found = []
        for use in uses:
            for text_key, match in config.matches:
                if not use.sees(text_key):
                    continue
                if match.unless_env and use.sets_env_otherwise(match.unless_env, "json"):
                    continue
                found.append(_finding(match, config, text_key, use))
        return found

    def scanned_objects(self) -> list[ScannedObject]:
        """The DS009 findings: one object per (mounting Pod or template, ConfigMap) whose mounts
        see a matching key, sourced at the ConfigMap; a ConfigMap nothing mounts, or a values file,
        as itself."""
        out: list[ScannedObject] = []
        for key, config in self._configs.items():
            mounters = self._mounters.get(key, [])
            if not mounters:
                findings = tuple(_finding(match, config, text_key, None) for text_key, match in config.matches)
                out.append(ScannedObject(ref=config.ref, owner_references=(), is_pod=False, node=None,
                                         origin=config.origin, findings=findings))
                continue
            for mounter in mounters:
                found = self._findings(mounter.uses, config)
                if not found:
                    continue
                scanned = mounter.scanned
                if scanned is None:
                    assert mounter.pending is not None
                    scanned = mounter.pending.scanned(self._identify)
                out.append(replace(scanned, findings=tuple(found), origin=config.origin))
        return out


def _finding(match: ConfigMatch, config: _Config, text_key: str, use: ConfigUse | None) -> Finding:
    where = f"{config.where}, {text_key} line {match.line}"
    severity = match.severity
    if use is not None and use.container is None:
        severity = lower_severity(severity)
        where += "; declared, but no container mounts it"
    return Finding(
        rule_id=RULE.id, rule_name=RULE.name, severity=severity, reason=f"{match.reason} ({where})",
        container=use.container if use else None, volume=use.volume if use else None,
        mount_path=use.mount_path if use else None, sub_path=use.sub_path if use else None,
        read_only=use.read_only if use else False, evidence=match.evidence,
    )


def mounted_config_maps(kind: str, obj: dict) -> list[str]:
    """The names of the ConfigMaps a Pod or workload mounts, in order, once each."""
    found = pod_spec_of(kind, obj)
    return list(dict.fromkeys(use.config_map for use in config_uses(found[0]))) if found else []


def wants_config_maps(explanation: Explanation) -> bool:
    """Whether a live `explain --read-configmaps` reads the ConfigMaps of what it explains: as a
    scan would, for a workload with findings or a known log agent."""
    return bool(explanation.findings) or (explanation.agent is not None and explanation.agent.id in LOG_AGENT_IDS)


def explained_with_configs(explanation: Explanation, kind: str, obj: dict, namespace: str,
                           config_maps: Iterable[SourceObject]) -> Explanation:
    """The explanation of a Pod or workload, with the DS009 findings of the ConfigMaps it mounts
    among `config_maps`, and its migration steps for them."""
    found = pod_spec_of(kind, obj)
    if found is None:
        return explanation
    spec, metadata = found
    index = ConfigIndex(None)
    source = SourceObject(kind, str(obj.get("apiVersion") or ""), obj, Origin())
    index.add_workload(source, spec, metadata, scanned_object(source, (), None, namespace, spec), namespace)
    for config_map in config_maps:
        index.add_config(config_map, namespace)
    added = [f for scanned in index.scanned_objects() if scanned.ref.kind == kind for f in scanned.findings]
    if not added:
        return explanation
    findings = (*explanation.findings, *added)
    return replace(explanation, findings=findings, migration=migration_for(explanation.agent, findings))
