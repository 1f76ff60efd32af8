"""Every field the plugin reads from a Kubernetes object, as a precompiled JMESPath expression.

Each expression sits next to the kubectl JSONPath it replaces. The Kubernetes docs' query is
`kubectl get pods -A -o=jsonpath='{range .items[*]}{.metadata.namespace}{.metadata.name}
{range .spec.volumes[*]}{.hostPath.path}{end}{end}'` (separators left out here).
Compiling once at import keeps per-object work to evaluation only. JMESPath returns None for
missing or null fields at any depth, which is what makes odd objects safe to read.
"""

from __future__ import annotations

import jmespath

# {.metadata.namespace}, {.metadata.name}
NAMESPACE = jmespath.compile("metadata.namespace")
NAME = jmespath.compile("metadata.name")
UID = jmespath.compile("metadata.uid")
OWNER_REFERENCES = jmespath.compile("metadata.ownerReferences")
# {.spec.nodeName}
NODE_NAME = jmespath.compile("spec.nodeName")

# Where the pod spec and its metadata live, by kind of object.
POD_SPEC = jmespath.compile("spec")
TEMPLATE_SPEC = jmespath.compile("spec.template.spec")
TEMPLATE_METADATA = jmespath.compile("spec.template.metadata")
CRONJOB_TEMPLATE_SPEC = jmespath.compile("spec.jobTemplate.spec.template.spec")
CRONJOB_TEMPLATE_METADATA = jmespath.compile("spec.jobTemplate.spec.template.metadata")

# The rest is evaluated on a pod spec.
# {.spec.volumes[*].hostPath.path}, keeping the volume's name and type.
HOST_PATH_VOLUMES = jmespath.compile(
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
CONTAINERS = jmespath.compile(f"containers[].{_CONTAINER_FIELDS}")
INIT_CONTAINERS = jmespath.compile(f"initContainers[].{_CONTAINER_FIELDS}")
EPHEMERAL_CONTAINERS = jmespath.compile(f"ephemeralContainers[].{_CONTAINER_FIELDS}")
# Evaluated on one env entry: {.spec.containers[*].env[*].valueFrom.fieldRef.fieldPath}
ENV_FIELD_PATH = jmespath.compile("valueFrom.fieldRef.fieldPath")

# Every word a Docker-client rule (DS005, DS006) reads, flattened: env names, command, args and
# exec probe commands of all containers. One cheap pass tells whether a pod can match at all.
CLIENT_WORDS = jmespath.compile(
    "[containers, initContainers, ephemeralContainers][][].[env[].name, command, args,"
    " livenessProbe.exec.command, readinessProbe.exec.command, startupProbe.exec.command][][]"
)
