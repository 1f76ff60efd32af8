"""Every field the plugin reads from a Kubernetes object, as a precompiled JMESPath expression.

Each expression sits next to the kubectl JSONPath it replaces. The Kubernetes docs' query is
`kubectl get pods -A -o=jsonpath='{range .items[*]}{.metadata.namespace}{.metadata.name}
{range .spec.volumes[*]}{.hostPath.path}{end}{end}'` (separators left out here).
Compiling once at import keeps per-object work to evaluation only. JMESPath returns None for
missing or null fields at any depth, which is what makes odd objects safe to read.
"""

from __future__ import annotations

from typing import Any

import jmespath
from jmespath.visitor import TreeInterpreter

# jmespath's own `search` builds a new interpreter per call, and each one is a reference cycle:
# at a million searches the garbage collector runs all the time. One shared interpreter (it keeps
# no state between calls) is all the queries need.
_INTERPRETER = TreeInterpreter()


class Query:
    """A precompiled JMESPath expression, evaluated with the shared interpreter."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self._parsed = jmespath.compile(expression).parsed

    def search(self, value: Any) -> Any:
        return _INTERPRETER.visit(self._parsed, value)



# {.metadata.namespace}, {.metadata.name}
NAMESPACE = Query("metadata.namespace")
NAME = Query("metadata.name")
UID = Query("metadata.uid")
OWNER_REFERENCES = Query("metadata.ownerReferences")
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

# Where the pod spec and its metadata live, by kind of object.
POD_SPEC = Query("spec")
TEMPLATE_SPEC = Query("spec.template.spec")
TEMPLATE_METADATA = Query("spec.template.metadata")
CRONJOB_TEMPLATE_SPEC = Query("spec.jobTemplate.spec.template.spec")
CRONJOB_TEMPLATE_METADATA = Query("spec.jobTemplate.spec.template.metadata")

# The rest is evaluated on a pod spec.
# {.spec.volumes[*].hostPath.path}, keeping the volume's name and type.
HOST_PATH_VOLUMES = Query(
    "volumes[?hostPath].{name: name, path: hostPath.path, type: hostPath.type}"
)
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
