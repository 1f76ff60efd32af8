"""The cluster of the `plan` end-to-end tests: node pools of every status, and each way a workload
lands on a pool (its pods, its template's nodeSelector, required node affinity with ORed terms
and matchFields, tolerations against a tainted pool).

    pool (label)                      nodes              runtime                    expected
    web (EKS node group)              web-1, web-2       Docker on 1.23             ready: only nginx runs there
    gpu (GKE node pool), tainted      gpu-1              Docker on 1.23             ready: the log shipper tolerates nothing
    general (Karpenter node pool)     gen-1, gen-2       containerd                 broken: the log shipper runs there
    <none> (no pool label)            legacy-1           Docker on 1.21 (kubeadm)   blocked: an agent and a Deployment at 0 would land there
    ci (EKS node group)               ci-1, ci-2         Docker via cri-dockerd     blocked: the runner runs there; the idle CronJob
                                                                                    and the log shipper would
    fresh (kOps instance group)       fresh-1            CRI-O                      migrated
"""

from __future__ import annotations

from tests.e2e.cluster import ROOT, RUN_DIR, SOCKET
from tests.podspecs import container, host_path_volume, mount, owner_ref, pod, pod_spec, workload

EKS, GKE, KARPENTER, KOPS = ("eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool", "karpenter.sh/nodepool",
                             "kops.k8s.io/instancegroup")
# Fluentd tailing Docker's JSON logs (DS004).
DOCKER_LOGS = pod_spec([host_path_volume("dockerlogs", "/var/lib/docker/containers")],
                       [container("fluentd", "fluent/fluentd-kubernetes-daemonset:v1.16-debian-elasticsearch8-1",
                                  mounts=[mount("dockerlogs", "/var/lib/docker/containers", read_only=True)])])
PLAIN = pod_spec(None, [container("nginx", "nginx:1.25")])
NAMESPACES = ("monitoring", "ci", "apps", "logging", "kube-system", "default", "kube-public", "kube-node-lease")


def node(name: str, runtime: str, kubelet: str, labels: dict[str, str] | None = None,
         taints: list[dict] | None = None, cri_socket: str | None = None) -> dict:
    metadata: dict = {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}}
    if cri_socket:
        metadata["annotations"] = {"kubeadm.alpha.kubernetes.io/cri-socket": cri_socket}
    obj = {"apiVersion": "v1", "kind": "Node", "metadata": metadata,
           "status": {"conditions": [{"type": "Ready", "status": "True"}],
                      "nodeInfo": {"containerRuntimeVersion": runtime, "kubeletVersion": kubelet,
                                   "architecture": "amd64", "bootID": "", "kernelVersion": "6.1.0",
                                   "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux",
                                   "osImage": "Debian GNU/Linux 12", "systemUUID": ""}}}
    if taints:
        obj["spec"] = {"taints": taints}
    return obj


def nodes() -> list[dict]:
    return [
        node("web-1", "docker://20.10.24", "v1.23.17", {EKS: "web"}),
        node("web-2", "docker://20.10.24", "v1.23.17", {EKS: "web"}),
        node("gpu-1", "docker://20.10.24", "v1.23.17", {GKE: "gpu"},
             taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]),
        node("gen-1", "containerd://1.7.11", "v1.29.0", {KARPENTER: "general"}),
        node("gen-2", "containerd://1.7.11", "v1.29.0", {KARPENTER: "general"}),
        node("legacy-1", "docker://19.3.15", "v1.21.14", cri_socket="/var/run/dockershim.sock"),
        node("ci-1", "docker://24.0.7", "v1.27.3", {EKS: "ci"}, cri_socket="unix:///var/run/cri-dockerd.sock"),
        node("ci-2", "docker://24.0.7", "v1.27.3", {EKS: "ci"}, cri_socket="unix:///var/run/cri-dockerd.sock"),
        node("fresh-1", "cri-o://1.28.1", "v1.28.2", {KOPS: "fresh"}),
    ]


def _with(spec: dict, **fields: object) -> dict:
    return {**spec, **fields}


def objects() -> list[dict]:
    objs: list[dict] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in NAMESPACES]
    objs += nodes()

    # logging: the log shipper may run on Karpenter's nodes or on the ci node group (two terms,
    # ORed); it tolerates nothing, so not on gpu. Its pods run on gen-1 and gen-2 only.
    shipper_affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": KARPENTER, "operator": "Exists"}]},
        {"matchExpressions": [{"key": EKS, "operator": "In", "values": ["ci"]}]}]}}}
    shipper = _with(DOCKER_LOGS, affinity=shipper_affinity)
    objs.append(workload("DaemonSet", "log-shipper", shipper, "logging"))
    objs += [pod(f"log-shipper-{n}", _with(shipper, tolerations=[]), "logging",
                 [owner_ref("DaemonSet", "log-shipper")], n, labels={"app": "log-shipper"}) for n in ("gen-1", "gen-2")]

    # monitoring: an agent pinned to legacy-1 by matchFields, no pod yet; node-exporter everywhere
    # (it tolerates every taint), whose finding is info: it blocks nothing by default.
    pinned = _with(RUN_DIR, affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["legacy-1"]}]}]}}})
    objs.append(workload("DaemonSet", "node-agent", pinned, "monitoring"))
    exporter = _with(ROOT, tolerations=[{"operator": "Exists"}])
    objs.append(workload("DaemonSet", "node-exporter", exporter, "monitoring"))
    objs += [pod(f"node-exporter-{n}", exporter, "monitoring", [owner_ref("DaemonSet", "node-exporter")], n,
                 labels={"app": "node-exporter"}) for n in ("web-1", "gpu-1", "gen-1", "ci-1")]

    # ci: the runner's pods on ci-1; a CronJob between runs whose template selects the ci pool.
    runner = _with(SOCKET, nodeSelector={EKS: "ci"})
    objs.append(workload("Deployment", "runner", runner, "ci"))
    objs.append(workload("ReplicaSet", "runner-5d4f8", runner, "ci", [owner_ref("Deployment", "runner")]))
    objs += [pod(f"runner-5d4f8-{s}", runner, "ci", [owner_ref("ReplicaSet", "runner-5d4f8")], "ci-1",
                 labels={"app": "runner"}) for s in ("abcde", "fghij")]
    objs.append(workload("CronJob", "image-build", _with(SOCKET, nodeSelector={EKS: "ci"}), "ci"))

    # apps: nginx on the web pool; a Deployment at zero whose template needs legacy-1 by hostname.
    objs.append(workload("Deployment", "web", PLAIN, "apps"))
    objs.append(workload("ReplicaSet", "web-77f", PLAIN, "apps", [owner_ref("Deployment", "web")]))
    objs += [pod(f"web-77f-{n}", PLAIN, "apps", [owner_ref("ReplicaSet", "web-77f")], n, labels={"app": "web"})
             for n in ("web-1", "web-2")]
    scaled = workload("Deployment", "scaled-down", _with(SOCKET, affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["legacy-1"]}]}]}}}), "apps")
    scaled["spec"]["replicas"] = 0
    objs.append(scaled)
    return objs


# (pool, status, nodes, runtimes, blockers), in the order `plan` prints them.
EXPECTED_POOLS = [
    ("gpu", "ready", "1", "docker:1", "0"),
    ("web", "ready", "2", "docker:2", "0"),
    ("general", "broken", "2", "containerd:2", "1"),
    ("<none>", "blocked", "1", "docker:1", "2"),
    ("ci", "blocked", "2", "docker:2", "3"),
    ("fresh", "migrated", "1", "cri-o:1", "0"),
]
# (pool, namespace, owner, agent, severity, rules, reason)
EXPECTED_BLOCKERS = [
    ("general", "logging", "DaemonSet/log-shipper", "fluentd-kubernetes-daemonset", "medium", "DS004", "running there"),
    ("<none>", "apps", "Deployment/scaled-down", "<unknown>", "high", "DS001", "would schedule there"),
    ("<none>", "monitoring", "DaemonSet/node-agent", "datadog-agent", "low", "DS002", "would schedule there"),
    ("ci", "ci", "Deployment/runner", "<unknown>", "high", "DS001", "running there"),
    ("ci", "ci", "CronJob/image-build", "<unknown>", "high", "DS001", "would schedule there"),
    ("ci", "logging", "DaemonSet/log-shipper", "fluentd-kubernetes-daemonset", "medium", "DS004", "would schedule there"),
]
