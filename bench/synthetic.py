"""A synthetic cluster and a folder of manifests for the benchmark, deterministic for a seed.

`cluster_objects` yields the objects of a cluster of N pods the way a large production cluster
looks to the API: mostly ordinary Deployment pods (each with its ReplicaSets and Deployment)
across many namespaces, node agents as DaemonSets with one pod per node (some mounting Docker's
socket, its directory or its data directory, some only look-alikes), CronJobs whose Jobs' pods
bind the Docker socket, a few CI Deployments and StatefulSets, and static control-plane pods.
Pods carry what the API server returns for them (labels, annotations, env, resources, probes,
the projected service-account token volume, status with conditions and containerStatuses), a
few KB of JSON each. `write_manifests` writes multi-document YAML and JSON files of
Deployments, DaemonSets, Pods and Services, as `helm template` output looks.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

Obj = dict[str, Any]

_UID_NAMESPACE = uuid.UUID("6f1c3a52-9d0e-4d43-a0f4-3b8e2f6c5d71")
# The alphabet Kubernetes uses for generated name suffixes and pod-template hashes.
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SERVICES = (
    "api", "web", "worker", "auth", "billing", "checkout", "search", "catalog", "cart", "orders",
    "payments", "notifications", "gateway", "frontend", "backend", "scheduler", "indexer", "ingest",
    "reports", "users", "inventory", "pricing", "shipping", "recommendations", "media", "export",
)
_TEAMS = (
    "payments", "checkout", "search", "catalog", "identity", "growth", "data", "platform", "mobile",
    "ads", "fraud", "logistics", "support", "marketing", "finance", "partners", "media", "maps",
    "messaging", "risk", "pricing", "loyalty", "reviews", "travel", "insights",
)
_ENVIRONMENTS = ("prod", "staging", "dev", "qa", "perf", "sandbox", "canary", "preview")
_REPLICAS = (1, 1, 2, 2, 2, 3, 3, 3, 4, 5, 6, 8, 10, 12, 20)


@dataclass(frozen=True)
class Agent:
    """A node agent run as a DaemonSet: its image and the host paths it mounts."""

    namespace: str
    name: str
    image: str
    host_paths: tuple[tuple[str, str, str], ...]  # (volume, host path, mount path)
    env: tuple[tuple[str, str], ...] = ()
    args: tuple[str, ...] = ()


AGENTS = (
    Agent("monitoring", "datadog-agent", "gcr.io/datadoghq/agent:7.50.3", (
        ("runtimesocketdir", "/var/run", "/host/var/run"),
        ("procdir", "/proc", "/host/proc"),
        ("cgroups", "/sys/fs/cgroup", "/host/sys/fs/cgroup"),
        ("logpodpath", "/var/log/pods", "/var/log/pods"),
        ("logdockercontainerpath", "/var/lib/docker/containers", "/var/lib/docker/containers"),
    ), env=(("DOCKER_HOST", "unix:///host/var/run/docker.sock"), ("DD_LOGS_ENABLED", "true"),
            ("DD_LOGS_CONFIG_CONTAINER_COLLECT_ALL", "true"))),
    Agent("security", "falco", "docker.io/falcosecurity/falco-no-driver:0.36.2", (
        ("docker-socket", "/var/run/docker.sock", "/host/var/run/docker.sock"),
        ("containerd-socket", "/run/containerd/containerd.sock", "/host/run/containerd/containerd.sock"),
        ("proc-fs", "/proc", "/host/proc"),
        ("etc-fs", "/etc", "/host/etc"),
        ("dev-fs", "/dev", "/host/dev"),
    ), args=("/usr/bin/falco", "-pk")),
    Agent("logging", "fluentd", "fluent/fluentd-kubernetes-daemonset:v1.16-debian-elasticsearch8-1", (
        ("varlog", "/var/log", "/var/log"),
        ("dockercontainerlogdirectory", "/var/lib/docker/containers", "/var/lib/docker/containers"),
    ), env=(("FLUENT_ELASTICSEARCH_HOST", "elasticsearch.logging"), ("FLUENT_ELASTICSEARCH_PORT", "9200"))),
    Agent("monitoring", "node-exporter", "quay.io/prometheus/node-exporter:v1.7.0", (
        ("root", "/", "/host/root"), ("proc", "/proc", "/host/proc"), ("sys", "/sys", "/host/sys"),
    ), args=("--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root")),
    # Look-alikes: host paths under /run and /var/run that are not Docker's.
    Agent("kube-system", "kube-proxy", "registry.k8s.io/kube-proxy:v1.29.4", (
        ("xtables-lock", "/run/xtables.lock", "/run/xtables.lock"), ("lib-modules", "/lib/modules", "/lib/modules"),
    )),
    Agent("kube-system", "calico-node", "docker.io/calico/node:v3.27.2", (
        ("var-run-calico", "/var/run/calico", "/var/run/calico"),
        ("var-lib-calico", "/var/lib/calico", "/var/lib/calico"),
        ("xtables-lock", "/run/xtables.lock", "/run/xtables.lock"),
        ("cni-net-dir", "/etc/cni/net.d", "/host/etc/cni/net.d"),
        ("lib-modules", "/lib/modules", "/lib/modules"),
    )),
)


@dataclass(frozen=True)
class Shape:
    """How big the cluster is: pods in total, namespaces of ordinary workloads, worker nodes."""

    pods: int
    namespaces: int
    nodes: int

    @classmethod
    def for_pods(cls, pods: int, namespaces: int | None = None, nodes: int | None = None) -> Shape:
        """200 pods per node and 500 per namespace by default: 500 nodes, 200 namespaces at 100,000."""
        return cls(pods, namespaces or max(3, pods // 500), nodes or max(3, pods // 200))

    @property
    def socket_cronjobs(self) -> int:
        return max(2, self.pods // 10_000)

    @property
    def special_pods(self) -> int:
        """Pods that are not ordinary Deployment pods (agents, CI, jobs, databases, static pods)."""
        return (len(AGENTS) * self.nodes + 3 * self.socket_cronjobs + 3 * (self.namespaces // 4 + 1)
                + 3 * (self.namespaces // 5 + 1) + 4 + 2 + 2 + 12)


def uid(kind: str, namespace: str, name: str) -> str:
    return str(uuid.uuid5(_UID_NAMESPACE, f"{kind}/{namespace}/{name}"))


class _Builder:
    """Everything random comes from one seeded `random.Random`, so a seed gives one cluster."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def suffix(self, length: int = 5) -> str:
        return "".join(self.rng.choices(_SUFFIX_ALPHABET, k=length))

    def hex(self, length: int = 64) -> str:
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def timestamp(self) -> str:
        r = self.rng
        return f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:" \
               f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"

    def ip(self, prefix: str) -> str:
        return f"{prefix}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"

    def resource_version(self) -> str:
        self.serial += 1
        return str(48_000_000 + self.serial)

    # -- pod templates ---------------------------------------------------------------------------

    def app_container(self, namespace: str, name: str, version: str) -> Obj:
        r = self.rng
        env: list[Obj] = [
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE",
             "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
            {"name": "LOG_LEVEL", "value": r.choice(("info", "warn", "debug"))},
            {"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": "http://otel-collector.observability.svc:4317"},
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": f"{name}-db", "key": "url"}}},
        ]
        if r.random() < 0.5:
            env.append({"name": "GOMAXPROCS", "valueFrom": {"resourceFieldRef": {
                "containerName": name, "divisor": "1", "resource": "limits.cpu"}}})
        env += [{"name": f"FEATURE_{flag.upper()}", "value": r.choice(("true", "false"))}
                for flag in r.sample(_SERVICES, r.randint(0, 3))]
        cpu = r.choice((100, 250, 500, 1000))
        memory = r.choice((128, 256, 512, 1024))
        return {
            "name": name,
            "image": f"registry.example.com/{namespace}/{name}:{version}",
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                      {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
            "env": env,
            "resources": {"requests": {"cpu": f"{cpu}m", "memory": f"{memory}Mi"},
                          "limits": {"cpu": f"{cpu * 2}m", "memory": f"{memory * 2}Mi"}},
            "livenessProbe": _http_probe("/healthz", 10),
            "readinessProbe": _http_probe("/ready", 5),
            "volumeMounts": [{"name": "config", "mountPath": "/etc/app", "readOnly": True},
                             {"name": "tmp", "mountPath": "/tmp"}],
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }

    def app_template(self, namespace: str, name: str) -> tuple[Obj, Obj]:
        """(template metadata, pod spec) of an ordinary service."""
        r = self.rng
        version = f"v{r.randint(1, 4)}.{r.randint(0, 30)}.{r.randint(0, 9)}"
        containers = [self.app_container(namespace, name, version)]
        if r.random() < 0.2:
            containers.append({
                "name": "envoy", "image": "docker.io/envoyproxy/envoy:v1.28.1",
                "args": ["-c", "/etc/envoy/envoy.yaml", "--service-cluster", name],
                "ports": [{"name": "envoy-admin", "containerPort": 9901, "protocol": "TCP"}],
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                "readinessProbe": _http_probe("/ready", 3, port=9901),
                "volumeMounts": [{"name": "envoy-config", "mountPath": "/etc/envoy", "readOnly": True}],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            })
        volumes: list[Obj] = [{"name": "config", "configMap": {"name": f"{name}-config", "defaultMode": 420}},
                              {"name": "tmp", "emptyDir": {}}]
        if len(containers) > 1:
            volumes.append({"name": "envoy-config", "configMap": {"name": f"{name}-envoy", "defaultMode": 420}})
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{namespace}",
                  "app.kubernetes.io/version": version, "team": namespace.rsplit("-", 1)[0]}
        annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": "9090", "checksum/config": self.hex()}
        if r.random() < 0.5:
            annotations["kubectl.kubernetes.io/restartedAt"] = self.timestamp()
        spec = {
            "containers": containers,
            "volumes": volumes,
            "serviceAccountName": name,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
        }
        return {"labels": labels, "annotations": annotations}, spec

    def agent_template(self, agent: Agent) -> tuple[Obj, Obj]:
        container: Obj = {
            "name": agent.name, "image": agent.image, "imagePullPolicy": "IfNotPresent",
            "env": [{"name": "NODE_NAME",
                     "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}}]
            + [{"name": k, "value": v} for k, v in agent.env],
            "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": {"memory": "400Mi"}},
            "volumeMounts": [{"name": volume, "mountPath": mount_path, "readOnly": True}
                             for volume, _, mount_path in agent.host_paths],
            "securityContext": {"privileged": True},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        }
        if agent.args:
            container["args"] = list(agent.args)
        spec = {
            "containers": [container],
            "volumes": [{"name": volume, "hostPath": {"path": path, "type": ""}}
                        for volume, path, _ in agent.host_paths],
            "serviceAccountName": agent.name,
            "hostNetwork": agent.namespace == "kube-system",
            "priorityClassName": "system-node-critical",
            "tolerations": [{"operator": "Exists"}],
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
        }
        labels = {"app.kubernetes.io/name": agent.name, "app.kubernetes.io/instance": agent.name}
        return {"labels": labels, "annotations": {"checksum/config": self.hex()}}, spec

    def socket_template(self, name: str, image: str, command: list[str]) -> tuple[Obj, Obj]:
        """A CI container that drives the node's Docker through the mounted socket."""
        spec = {
            "containers": [{
                "name": name, "image": image, "command": command,
                "env": [{"name": "DOCKER_HOST", "value": "unix:///var/run/docker.sock"}],
                "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
                "volumeMounts": [{"name": "docker-sock", "mountPath": "/var/run/docker.sock"},
                                 {"name": "workspace", "mountPath": "/workspace"}],
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            }],
            "volumes": [{"name": "docker-sock", "hostPath": {"path": "/var/run/docker.sock", "type": "Socket"}},
                        {"name": "workspace", "emptyDir": {}}],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler",
            "terminationGracePeriodSeconds": 30,
        }
        return {"labels": {"app.kubernetes.io/name": name}}, spec

    # -- objects ---------------------------------------------------------------------------------

    def metadata(self, kind: str, namespace: str, name: str, labels: Obj, owner: Obj | None = None,
                 annotations: Obj | None = None) -> Obj:
        meta: Obj = {"name": name, "namespace": namespace, "uid": uid(kind, namespace, name),
                     "resourceVersion": self.resource_version(), "creationTimestamp": self.timestamp(),
                     "labels": labels}
        if annotations:
            meta["annotations"] = annotations
        if owner is not None:
            meta["ownerReferences"] = [owner]
        return meta

    def pod(self, namespace: str, name: str, template: tuple[Obj, Obj], owner: Obj | None, node: str,
            extra_labels: Obj | None = None, generate_name: str | None = None, phase: str = "Running") -> Obj:
        """A scheduled, running pod of `template`, with what admission and the kubelet add."""
        template_metadata, template_spec = template
        token_volume = f"kube-api-access-{self.suffix()}"
        token_mount = {"name": token_volume, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                       "readOnly": True}
        containers = [{**c, "volumeMounts": [*c.get("volumeMounts", ()), token_mount]}
                      for c in template_spec["containers"]]
        spec = {
            **template_spec,
            "containers": containers,
            "volumes": [*template_spec.get("volumes", ()), _token_volume(token_volume)],
            "nodeName": node,
            "serviceAccount": template_spec.get("serviceAccountName", "default"),
            "serviceAccountName": template_spec.get("serviceAccountName", "default"),
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "tolerations": template_spec.get("tolerations") or [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 300}],
        }
        labels = {**template_metadata.get("labels", {}), **(extra_labels or {})}
        metadata = self.metadata("Pod", namespace, name, labels, owner, template_metadata.get("annotations"))
        if generate_name:
            metadata["generateName"] = generate_name
        started = self.timestamp()
        pod_ip = self.ip("10.244")
        host_ip = self.ip("10.0")
        running = phase == "Running"
        state = {"running": {"startedAt": started}} if running else {"terminated": {
            "exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started,
            "containerID": f"containerd://{self.hex()}"}}
        status = {
            "phase": phase,
            "conditions": [{"type": t, "status": "True" if running or t in ("Initialized", "PodScheduled") else "False",
                            "lastProbeTime": None, "lastTransitionTime": started}
                           for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                     "PodScheduled")],
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": started,
            "containerStatuses": [{
                "name": c["name"], "state": state, "lastState": {}, "ready": running,
                "restartCount": self.rng.choice((0, 0, 0, 0, 1, 2)), "image": c["image"],
                "imageID": f"{c['image'].rsplit(':', 1)[0]}@sha256:{self.hex()}",
                "containerID": f"containerd://{self.hex()}", "started": running,
            } for c in containers],
            "qosClass": "Burstable",
        }
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def _http_probe(path: str, period: int, port: int | str = "http") -> Obj:
    return {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}, "initialDelaySeconds": 5,
            "periodSeconds": period, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}


def _token_volume(name: str) -> Obj:
    return {"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}}


def _owner(kind: str, namespace: str, name: str) -> Obj:
    api_version = {"Job": "batch/v1", "CronJob": "batch/v1", "Node": "v1"}.get(kind, "apps/v1")
    return {"apiVersion": api_version, "kind": kind, "name": name,
            "uid": uid(kind, "" if kind == "Node" else namespace, name),
            "controller": True, "blockOwnerDeletion": True}


def _selector(template_metadata: Obj) -> Obj:
    return {"matchLabels": {"app.kubernetes.io/name": template_metadata["labels"]["app.kubernetes.io/name"]}}


def _workload(b: _Builder, kind: str, namespace: str, name: str, template: tuple[Obj, Obj], spec: Obj,
              status: Obj, owner: Obj | None = None, annotations: Obj | None = None) -> Obj:
    template_metadata, template_spec = template
    api_version = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    body_spec = dict(spec)
    pod_template = {"metadata": template_metadata, "spec": template_spec}
    if kind == "CronJob":
        body_spec["jobTemplate"] = {"spec": {"backoffLimit": 2, "template": pod_template}}
    else:
        body_spec["template"] = pod_template
    metadata = b.metadata(kind, namespace, name, dict(template_metadata["labels"]), owner, annotations)
    metadata["generation"] = b.rng.randint(1, 30)
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": body_spec, "status": status}


def _namespace_names(count: int) -> list[str]:
    names = [f"{team}-{env}" for env in _ENVIRONMENTS for team in _TEAMS]
    return [names[i] if i < len(names) else f"{names[i % len(names)]}-{i // len(names)}" for i in range(count)]


def _node(b: _Builder, name: str, control_plane: bool = False) -> Obj:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "topology.kubernetes.io/zone": f"zone-{b.rng.choice('abc')}"}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
    address = b.ip("10.0")
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": uid("Node", "", name), "labels": labels,
                     "resourceVersion": b.resource_version(), "creationTimestamp": b.timestamp()},
        "spec": {"podCIDR": f"10.244.{b.rng.randint(0, 255)}.0/24", "providerID": f"example://{name}"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": address}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "16", "memory": "65843980Ki", "pods": "250", "ephemeral-storage": "203056560Ki"},
            "allocatable": {"cpu": "15890m", "memory": "64716556Ki", "pods": "250"},
            "nodeInfo": {"containerRuntimeVersion": "containerd://1.7.13", "kubeletVersion": "v1.29.4",
                         "kubeProxyVersion": "v1.29.4", "operatingSystem": "linux", "architecture": "amd64",
                         "osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-105-generic",
                         "machineID": b.hex(32), "systemUUID": str(uuid.UUID(int=b.rng.getrandbits(128))),
                         "bootID": str(uuid.UUID(int=b.rng.getrandbits(128)))},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "message": "kubelet is posting ready status", "lastHeartbeatTime": b.timestamp(),
                            "lastTransitionTime": b.timestamp()}],
        },
    }


def cluster_objects(shape: Shape, seed: int = 1) -> Iterator[Obj]:
    """Every object of the cluster: exactly `shape.pods` pods, plus their owners, nodes and namespaces."""
    if shape.special_pods >= shape.pods:
        raise ValueError(f"{shape.pods} pods are too few for {shape.nodes} nodes and {shape.namespaces} "
                         f"namespaces (agents, jobs and databases alone take {shape.special_pods})")
    b = _Builder(seed)
    namespaces = _namespace_names(shape.namespaces)
    nodes = [f"node-{i:04d}" for i in range(1, shape.nodes + 1)]
    control_plane = [f"control-plane-{i}" for i in (1, 2, 3)]
    for name in sorted({*namespaces, "monitoring", "security", "logging", "kube-system", "ci"}):
        yield {"apiVersion": "v1", "kind": "Namespace",
               "metadata": {"name": name, "uid": uid("Namespace", "", name),
                            "labels": {"kubernetes.io/metadata.name": name}},
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    for name in nodes:
        yield _node(b, name)
    for name in control_plane:
        yield _node(b, name, control_plane=True)
    pods = 0

    # Node agents: one pod per worker node.
    for agent in AGENTS:
        template = b.agent_template(agent)
        count = len(nodes)
        yield _workload(b, "DaemonSet", agent.namespace, agent.name, template,
                        {"selector": _selector(template[0]), "revisionHistoryLimit": 10,
                         "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}},
                        {"currentNumberScheduled": count, "desiredNumberScheduled": count, "numberReady": count,
                         "numberAvailable": count, "updatedNumberScheduled": count, "observedGeneration": 1})
        revision = b.suffix(10)
        for node in nodes:
            name = f"{agent.name}-{b.suffix()}"
            yield b.pod(agent.namespace, name, template, _owner("DaemonSet", agent.namespace, agent.name), node,
                        {"controller-revision-hash": revision, "pod-template-generation": "1"},
                        generate_name=f"{agent.name}-")
            pods += 1

    # Static control-plane pods, owned by their Node.
    for node in control_plane:
        for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            template = ({"labels": {"component": component, "tier": "control-plane"}}, {
                "containers": [{"name": component, "image": f"registry.k8s.io/{component}:v1.29.4",
                                "command": [component],
                                "volumeMounts": [{"name": "k8s-certs", "mountPath": "/etc/kubernetes/pki",
                                                  "readOnly": True}]}],
                "volumes": [{"name": "k8s-certs", "hostPath": {"path": "/etc/kubernetes/pki",
                                                               "type": "DirectoryOrCreate"}}],
                "hostNetwork": True, "priorityClassName": "system-node-critical"})
            yield b.pod("kube-system", f"{component}-{node}", template, _owner("Node", "", node), node)
            pods += 1

    # CronJobs whose Jobs' pods build images with the node's Docker, and ordinary ones.
    cronjobs = [(("ci", f"image-build-{i}"), True) for i in range(shape.socket_cronjobs)]
    cronjobs += [((ns, "nightly-report"), False) for ns in namespaces[::4]]
    for (namespace, name), binds_socket in cronjobs:
        if binds_socket:
            template = b.socket_template(name, "docker.io/library/docker:24-cli",
                                         ["sh", "-c", "docker build -t registry.example.com/ci/app:$(date +%s) "
                                          "/workspace && docker push registry.example.com/ci/app"])
        else:
            template = b.app_template(namespace, name)
        template = (template[0], {**template[1], "restartPolicy": "Never"})
        yield _workload(b, "CronJob", namespace, name, template,
                        {"schedule": "17 3 * * *", "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 3,
                         "failedJobsHistoryLimit": 1, "suspend": False},
                        {"lastScheduleTime": b.timestamp(), "lastSuccessfulTime": b.timestamp()})
        for run in range(3):
            job = f"{name}-{28_512_000 + 1440 * run}"
            job_labels = {"batch.kubernetes.io/job-name": job, "job-name": job,
                          "batch.kubernetes.io/controller-uid": uid("Job", namespace, job)}
            job_template = ({**template[0], "labels": {**template[0]["labels"], **job_labels}}, template[1])
            yield _workload(b, "Job", namespace, job, job_template,
                            {"backoffLimit": 2, "completions": 1, "parallelism": 1, "completionMode": "NonIndexed"},
                            {"succeeded": 1, "startTime": b.timestamp(), "completionTime": b.timestamp()},
                            owner=_owner("CronJob", namespace, name))
            yield b.pod(namespace, f"{job}-{b.suffix()}", job_template, _owner("Job", namespace, job),
                        b.rng.choice(nodes), generate_name=f"{job}-", phase="Succeeded")
            pods += 1

    # StatefulSets: a CI agent that binds the socket, and a database in every fifth namespace.
    statefulsets = [("ci", "woodpecker-agent", 2, True)]
    statefulsets += [(ns, "postgres", 3, False) for ns in namespaces[::5]]
    for namespace, name, replicas, binds_socket in statefulsets:
        if binds_socket:
            template = b.socket_template(name, "docker.io/woodpeckerci/woodpecker-agent:v2.4.1",
                                         ["/bin/woodpecker-agent"])
        else:
            template = b.app_template(namespace, name)
        yield _workload(b, "StatefulSet", namespace, name, template,
                        {"replicas": replicas, "serviceName": name, "selector": _selector(template[0]),
                         "podManagementPolicy": "OrderedReady"},
                        {"replicas": replicas, "readyReplicas": replicas, "currentReplicas": replicas,
                         "updatedReplicas": replicas, "observedGeneration": 1})
        revision = f"{name}-{b.suffix(10)}"
        for i in range(replicas):
            yield b.pod(namespace, f"{name}-{i}", template, _owner("StatefulSet", namespace, name),
                        b.rng.choice(nodes), {"controller-revision-hash": revision,
                                              "statefulset.kubernetes.io/pod-name": f"{name}-{i}"})
            pods += 1

    # CI Deployments that talk to the node's Docker: a socket mount, and DOCKER_HOST on the node's IP.
    runner = b.socket_template("gitlab-runner", "docker.io/gitlab/gitlab-runner:v16.9.1", ["/entrypoint", "run"])
    jenkins_meta, jenkins_spec = b.app_template("ci", "jenkins-agent")
    jenkins_container = dict(jenkins_spec["containers"][0])
    jenkins_container["env"] = [*jenkins_container["env"],
                                {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                                {"name": "DOCKER_HOST", "value": "tcp://$(HOST_IP):2375"}]
    jenkins = (jenkins_meta, {**jenkins_spec, "containers": [jenkins_container]})
    deployments: list[tuple[str, str, int, tuple[Obj, Obj]]] = [
        ("ci", "gitlab-runner", 4, runner), ("ci", "jenkins-agent", 2, jenkins)]
    yield from _deployments(b, deployments, nodes)
    pods += sum(replicas for *_, replicas, _ in deployments)

    # Ordinary services fill the rest, spread evenly over the namespaces.
    remaining = shape.pods - pods
    for index, namespace in enumerate(namespaces):
        quota = remaining // len(namespaces) + (1 if index < remaining % len(namespaces) else 0)
        services: list[tuple[str, str, int, tuple[Obj, Obj]]] = []
        while quota > 0:
            replicas = min(quota, b.rng.choice(_REPLICAS))
            base = _SERVICES[len(services) % len(_SERVICES)]
            name = base if len(services) < len(_SERVICES) else f"{base}-{len(services) // len(_SERVICES)}"
            services.append((namespace, name, replicas, b.app_template(namespace, name)))
            quota -= replicas
        yield from _deployments(b, services, nodes)


def _deployments(b: _Builder, deployments: list[tuple[str, str, int, tuple[Obj, Obj]]],
                 nodes: list[str]) -> Iterator[Obj]:
    """Each Deployment, its current ReplicaSet and one older (scaled to zero), and the pods."""
    for namespace, name, replicas, template in deployments:
        revision = b.rng.randint(2, 40)
        yield _workload(b, "Deployment", namespace, name, template,
                        {"replicas": replicas, "selector": _selector(template[0]), "revisionHistoryLimit": 10,
                         "progressDeadlineSeconds": 600,
                         "strategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
                        {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                         "updatedReplicas": replicas, "observedGeneration": revision},
                        annotations={"deployment.kubernetes.io/revision": str(revision)})
        owner = _owner("Deployment", namespace, name)
        current = ""
        for generation, count in ((revision - 1, 0), (revision, replicas)):
            pod_hash = b.suffix(10)
            current = f"{name}-{pod_hash}"
            template_metadata = {**template[0], "labels": {**template[0]["labels"], "pod-template-hash": pod_hash}}
            yield _workload(b, "ReplicaSet", namespace, current, (template_metadata, template[1]),
                            {"replicas": count, "selector": _selector(template[0])},
                            {"replicas": count, "readyReplicas": count, "availableReplicas": count,
                             "fullyLabeledReplicas": count, "observedGeneration": 1},
                            owner=owner,
                            annotations={"deployment.kubernetes.io/revision": str(generation),
                                         "deployment.kubernetes.io/desired-replicas": str(replicas),
                                         "deployment.kubernetes.io/max-replicas": str(replicas + 1)})
        pod_owner = _owner("ReplicaSet", namespace, current)
        pod_hash = current.rsplit("-", 1)[1]
        for _ in range(replicas):
            yield b.pod(namespace, f"{current}-{b.suffix()}", template, pod_owner, b.rng.choice(nodes),
                        {"pod-template-hash": pod_hash}, generate_name=f"{current}-")


# -- manifests for `scan -f` ---------------------------------------------------------------------

@dataclass(frozen=True)
class ManifestFolder:
    path: str
    documents: int
    files: int
    bytes: int
    with_findings: int  # documents whose pod spec depends on Docker


def _strip(obj: Obj) -> Obj:
    """What a manifest holds of an object: no status, uid or other server-set metadata."""
    metadata = {k: v for k, v in obj["metadata"].items()
                if k in ("name", "namespace", "labels", "annotations")}
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": metadata, "spec": obj["spec"]}


def _service(namespace: str, name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace},
            "spec": {"selector": {"app.kubernetes.io/name": name}, "type": "ClusterIP",
                     "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}}


def write_manifests(folder: str, documents: int, seed: int = 2) -> ManifestFolder:
    """Write `documents` manifest documents into `folder`: files of 1 to 20 documents each (one
    in ten a JSON `List`, the rest multi-document YAML), half Deployments, a quarter Pods, a
    tenth DaemonSets (node agents) and Services; about one in ten depends on Docker."""
    b = _Builder(seed)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    written = files = size = findings = 0
    docker_agents = AGENTS[:4]
    while written < documents:
        count = min(documents - written, b.rng.randint(1, 20))
        namespace = b.rng.choice(_TEAMS)
        docs: list[Obj] = []
        for i in range(count):
            roll = b.rng.random()
            name = f"{b.rng.choice(_SERVICES)}-{written + i}"
            if roll < 0.10:
                agent = b.rng.choice(AGENTS)
                findings += agent in docker_agents
                docs.append(_strip(_workload(b, "DaemonSet", agent.namespace, f"{agent.name}-{written + i}",
                                             b.agent_template(agent), {"selector": {"matchLabels": {"app": name}}},
                                             {})))
            elif roll < 0.20:
                docs.append(_service(namespace, name))
            elif roll < 0.45:
                template = b.app_template(namespace, name)
                if b.rng.random() < 0.05:
                    template = b.socket_template(name, "docker.io/library/docker:24-cli", ["sleep", "infinity"])
                    findings += 1
                docs.append({"apiVersion": "v1", "kind": "Pod",
                             "metadata": {"name": name, "namespace": namespace, **template[0]},
                             "spec": template[1]})
            else:
                template = b.app_template(namespace, name)
                if b.rng.random() < 0.05:
                    template = b.socket_template(name, "docker.io/gitlab/gitlab-runner:v16.9.1", ["/entrypoint"])
                    findings += 1
                docs.append(_strip(_workload(b, "Deployment", namespace, name, template,
                                             {"replicas": 2, "selector": _selector(template[0])}, {})))
        if files % 10 == 9:
            text = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, indent=2)
            path = os.path.join(folder, f"chart-{files:05d}.json")
        else:
            text = "---\n" + yaml.dump_all(docs, Dumper=dumper, sort_keys=False, explicit_start=False,
                                           default_flow_style=False).replace("\n...\n", "\n")
            text = text.replace("\n---\n", "\n---\n# Source: chart/templates/workload.yaml\n")
            path = os.path.join(folder, f"chart-{files:05d}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written += count
        files += 1
        size += len(text)
    return ManifestFolder(folder, written, files, size, findings)
