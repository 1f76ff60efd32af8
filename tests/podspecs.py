"""Small builders for valid Kubernetes objects used across the unit tests."""

from __future__ import annotations

import copy
from typing import Any


def container(name: str = "app", image: str = "nginx:1.25", mounts: list[dict] | None = None,
              **extra: Any) -> dict:
    c: dict[str, Any] = {"name": name, "image": image}
    if mounts:
        c["volumeMounts"] = mounts
    c.update(extra)
    return c


def host_path_volume(name: str, path: str, type_: str | None = None) -> dict:
    hp: dict[str, Any] = {"path": path}
    if type_:
        hp["type"] = type_
    return {"name": name, "hostPath": hp}


def mount(volume: str, path: str, sub_path: str | None = None, read_only: bool = False) -> dict:
    m: dict[str, Any] = {"name": volume, "mountPath": path}
    if sub_path:
        m["subPath"] = sub_path
    if read_only:
        m["readOnly"] = True
    return m


def pod_spec(volumes: list[dict] | None = None, containers: list[dict] | None = None, **extra: Any) -> dict:
    spec: dict[str, Any] = {"containers": containers or [container()]}
    if volumes is not None:
        spec["volumes"] = volumes
    spec.update(extra)
    return spec


def socket_spec(path: str = "/var/run/docker.sock", mount_path: str = "/var/run/docker.sock",
                sub_path: str | None = None) -> dict:
    """A pod spec whose only container mounts `path` (with `sub_path`) at `mount_path`."""
    return pod_spec([host_path_volume("docker", path)],
                    [container("agent", mounts=[mount("docker", mount_path, sub_path)])])


def pod(name: str, spec: dict, namespace: str = "default", owners: list[dict] | None = None,
        node: str | None = None, uid: str | None = None, labels: dict | None = None) -> dict:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": uid or f"uid-pod-{name}"}
    if labels:
        metadata["labels"] = labels
    if owners:
        metadata["ownerReferences"] = owners
    spec = copy.deepcopy(spec)  # shared specs (SOCKET, ...) must not see one object's edits
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def owner_ref(kind: str, name: str, api_version: str = "apps/v1", controller: bool | None = True,
              uid: str | None = None) -> dict:
    ref: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": name,
                           "uid": uid or f"uid-{kind.lower()}-{name}"}
    if controller is not None:
        ref["controller"] = controller
    return ref


def workload(kind: str, name: str, spec: dict, namespace: str = "default",
             owners: list[dict] | None = None, labels: dict | None = None) -> dict:
    """A valid workload of `kind` whose pod template has `spec`."""
    labels = labels or {"app": name}
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "uid": f"uid-{kind.lower()}-{name}"}
    if owners:
        metadata["ownerReferences"] = owners
    # A deep copy: a test that edits its workload's template must not edit the shared specs.
    template = {"metadata": {"labels": labels}, "spec": copy.deepcopy(spec)}
    api_version = "apps/v1"
    body: dict[str, Any]
    if kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        body = {"selector": {"matchLabels": labels}, "template": template}
    elif kind == "StatefulSet":
        body = {"selector": {"matchLabels": labels}, "serviceName": name, "template": template}
    elif kind == "ReplicationController":
        api_version = "v1"
        body = {"selector": labels, "template": template}
    elif kind == "Job":
        api_version = "batch/v1"
        template["spec"] = {**spec, "restartPolicy": "Never"}
        body = {"template": template}
    elif kind == "CronJob":
        api_version = "batch/v1"
        template["spec"] = {**spec, "restartPolicy": "Never"}
        body = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
    else:
        raise ValueError(kind)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": body}
