"""Pod specs inside custom resources: operators' own kinds that create pods from a template.

An Argo Workflow, a Tekton Pipeline or an Elastic Beat holds one or more pod templates; the
operator makes the pods from them, so an idle one (a CronWorkflow between two runs, a Task no run
uses yet) has no pod to find. The known kinds are data (`custom_resources.json`: group, kind,
plural, versions, scope and the paths of their templates, each with its shape), read once when
first needed; `pod_templates` turns one object into its pod specs, each with the path where it
was found (`spec.daemonSet.podTemplate`, `spec.templates[2]`), in the shape the rules read. Any
other kind of a custom API group is searched generically for pod-spec shapes under `spec`: an
object whose `containers` are all named, image-bearing entries, bounded in depth and size for
hostile input. Nothing here runs for the built-in kinds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from plugin.resources import Resource
from plugin.rules import SHELLS as _SHELLS  # the shells the docker-cli rule reads scripts of

DATA_FILE = "custom_resources.json"
SHAPES = ("podTemplate", "podSpec", "argoTemplate", "tektonTask", "arcRunner")
# Pod specs read of one object: an Argo Workflow of a few hundred templates is large; a thousand
# is room to spare, and the rest of a hostile object is said to be left out.
MAX_TEMPLATES = 1000
# The generic search: how deep below `spec` it looks (the deepest template of a real CRD, a
# JobSet's `spec.replicatedJobs[].template.spec.template.spec`, is 8 levels down) and how many
# objects and lists it visits in one custom resource before it says it stopped.
GENERIC_MAX_DEPTH = 16
GENERIC_MAX_NODES = 50_000
# What an image reference looks like in a rendered manifest; a policy's pattern (`!*:latest`,
# Kyverno's `*`) or an unrendered Helm value is not an image, so its object is no pod spec.
_IMAGE = re.compile(r"[\w.\-/:@$()]+")
_PLACEHOLDER = re.compile(r"\{([\w.]+)\}")


class CustomResourceTableError(ValueError):
    """custom_resources.json does not have the shape this module expects (a packaging bug)."""


@dataclass(frozen=True)
class TemplateRule:
    """Where one kind keeps pod templates, and what they look like there (see the data file)."""

    path: str  # dotted, `[]` after a key for every item of that list: `spec.tasks[].taskSpec`
    shape: str  # one of SHAPES
    volumes: tuple[str, ...] = ()  # more volume lists (paths from the root) that its pods get
    metadata: str | None = None  # the template's metadata, when it is not beside its spec
    # The built-in kind the operator runs these pods as, when that decides where they go: ECK's
    # `spec.daemonSet.podTemplate` is a DaemonSet, whose pods tolerate cordons and node pressure.
    runs_as: str | None = None


@dataclass(frozen=True)
class MainContainer:
    """The container an operator completes: ECK names it after the Beat's type and gives it
    `spec.image`, else its default image for the well-known types."""

    name: str  # may hold `{spec.type}`-style placeholders
    image: str | None = None
    default_image: str | None = None
    default_for: tuple[str, ...] = ()  # container names the default image is for; empty: all


@dataclass(frozen=True)
class CustomKind:
    group: str
    kind: str
    plural: str
    versions: tuple[str, ...]  # as the vendor's CRD lists them, the preferred first
    namespaced: bool
    short_names: tuple[str, ...]
    templates: tuple[TemplateRule, ...]
    source: str  # where the entry was checked
    main_container: MainContainer | None = None

    @property
    def key(self) -> str:
        """The kind's name across groups, as `plugin.resources.type_key` spells it."""
        return f"{self.kind}.{self.group}"

    @property
    def qualified_plural(self) -> str:
        return f"{self.plural}.{self.group}"

    def resource(self, version: str | None = None) -> Resource:
        return Resource(self.kind, self.plural, self.group, version or self.versions[0], self.namespaced,
                        self.short_names)

    def type_names(self) -> frozenset[str]:
        """What kubectl accepts for it as TYPE: `wf`, `workflow`, `workflows`, `workflows.argoproj.io`,
        `workflow.argoproj.io`, `workflows.v1alpha1.argoproj.io`."""
        singular, names = self.kind.lower(), {self.kind.lower(), self.plural, *self.short_names}
        names |= {f"{singular}.{self.group}", f"{self.plural}.{self.group}"}
        names |= {f"{self.plural}.{version}.{self.group}" for version in self.versions}
        return frozenset(names)


@dataclass(frozen=True)
class PodTemplate:
    """One pod spec of a custom resource, as the rules read it."""

    path: str  # where it is in the object: `spec.daemonSet.podTemplate`, `spec.templates[2]`
    spec: dict[str, Any]
    metadata: dict[str, Any]
    runs_as: str | None = None  # the built-in kind its pods are made as, when the table says (`TemplateRule`)


@dataclass(frozen=True)
class TemplateSearch:
    templates: tuple[PodTemplate, ...]
    problem: str | None = None  # why the search stopped before the end of the object


# ---------------------------------------------------------------------------------------------
# The table


def _read_data() -> str:
    # As catalogue.py reads agents.json: importlib.resources for zipped installs, else beside us.
    if __package__:
        try:
            return package_files.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
        except (FileNotFoundError, ModuleNotFoundError):
            pass
    return Path(__file__).with_name(DATA_FILE).read_text(encoding="utf-8")


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CustomResourceTableError(f"{DATA_FILE}: {where}: '{key}' must be a list of strings")
    return tuple(value)


def _text(entry: dict[str, Any], key: str, where: str, optional: bool = False) -> Any:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise CustomResourceTableError(f"{DATA_FILE}: {where}: '{key}' must be a non-empty string")
    return value


def _kind(entry: Any, index: int) -> CustomKind:
    where = f"kinds[{index}]"
    if not isinstance(entry, dict):
        raise CustomResourceTableError(f"{DATA_FILE}: {where} must be an object")
    rules = []
    for i, raw in enumerate(entry.get("templates") or []):
        at = f"{where}.templates[{i}]"
        if not isinstance(raw, dict) or raw.get("shape") not in SHAPES:
            raise CustomResourceTableError(f"{DATA_FILE}: {at}: 'shape' must be one of {', '.join(SHAPES)}")
        runs_as = _text(raw, "runsAs", at, optional=True)
        if runs_as not in (None, "DaemonSet"):
            raise CustomResourceTableError(f"{DATA_FILE}: {at}: 'runsAs' may only be DaemonSet")
        rules.append(TemplateRule(_text(raw, "path", at), raw["shape"], _strings(raw, "volumes", at),
                                  _text(raw, "metadata", at, optional=True), runs_as))
    if not rules or not isinstance(entry.get("namespaced"), bool):
        raise CustomResourceTableError(f"{DATA_FILE}: {where}: needs templates and a boolean 'namespaced'")
    main = entry.get("mainContainer")
    main_container = None
    if main is not None:
        if not isinstance(main, dict):
            raise CustomResourceTableError(f"{DATA_FILE}: {where}: 'mainContainer' must be an object")
        at = f"{where}.mainContainer"
        main_container = MainContainer(_text(main, "name", at), _text(main, "image", at, optional=True),
                                       _text(main, "defaultImage", at, optional=True),
                                       _strings(main, "defaultFor", at))
    group = _text(entry, "group", where)
    if "." not in group:
        raise CustomResourceTableError(f"{DATA_FILE}: {where}: a CRD's group has a dot: {group!r}")
    return CustomKind(group=group, kind=_text(entry, "kind", where), plural=_text(entry, "plural", where),
                      versions=_strings(entry, "versions", where) or ("v1",), namespaced=entry["namespaced"],
                      short_names=_strings(entry, "shortNames", where), templates=tuple(rules),
                      source=_text(entry, "source", where), main_container=main_container)


@cache
def custom_kinds() -> tuple[CustomKind, ...]:
    """Every kind of the table, in file order."""
    document = json.loads(_read_data())
    raw = document.get("kinds") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        raise CustomResourceTableError(f"{DATA_FILE}: expected an object with a 'kinds' list")
    kinds = tuple(_kind(entry, i) for i, entry in enumerate(raw))
    keys = [k.key for k in kinds]
    if len(set(keys)) != len(keys):
        raise CustomResourceTableError(f"{DATA_FILE}: a kind is listed twice")
    return kinds


@cache
def _by_key() -> dict[str, CustomKind]:
    return {k.key: k for k in custom_kinds()}


def kind_for_key(key: str) -> CustomKind | None:
    """The known kind of a type key (`Workflow.argoproj.io`), or None."""
    return _by_key().get(key)


def known_keys() -> frozenset[str]:
    return frozenset(_by_key())


def kind_for_type(type_name: str) -> CustomKind | None:
    """The known kind that kubectl's TYPE names (`wf`, `workflows.argoproj.io`, `rollout`), or None.
    Callers try the built-in kinds first, as kubectl prefers them (`sts` is a StatefulSet of apps)."""
    wanted = type_name.lower()
    return next((k for k in custom_kinds() if wanted in k.type_names()), None)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def is_custom_group(group: str) -> bool:
    """A group a CRD may define: it has a dot (apiextensions requires one) and is not one of the
    Kubernetes project's own (`*.k8s.io`: storage, networking, ..., which carry no pod spec)."""
    return "." in group and group != "k8s.io" and not group.endswith(".k8s.io")


# ---------------------------------------------------------------------------------------------
# Pod templates of one object


def pod_templates(kind: str, api_version: str, obj: dict[str, Any]) -> TemplateSearch | None:
    """The pod specs of a custom resource: from the table for a known kind (an empty search when
    it holds none), from the generic search for another kind of a custom group (None when it finds
    none), None for everything else."""
    group = group_of(api_version)
    known = _by_key().get(f"{kind}.{group}") if group else None
    if known is not None:
        return _known_templates(known, obj)
    if not is_custom_group(group):
        return None
    found = generic_templates(obj)
    return found if found.templates or found.problem else None


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _at(root: Any, path: str) -> Any:
    node = root
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _nodes(root: dict[str, Any], path: str, limit: int) -> tuple[list[tuple[str, Any]], bool]:
    """(concrete path, value) of each place `path` reaches, at most `limit`; and whether more were
    left out."""
    current: list[tuple[str, Any]] = [("", root)]
    more = False
    for segment in path.split("."):
        each = segment.endswith("[]")
        key = segment[:-2] if each else segment
        reached: list[tuple[str, Any]] = []
        for where, node in current:
            value = node.get(key) if isinstance(node, dict) else None
            here = f"{where}.{key}" if where else key
            if each and isinstance(value, list):
                if len(reached) + len(value) > limit:
                    more = True
                    value = value[:max(limit - len(reached), 0)]
                reached.extend((f"{here}[{i}]", item) for i, item in enumerate(value))
            elif not each and value is not None:
                reached.append((here, value))
        current = reached
    return current, more


def _known_templates(kind: CustomKind, obj: dict[str, Any]) -> TemplateSearch:
    metadata = _mapping(obj.get("metadata"))
    found: list[PodTemplate] = []
    truncated = False
    for rule in kind.templates:
        places, more = _nodes(obj, rule.path, MAX_TEMPLATES - len(found))
        truncated = truncated or more
        extra = [v for path in rule.volumes for v in _dicts(_at(obj, path))]
        for path, node in places:
            shaped = _SHAPERS[rule.shape](node)
            if shaped is None:
                continue
            spec, template_metadata = shaped
            if extra:
                spec = {**spec, "volumes": [*_dicts(spec.get("volumes")), *_joining(rule, spec, extra)]}
            if kind.main_container is not None:
                spec = _with_main_container(spec, kind.main_container, obj)
            if rule.metadata is not None:
                template_metadata = _at(obj, rule.metadata)
            found.append(PodTemplate(path, spec, template_metadata if isinstance(template_metadata, dict)
                                     else metadata, rule.runs_as))
    problem = None
    if truncated:
        problem = (f"holds more than {MAX_TEMPLATES:,} pod templates: only the first {MAX_TEMPLATES:,} "
                   "were scanned")
    return TemplateSearch(tuple(found), problem)


def _joining(rule: TemplateRule, spec: dict[str, Any], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The volumes of `extra` that a template's pod gets. Argo's executor adds a workflow volume
    only to the pods whose containers mount it, and a template's own volume of that name wins
    (workflow/controller/workflowpod.go, addVolumeReferences); Tekton adds every one."""
    if rule.shape != "argoTemplate":
        return extra
    own = {v.get("name") for v in _dicts(spec.get("volumes"))}
    mounted = {m.get("name") for key in ("containers", "initContainers") for c in _dicts(spec.get(key))
               for m in _dicts(c.get("volumeMounts"))}
    return [v for v in extra if v.get("name") in mounted and v.get("name") not in own]


Shaped = tuple[dict[str, Any], Any]  # (pod spec, the template's metadata or None)


def _pod_template(node: Any) -> Shaped | None:
    spec = node.get("spec") if isinstance(node, dict) else None
    return (spec, node.get("metadata")) if isinstance(spec, dict) else None


def _pod_spec(node: Any) -> Shaped | None:
    return (node, None) if isinstance(node, dict) else None


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _argo_template(node: Any) -> Shaped | None:
    """An Argo Workflows template as the pod its executor makes: `container` or `script` is the
    `main` container (a script's source is what its shell runs), a `containerSet`'s containers
    share its volumeMounts, sidecars with `mirrorVolumeMounts` get the main container's mounts,
    and the template's volumes join the workflow's. Templates of steps, a DAG, a resource or a
    suspension run no pod of their own: None."""
    if not isinstance(node, dict):
        return None
    containers: list[dict[str, Any]] = []
    main_mounts: list[dict[str, Any]] = []
    container = node.get("container")
    if isinstance(container, dict):
        containers.append({**container, "name": container.get("name") or "main"})
        main_mounts = _dicts(container.get("volumeMounts"))
    script = node.get("script")
    if isinstance(script, dict):
        command = [w for w in script.get("command") or [] if isinstance(w, str)]
        source = script.get("source")
        main = {**script, "name": script.get("name") or "main"}
        if isinstance(source, str) and source and command and _basename(command[0]) in _SHELLS:
            args = [w for w in script.get("args") or [] if isinstance(w, str)]
            main["args"] = ["-c", source, *args]
        containers.append(main)
        main_mounts = _dicts(script.get("volumeMounts"))
    container_set = node.get("containerSet")
    if isinstance(container_set, dict):
        shared = _dicts(container_set.get("volumeMounts"))
        for member in _dicts(container_set.get("containers")):
            containers.append({**member, "volumeMounts": [*_dicts(member.get("volumeMounts")), *shared]})
    if not containers:
        return None
    for sidecar in _dicts(node.get("sidecars")):
        if sidecar.get("mirrorVolumeMounts") is True:
            sidecar = {**sidecar, "volumeMounts": [*_dicts(sidecar.get("volumeMounts")), *main_mounts]}
        containers.append(sidecar)
    spec = {"containers": containers, "initContainers": _dicts(node.get("initContainers")),
            "volumes": _dicts(node.get("volumes"))}
    return spec, node.get("metadata")


def _merged_by(template: list[dict[str, Any]], own: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """A strategic merge of two lists keyed by `key`: the template's entries, each replaced by the
    step's of the same key, then the step's others."""
    mine = {e.get(key): e for e in own}
    merged = [mine.get(e.get(key), e) for e in template]
    taken = {e.get(key) for e in template}
    return merged + [e for e in own if e.get(key) not in taken]


def _tekton_container(container: dict[str, Any], name: str) -> dict[str, Any]:
    """A step or sidecar as Tekton's pod has it: named `step-NAME` (`sidecar-NAME`), and a script
    run by its shell (sh when it has no `#!` line) as `SHELL -c SCRIPT`."""
    out = {**container, "name": name}
    script = container.get("script")
    if isinstance(script, str) and script.strip() and not container.get("command"):
        first = script.lstrip().splitlines()[0]
        shell = "sh"
        if first.startswith("#!"):
            words = first[2:].split()
            if words and _basename(words[0]) == "env" and len(words) > 1:
                words = words[1:]
            shell = _basename(words[0]) if words else ""
        if shell in _SHELLS:
            out["command"] = [shell, "-c", script]
    return out


def _tekton_task(node: Any) -> Shaped | None:
    """A Tekton TaskSpec as the pod of its TaskRun: each step merged with the stepTemplate (its
    env by name and volumeMounts by mountPath, as Tekton merges them) and named as Tekton names
    the containers, sidecars after them, the task's volumes. A pipeline task of a custom task
    (no steps) runs no pod: None."""
    if not isinstance(node, dict):
        return None
    template = _mapping(node.get("stepTemplate"))
    containers = []
    for i, step in enumerate(_dicts(node.get("steps"))):
        merged = {**{k: v for k, v in template.items() if k not in ("env", "volumeMounts")}, **step}
        merged["env"] = _merged_by(_dicts(template.get("env")), _dicts(step.get("env")), "name")
        merged["volumeMounts"] = _merged_by(_dicts(template.get("volumeMounts")), _dicts(step.get("volumeMounts")),
                                            "mountPath")
        name = step.get("name") if isinstance(step.get("name"), str) and step.get("name") else f"unnamed-{i}"
        containers.append(_tekton_container(merged, f"step-{name}"))
    for i, sidecar in enumerate(_dicts(node.get("sidecars"))):
        name = sidecar.get("name") if isinstance(sidecar.get("name"), str) and sidecar.get("name") else f"unnamed-{i}"
        containers.append(_tekton_container(sidecar, f"sidecar-{name}"))
    if not containers:
        return None
    return {"containers": containers, "volumes": _dicts(node.get("volumes"))}, node.get("metadata")


# actions-runner-controller's defaults (controllers/actions.summerwind.net/runner_controller.go and
# main.go): the runner container, and the Docker daemon it runs beside it unless told otherwise,
# reached through a socket in a memory emptyDir mounted at /run in both.
_ARC_RUNNER_IMAGE = "summerwind/actions-runner:latest"
_ARC_DOCKER_IMAGE = "docker:dind"
_ARC_DOCKER_SOCKET = "unix:///run/docker.sock"


def _arc_runner(node: Any) -> Shaped | None:
    """A RunnerSpec of actions-runner-controller (actions.summerwind.dev) as its runner pod: the
    `runner` container from `image`, `env` and `volumeMounts` (and a `containers` entry of that
    name), the `docker` sidecar (dockerd, its own daemon) unless `dockerEnabled: false` or
    `dockerdWithinRunnerContainer`, then the other containers and sidecars."""
    if not isinstance(node, dict):
        return None
    listed = _dicts(node.get("containers"))
    by_name = {c.get("name"): c for c in listed}
    base = by_name.get("runner", {})
    image = base.get("image") or node.get("image") or _ARC_RUNNER_IMAGE
    runner = {**base, "name": "runner", "image": image,
              "env": [*_dicts(node.get("env")), *_dicts(base.get("env"))],
              "volumeMounts": [*_dicts(node.get("volumeMounts")), *_dicts(base.get("volumeMounts"))]}
    containers = [runner]
    volumes = _dicts(node.get("volumes"))
    if node.get("dockerEnabled") is not False and node.get("dockerdWithinRunnerContainer") is not True:
        docker = by_name.get("docker", {})
        args = [w for w in docker.get("args") or [] if isinstance(w, str)]
        run = {"name": "var-run", "mountPath": "/run"}
        containers.append({**docker, "name": "docker", "image": docker.get("image") or _ARC_DOCKER_IMAGE,
                           "args": ["dockerd", f"--host={_ARC_DOCKER_SOCKET}", *args],
                           "env": [*_dicts(node.get("dockerEnv")), *_dicts(docker.get("env"))],
                           "volumeMounts": [*_dicts(node.get("dockerVolumeMounts")),
                                            *_dicts(docker.get("volumeMounts")), run]})
        runner["env"] = [*runner["env"], {"name": "DOCKER_HOST", "value": _ARC_DOCKER_SOCKET}]
        runner["volumeMounts"] = [*runner["volumeMounts"], run]
        volumes = [*volumes, {"name": "var-run", "emptyDir": {"medium": "Memory"}}]
    containers += [c for c in listed if c.get("name") not in ("runner", "docker")]
    containers += _dicts(node.get("sidecarContainers"))
    return {"containers": containers, "initContainers": _dicts(node.get("initContainers")), "volumes": volumes}, None


_SHAPERS = {"podTemplate": _pod_template, "podSpec": _pod_spec, "argoTemplate": _argo_template,
            "tektonTask": _tekton_task, "arcRunner": _arc_runner}


def _filled(text: str | None, obj: dict[str, Any]) -> str | None:
    """`text` with each `{dotted.path}` replaced by that string field of the object; None when one
    is missing."""
    if text is None:
        return None
    values = {}
    for path in _PLACEHOLDER.findall(text):
        value = _at(obj, path)
        if not isinstance(value, str) or not value:
            return None
        values[path] = value
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def _with_main_container(spec: dict[str, Any], main: MainContainer, obj: dict[str, Any]) -> dict[str, Any]:
    """The spec with the operator's image on its main container, when the template leaves it out."""
    name = _filled(main.name, obj)
    image = _filled(main.image, obj)
    if image is None and name is not None and (not main.default_for or name in main.default_for):
        image = _filled(main.default_image, obj)
    containers = spec.get("containers")
    if name is None or image is None or not isinstance(containers, list):
        return spec
    completed = [{**c, "image": image} if isinstance(c, dict) and c.get("name") == name and not c.get("image")
                 else c for c in containers]
    return {**spec, "containers": completed}


# ---------------------------------------------------------------------------------------------
# The generic search


def looks_like_pod_spec(node: dict[str, Any]) -> bool:
    """A pod spec, not a look-alike: `containers` is a non-empty list of entries that each have a
    name and an image, and `volumes`, when present, is a list of objects."""
    containers = node.get("containers")
    if not isinstance(containers, list) or not containers:
        return False
    for container in containers:
        if not isinstance(container, dict) or not isinstance(container.get("name"), str) or not container["name"]:
            return False
        image = container.get("image")
        if not isinstance(image, str) or not _IMAGE.fullmatch(image):
            return False
    volumes = node.get("volumes")
    return volumes is None or (isinstance(volumes, list) and all(isinstance(v, dict) for v in volumes))


def generic_templates(obj: dict[str, Any]) -> TemplateSearch:
    """Every pod spec under the object's `spec`, in document order. One found as the `spec` of a
    template (an object beside its `metadata`) is named by the template's path and takes its
    metadata. It does not look inside a pod spec it found, nor deeper than GENERIC_MAX_DEPTH
    below `spec`, and stops (saying so) after GENERIC_MAX_NODES objects and lists or
    MAX_TEMPLATES pod specs."""
    object_metadata = _mapping(obj.get("metadata"))
    found: list[PodTemplate] = []
    visited = 0
    # (path, value, depth, parent path, parent object): walked depth first, children in order.
    stack: list[tuple[str, Any, int, str, Any]] = [("spec", obj.get("spec"), 0, "", None)]
    while stack:
        path, node, depth, parent_path, parent = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        visited += 1
        if visited > GENERIC_MAX_NODES:
            return TemplateSearch(tuple(found), f"is too large to search whole for pod specs: it was searched "
                                                f"up to its {GENERIC_MAX_NODES:,}th object or list")
        if isinstance(node, dict) and looks_like_pod_spec(node):
            if len(found) == MAX_TEMPLATES:
                return TemplateSearch(tuple(found), f"holds more than {MAX_TEMPLATES:,} pod templates: only the "
                                                    f"first {MAX_TEMPLATES:,} were scanned")
            if path.endswith(".spec") and isinstance(parent, dict) and parent_path:
                metadata = parent.get("metadata")
                found.append(PodTemplate(parent_path, node, metadata if isinstance(metadata, dict)
                                         else object_metadata))
            else:
                found.append(PodTemplate(path, node, object_metadata))
            continue
        if depth >= GENERIC_MAX_DEPTH:
            continue
        children: Iterator[tuple[str, Any]] = (
            ((f"{path}.{key}", value) for key, value in node.items() if isinstance(key, str))
            if isinstance(node, dict) else ((f"{path}[{i}]", value) for i, value in enumerate(node)))
        stack.extend((child, value, depth + 1, path, node)
                     for child, value in reversed(list(children)) if isinstance(value, (dict, list)))
    return TemplateSearch(tuple(found))
