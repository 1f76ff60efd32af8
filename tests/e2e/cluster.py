"""The cluster the end-to-end tests scan: every owner shape and look-alike, as valid objects.

Built in code so each expectation in the tests can be read next to the object that causes it.
"""

from __future__ import annotations

import re

from tests.podspecs import (
    container,
    host_path_volume,
    mount,
    owner_ref,
    pod,
    pod_spec,
    socket_spec,
    workload,
)

SOCKET = socket_spec("/var/run/docker.sock", "/var/run/docker.sock")
RUN_DIR = pod_spec([host_path_volume("runtimesocketdir", "/var/run")],
                   [container("agent", "gcr.io/datadoghq/agent:7.50.0",
                              mounts=[mount("runtimesocketdir", "/host/var/run", read_only=True)])])
SUBPATH = pod_spec([host_path_volume("run", "/run")],
                   [container("docker", "docker:24-cli", mounts=[mount("run", "/var/run/docker.sock", "docker.sock")])])
ROOT = pod_spec([host_path_volume("root", "/")],
                [container("node-exporter", "quay.io/prometheus/node-exporter:v1.7.0",
                           mounts=[mount("root", "/host/root", read_only=True)])])
CLEAN = pod_spec([host_path_volume("containerd", "/run/containerd/containerd.sock"),
                  host_path_volume("logs", "/var/log/pods"), {"name": "docker-sock", "emptyDir": {}}],
                 [container("shipper", mounts=[mount("containerd", "/run/containerd/containerd.sock"),
                                               mount("logs", "/var/log/pods"), mount("docker-sock", "/var/run")])])
PLAIN = pod_spec(None, [container("nginx", "nginx:1.25")])


def _namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _node(name: str, runtime: str = "containerd://1.7.11", kubelet: str = "v1.29.0",
          cri_socket: str | None = None) -> dict:
    metadata: dict = {"name": name, "labels": {"kubernetes.io/hostname": name}}
    if cri_socket:
        metadata["annotations"] = {"kubeadm.alpha.kubernetes.io/cri-socket": cri_socket}
    return {"apiVersion": "v1", "kind": "Node", "metadata": metadata,
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "nodeInfo": {"containerRuntimeVersion": runtime, "kubeletVersion": kubelet,
                                    "architecture": "amd64", "bootID": "", "kernelVersion": "6.1.0",
                                    "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux",
                                    "osImage": "Debian GNU/Linux 12", "systemUUID": ""}}}


def objects() -> list[dict]:
    """The test cluster. Namespaces: monitoring (agents), ci (builders), apps (ordinary), kube-system."""
    # kube-public and kube-node-lease: every real kube-apiserver creates them at start, as it does
    # default and kube-system, so both servers list the same namespaces.
    objs: list[dict] = [_namespace(n) for n in ("monitoring", "ci", "apps", "idle", "kube-system", "default",
                                                "kube-public", "kube-node-lease")]
    objs += [_node("node-1"), _node("node-2", "docker://20.10.24", "v1.23.17"),
             _node("node-3", "docker://24.0.7", "v1.27.3", "unix:///var/run/cri-dockerd.sock"),
             _node("node-4", "cri-o://1.28.1", "v1.28.2"),
             _node("node-5", "docker://19.3.15", "v1.21.14-eks-1", "/var/run/dockershim.sock")]

    # monitoring: a DaemonSet with a pod per node mounting /var/run; node-exporter mounting /
    objs.append(workload("DaemonSet", "datadog", RUN_DIR, "monitoring"))
    for i, node in enumerate(("node-1", "node-2")):
        objs.append(pod(f"datadog-{i}x7k", RUN_DIR, "monitoring", [owner_ref("DaemonSet", "datadog")], node,
                        labels={"app": "datadog"}))
    objs.append(workload("DaemonSet", "node-exporter", ROOT, "monitoring"))
    objs.append(pod("node-exporter-abcde", ROOT, "monitoring", [owner_ref("DaemonSet", "node-exporter")], "node-1"))
    objs.append(workload("Deployment", "log-shipper", CLEAN, "monitoring"))  # look-alikes only
    objs.append(pod("log-shipper-1", CLEAN, "monitoring", None, "node-1"))

    # ci: Deployment -> ReplicaSet -> pods; CronJob -> Job -> pod (socket via /run + subPath);
    # StatefulSet; ReplicationController; a bare pod; a Rollout-owned ReplicaSet; an orphaned ReplicaSet
    objs.append(workload("Deployment", "runner", SOCKET, "ci"))
    objs.append(workload("ReplicaSet", "runner-5d4f8", SOCKET, "ci", [owner_ref("Deployment", "runner")]))
    for suffix in ("abcde", "fghij"):
        objs.append(pod(f"runner-5d4f8-{suffix}", SOCKET, "ci", [owner_ref("ReplicaSet", "runner-5d4f8")], "node-2",
                        labels={"app": "runner"}))
    objs.append(workload("CronJob", "image-build", SUBPATH, "ci"))
    objs.append(workload("Job", "image-build-2890", SUBPATH, "ci",
                         [owner_ref("CronJob", "image-build", "batch/v1")]))
    objs.append(pod("image-build-2890-q8x", {**SUBPATH, "restartPolicy": "Never"}, "ci",
                    [owner_ref("Job", "image-build-2890", "batch/v1")], "node-1"))
    objs.append(workload("StatefulSet", "registry-cache", SOCKET, "ci"))
    objs.append(pod("registry-cache-0", SOCKET, "ci", [owner_ref("StatefulSet", "registry-cache")], "node-1"))
    objs.append(workload("ReplicationController", "legacy", SOCKET, "ci"))
    objs.append(pod("legacy-x1y2z", SOCKET, "ci", [owner_ref("ReplicationController", "legacy", "v1")], "node-2"))
    objs.append(pod("debug-shell", SOCKET, "ci", None, "node-2"))
    objs.append(workload("ReplicaSet", "canary-7c9", SOCKET, "ci",
                         [owner_ref("Rollout", "canary", "argoproj.io/v1alpha1")]))
    objs.append(pod("canary-7c9-aaaaa", SOCKET, "ci", [owner_ref("ReplicaSet", "canary-7c9")], "node-1"))
    objs.append(workload("ReplicaSet", "orphan-66b", SOCKET, "ci", [owner_ref("Deployment", "deleted-app")]))
    objs.append(pod("orphan-66b-zzzzz", SOCKET, "ci", [owner_ref("ReplicaSet", "orphan-66b")], "node-1"))

    # kube-system: a static (mirror) pod owned by its Node
    mirror = pod("docker-gc-node-1", SOCKET, "kube-system", [owner_ref("Node", "node-1", "v1", uid="uid-node-1")],
                 "node-1")
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.mirror": "4c0f3a2f"}
    objs.append(mirror)

    # idle: Docker dependencies with nothing running right now
    objs.append(workload("CronJob", "nightly-build", SOCKET, "idle"))  # between two runs: no Job
    scaled = workload("Deployment", "scaled-down", SOCKET, "idle")
    scaled["spec"]["replicas"] = 0
    objs.append(scaled)
    old_rs = workload("ReplicaSet", "scaled-down-6c8", SOCKET, "idle", [owner_ref("Deployment", "scaled-down")])
    old_rs["spec"]["replicas"] = 0
    objs.append(old_rs)
    # matches no node today (a copy of SOCKET: the other workloads share it)
    unscheduled = workload("DaemonSet", "gpu-agent", {**SOCKET, "nodeSelector": {"gpu": "true"}}, "idle")
    objs.append(unscheduled)
    # A rollout in progress: the template no longer mounts Docker, one old pod still does.
    objs.append(workload("Deployment", "rolling", CLEAN, "idle"))
    objs.append(workload("ReplicaSet", "rolling-new", CLEAN, "idle", [owner_ref("Deployment", "rolling")]))
    objs.append(workload("ReplicaSet", "rolling-old", SOCKET, "idle", [owner_ref("Deployment", "rolling")]))
    objs.append(pod("rolling-old-x1", SOCKET, "idle", [owner_ref("ReplicaSet", "rolling-old")], "node-2"))
    objs.append(pod("rolling-new-y1", CLEAN, "idle", [owner_ref("ReplicaSet", "rolling-new")], "node-1"))

    # apps and default: nothing Docker-related
    objs.append(workload("Deployment", "web", PLAIN, "apps"))
    objs.append(workload("ReplicaSet", "web-77f", PLAIN, "apps", [owner_ref("Deployment", "web")]))
    objs += [pod(f"web-77f-{i}", PLAIN, "apps", [owner_ref("ReplicaSet", "web-77f")], "node-1", labels={"app": "web"})
             for i in range(3)]
    objs.append(pod("hello", PLAIN, "default", None, "node-2"))
    return objs


# What `scan -A` says on stderr when nothing failed: the test cluster has one owner that is gone.
MISSING_OWNER_WARNING = ('Warning: 1 owner was not found (deleted, or not in the input): Deployment/deleted-app '
                         'in "ci"; their pods are reported under them\n')

# What `scan -A` must report, one row per workload: (namespace, owner, agent, pods, severity, depends on)
EXPECTED_ROWS = [
    ("ci", "CronJob/image-build", "docker-cli", "1", "high", "docker.sock"),
    ("ci", "Deployment/deleted-app", "<unknown>", "1", "high", "docker.sock"),
    ("ci", "Deployment/runner", "<unknown>", "2", "high", "docker.sock"),
    ("ci", "Pod/debug-shell", "<unknown>", "1", "high", "docker.sock"),
    ("ci", "ReplicationController/legacy", "<unknown>", "1", "high", "docker.sock"),
    ("ci", "Rollout/canary", "<unknown>", "1", "high", "docker.sock"),
    ("ci", "StatefulSet/registry-cache", "<unknown>", "1", "high", "docker.sock"),
    ("idle", "CronJob/nightly-build", "<unknown>", "0", "high", "docker.sock"),
    ("idle", "DaemonSet/gpu-agent", "<unknown>", "0", "high", "docker.sock"),
    ("idle", "Deployment/rolling", "<unknown>", "1", "high", "docker.sock"),
    ("idle", "Deployment/scaled-down", "<unknown>", "0", "high", "docker.sock"),
    ("kube-system", "Node/node-1", "<unknown>", "1", "high", "docker.sock"),
    ("monitoring", "DaemonSet/datadog", "datadog-agent", "2", "low", "/var/run"),
]
# Hidden by default (`--severity` all shows it): node-exporter mounts / but never talks to Docker.
INFO_ROWS = [
    ("monitoring", "DaemonSet/node-exporter", "node-exporter", "1", "info", "/"),
]


def table_rows(stdout: str) -> list[tuple[str, ...]]:
    """The rows of a kubectl-style table below its header, cells split where kubectl's padding of
    three or more spaces separates them (a cell may hold single spaces: `docker.sock, /var/run`)."""
    return [tuple(re.split(r" {3,}", line)) for line in stdout.splitlines()[1:]]
