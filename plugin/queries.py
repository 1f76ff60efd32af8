"""Every field the plugin reads from a Kubernetes object, as a precompiled JMESPath expression.

Each expression sits next to the kubectl JSONPath it replaces. The Kubernetes docs' query is
`kubectl get pods -A -o=jsonpath='{range .items[*]}{.metadata.namespace}{.metadata.name}
{range .spec.volumes[*]}{.hostPath.path}{end}{end}'` (separators left out here).
JMESPath returns None for missing or null fields at any depth, which is what makes odd objects
safe to read.

Expressions are parsed once, by jmespath, at import. Evaluating them is the scan's hot path (a
few queries for each of 100,000 pods), so the parsed tree is turned into nested Python closures
once, instead of being walked by jmespath's `TreeInterpreter` (a method lookup and several dict
reads per node per object). Each closure mirrors the interpreter's method for its node type
line for line; node types the plugin does not use fall back to the interpreter, and
`tests/test_queries.py` checks both agree on random expressions and documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jmespath
from jmespath.visitor import TreeInterpreter

# jmespath's own `search` builds a new interpreter per call, and each one is a reference cycle:
# at a million searches the garbage collector would run all the time. The fallback shares one.
_INTERPRETER = TreeInterpreter()

Evaluate = Callable[[Any], Any]


def _interpreted(node: dict[str, Any]) -> Evaluate:
    return lambda value: _INTERPRETER.visit(node, value)


def _is_false(value: Any) -> bool:
    # JMESPath's falsy values, as the interpreter tests them (0 is true in JMESPath).
    return value == "" or value == [] or value == {} or value is None or value is False


def _field(key: str) -> Evaluate:
    def field(value: Any) -> Any:
        try:
            return value.get(key)
        except AttributeError:  # not an object: a list, a string, a number, None
            return None
    return field


def _field_path(keys: tuple[str, ...]) -> Evaluate:
    """`a.b.c`: the commonest expression, one loop instead of one closure per field."""
    def field_path(value: Any) -> Any:
        for key in keys:
            try:
                value = value.get(key)
            except AttributeError:
                return None
        return value
    return field_path


def _chain(steps: list[Evaluate]) -> Evaluate:
    """subexpression, pipe, index_expression: each step reads what the one before returned."""
    def chain(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value
    return chain


def _projection(base: Evaluate, each: Evaluate) -> Evaluate:
    if each is _identity:  # `a[]` and `a[*]` project nothing: only the None items go
        def identity_projection(value: Any) -> Any:
            items = base(value)
            return [item for item in items if item is not None] if isinstance(items, list) else None
        return identity_projection

    def projection(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        collected = []
        for item in items:
            current = each(item)
            if current is not None:
                collected.append(current)
        return collected
    return projection


def _filter_projection(base: Evaluate, each: Evaluate, condition: Evaluate) -> Evaluate:
    def filter_projection(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        collected = []
        for item in items:
            if not _is_false(condition(item)):
                current = each(item)
                if current is not None:
                    collected.append(current)
        return collected
    return filter_projection


def _flatten(base: Evaluate) -> Evaluate:
    def flatten(value: Any) -> Any:
        items = base(value)
        if not isinstance(items, list):
            return None
        merged: list[Any] = []
        for item in items:
            if isinstance(item, list):
                merged.extend(item)
            else:
                merged.append(item)
        return merged
    return flatten


def _multi_select_list(parts: list[Evaluate]) -> Evaluate:
    def multi_select_list(value: Any) -> Any:
        if value is None:
            return None
        return [part(value) for part in parts]
    return multi_select_list


def _multi_select_dict(parts: list[tuple[str, Evaluate]]) -> Evaluate:
    def multi_select_dict(value: Any) -> Any:
        if value is None:
            return None
        return {key: part(value) for key, part in parts}
    return multi_select_dict


def _index(position: int) -> Evaluate:
    def index(value: Any) -> Any:
        if not isinstance(value, list):
            return None
        try:
            return value[position]
        except IndexError:
            return None
    return index


def _identity(value: Any) -> Any:
    return value


def compile_node(node: dict[str, Any]) -> Evaluate:
    """A closure that evaluates a jmespath AST node as `TreeInterpreter.visit` would."""
    kind, children = node["type"], node.get("children", [])
    if kind == "field":
        return _field(node["value"])
    if kind == "subexpression" and all(child["type"] == "field" for child in children):
        return _field_path(tuple(child["value"] for child in children))
    if kind in ("subexpression", "pipe", "index_expression"):
        return _chain([compile_node(child) for child in children])
    if kind in ("identity", "current"):
        return _identity
    if kind == "projection":
        return _projection(compile_node(children[0]), compile_node(children[1]))
    if kind == "filter_projection":
        return _filter_projection(compile_node(children[0]), compile_node(children[1]), compile_node(children[2]))
    if kind == "flatten":
        return _flatten(compile_node(children[0]))
    if kind == "multi_select_list":
        return _multi_select_list([compile_node(child) for child in children])
    if kind == "multi_select_dict":
        return _multi_select_dict([(child["value"], compile_node(child["children"][0])) for child in children])
    if kind == "index":
        return _index(node["value"])
    # Comparators, functions, slices, literals, and/or/not: rare in the plugin's queries, and
    # subtle (0 and 1 against booleans, numbers-only ordering); the interpreter evaluates them.
    return _interpreted(node)


class Query:
    """A JMESPath expression, parsed and compiled once."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.parsed: dict[str, Any] = jmespath.compile(expression).parsed
        self.search: Evaluate = compile_node(self.parsed)


# {.metadata.namespace}, {.metadata.name}
NAMESPACE = Query("metadata.namespace")
NAME = Query("metadata.name")
UID = Query("metadata.uid")
OWNER_REFERENCES = Query("metadata.ownerReferences")
# {.metadata.labels}: the offline selector fallback for pods without references
LABELS = Query("metadata.labels")
# {.spec.nodeName}
NODE_NAME = Query("spec.nodeName")

ANNOTATIONS = Query("metadata.annotations")

# Nodes: {.status.nodeInfo.containerRuntimeVersion}, {.status.nodeInfo.kubeletVersion}, ...
NODE_RUNTIME_VERSION = Query("status.nodeInfo.containerRuntimeVersion")
NODE_KUBELET_VERSION = Query("status.nodeInfo.kubeletVersion")
NODE_OS_IMAGE = Query("status.nodeInfo.osImage")
NODE_KERNEL = Query("status.nodeInfo.kernelVersion")
NODE_READY = Query("status.conditions[?type=='Ready'].status | [0]")
NODE_INTERNAL_IP = Query("status.addresses[?type=='InternalIP'].address | [0]")
NODE_UNSCHEDULABLE = Query("spec.unschedulable")
NODE_TAINTS = Query("spec.taints")

# Where the pod spec and its metadata live, by kind of object.
POD_SPEC = Query("spec")
TEMPLATE_SPEC = Query("spec.template.spec")
TEMPLATE_METADATA = Query("spec.template.metadata")
CRONJOB_TEMPLATE_SPEC = Query("spec.jobTemplate.spec.template.spec")
CRONJOB_TEMPLATE_METADATA = Query("spec.jobTemplate.spec.template.metadata")

# The rest is evaluated on a pod spec.
# Where it may be scheduled: {.spec.nodeName}, {.spec.nodeSelector}, {.spec.tolerations},
# {.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution}
SPEC_NODE_NAME = Query("nodeName")
NODE_SELECTOR = Query("nodeSelector")
TOLERATIONS = Query("tolerations")
REQUIRED_NODE_AFFINITY = Query("affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution")
# {.spec.volumes[*].hostPath.path}, keeping the volume's name and type.
HOST_PATH_VOLUMES = Query(
    "volumes[?hostPath].{name: name, path: hostPath.path, type: hostPath.type}"
)
# {.spec.volumes[*].persistentVolumeClaim.claimName}; ephemeral volumes, whose claim is `<pod>-<volume>`.
CLAIM_VOLUMES = Query("volumes[?persistentVolumeClaim].{name: name, claim: persistentVolumeClaim.claimName}")
EPHEMERAL_VOLUMES = Query("volumes[?ephemeral].name")
# On a StatefulSet: {.spec.volumeClaimTemplates[*].metadata.name}, the volumes its pods claim.
STATEFULSET_CLAIM_TEMPLATES = Query("spec.volumeClaimTemplates[].metadata.name")
# On a PersistentVolume: {.spec.hostPath}, {.spec.local.path}, {.spec.claimRef}, {.status.phase};
# on a PersistentVolumeClaim: {.spec.volumeName}.
PV_HOST_PATH = Query("spec.hostPath.{path: path, type: type}")
PV_LOCAL_PATH = Query("spec.local.path")
PV_CLAIM_REF = Query("spec.claimRef.{namespace: namespace, name: name}")
PV_PHASE = Query("status.phase")
PVC_VOLUME_NAME = Query("spec.volumeName")
# {.spec.volumes[*].configMap} and {.spec.volumes[*].projected.sources[*].configMap}: the ConfigMaps a pod
# spec mounts, whose configuration rule DS009 reads.
CONFIG_MAP_VOLUMES = Query("volumes[].{name: name, configMap: configMap, projected: projected.sources[].configMap}")
# {.spec.containers[*].volumeMounts}, {.spec.initContainers[*]...}, {.spec.ephemeralContainers[*]...}
_CONTAINER_FIELDS = (
    "{name: name, image: image, command: command, args: args, env: env,"
    " mounts: volumeMounts[].{name: name, mountPath: mountPath, subPath: subPath,"
    " subPathExpr: subPathExpr, readOnly: readOnly},"
    " probes: [livenessProbe.exec.command, readinessProbe.exec.command, startupProbe.exec.command],"
    # The same exec commands keyed by probe kind, so a finding can say which probe runs them.
    " exec_probes: {livenessProbe: livenessProbe.exec.command, readinessProbe: readinessProbe.exec.command,"
    " startupProbe: startupProbe.exec.command}}"
)
CONTAINERS = Query(f"containers[].{_CONTAINER_FIELDS}")
INIT_CONTAINERS = Query(f"initContainers[].{_CONTAINER_FIELDS}")
EPHEMERAL_CONTAINERS = Query(f"ephemeralContainers[].{_CONTAINER_FIELDS}")
# Evaluated on one env entry: {.spec.containers[*].env[*].valueFrom.fieldRef.fieldPath}
ENV_FIELD_PATH = Query("valueFrom.fieldRef.fieldPath")

# Every word a Docker-client rule (DS005, DS006) reads, flattened: env names, command, args and
# exec probe commands of all containers. One cheap pass tells whether a pod can match at all.
CLIENT_WORDS = Query(
    "[containers, initContainers, ephemeralContainers][][].[env[].name, command, args,"
    " livenessProbe.exec.command, readinessProbe.exec.command, startupProbe.exec.command][][]"
)
