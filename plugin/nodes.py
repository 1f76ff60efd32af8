"""`nodes`: which container runtime each node runs, and whether it still uses dockershim.

`status.nodeInfo.containerRuntimeVersion` is `docker://…`, `containerd://…` or `cri-o://…`.
Docker on a kubelet of 1.23 or older is dockershim, which the removal breaks; from 1.24 Docker
can only be reached through cri-dockerd, which the removal does not affect. kubeadm's
`kubeadm.alpha.kubernetes.io/cri-socket` annotation, where present, is extra evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from plugin import queries

if TYPE_CHECKING:
    from plugin.sources.probe_logs import NodeProbe

CRI_SOCKET_ANNOTATION = "kubeadm.alpha.kubernetes.io/cri-socket"


@dataclass(frozen=True)
class NodeRuntime:
    name: str
    status: str
    runtime: str  # docker, containerd, cri-o, or what the node reports
    runtime_version: str
    kubelet: str
    os_image: str
    kernel: str
    internal_ip: str
    cri_socket: str  # from the kubeadm annotation, "" when absent
    dockershim: str  # "yes", "no", "cri-dockerd" or "unknown"
    reason: str
    probe: NodeProbe | None = None  # the host's own findings (`nodes --probes`), None when not asked


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def container_runtime_version(node: dict) -> str:
    return _text(queries.NODE_RUNTIME_VERSION.search(node))


def kubelet_minor(version: str) -> int | None:
    """1.23 from `v1.23.17`, `v1.23.17-eks-abc`; None when it does not parse."""
    match = re.match(r"v?(\d+)\.(\d+)", version)
    if not match or match.group(1) != "1":
        return None
    return int(match.group(2))


def dockershim_verdict(runtime: str, kubelet: str, cri_socket: str) -> tuple[str, str]:
    """(verdict, reason) for one node."""
    if "dockershim.sock" in cri_socket:
        return "yes", f"kubeadm records the CRI socket {cri_socket}"
    if runtime != "docker":
        if not runtime:
            return "unknown", "the node reports no container runtime"
        return "no", f"runs {runtime}"
    if "cri-dockerd" in cri_socket:
        return "cri-dockerd", f"Docker through cri-dockerd ({cri_socket}), not affected by the removal"
    minor = kubelet_minor(kubelet)
    if minor is None:
        return "unknown", f"Docker, with a kubelet version that does not parse ({kubelet or 'none'})"
    if minor <= 23:
        return "yes", f"Docker on kubelet {kubelet}: dockershim, removed in 1.24"
    return "cri-dockerd", f"Docker on kubelet {kubelet}: only reachable through cri-dockerd"


def node_runtime(node: dict) -> NodeRuntime:
    version = container_runtime_version(node)
    runtime = version.split("://", 1)[0] if "://" in version else version
    kubelet = _text(queries.NODE_KUBELET_VERSION.search(node))
    annotations = queries.ANNOTATIONS.search(node)
    cri_socket = _text(annotations.get(CRI_SOCKET_ANNOTATION)) if isinstance(annotations, dict) else ""
    ready = queries.NODE_READY.search(node)
    status = "Ready" if ready == "True" else "NotReady" if ready in ("False",) else "Unknown"
    if queries.NODE_UNSCHEDULABLE.search(node) is True:
        status += ",SchedulingDisabled"
    verdict, reason = dockershim_verdict(runtime, kubelet, cri_socket)
    return NodeRuntime(
        name=_text(queries.NAME.search(node)) or "<unnamed>", status=status, runtime=runtime,
        runtime_version=version.split("://", 1)[1] if "://" in version else "", kubelet=kubelet,
        os_image=_text(queries.NODE_OS_IMAGE.search(node)), kernel=_text(queries.NODE_KERNEL.search(node)),
        internal_ip=_text(queries.NODE_INTERNAL_IP.search(node)), cri_socket=cri_socket, dockershim=verdict,
        reason=reason,
    )


def list_node_runtimes(flags, label_selector: str | None, probes: bool = False
                       ) -> tuple[str | None, list[NodeRuntime]]:
    """(context, nodes) of the cluster, sorted by name; with `probes`, each with its node probe's report."""
    from plugin.api import ApiClient
    from plugin.kubeconfig import load_connection
    from plugin.resources import NODES

    connection = load_connection(flags)
    api = ApiClient(connection)
    nodes = [node_runtime(n) for page in api.list_pages(NODES, label_selector=label_selector) for n in page
             if isinstance(n, dict)]
    if probes:
        from plugin.sources.probe_logs import NO_PROBE, node_probes

        reports = node_probes(api)
        nodes = [replace(n, probe=reports.get(n.name, NO_PROBE)) for n in nodes]
    return connection.context, sorted(nodes, key=lambda n: n.name)
