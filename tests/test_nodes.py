"""The dockershim verdict of a node, from its runtime, kubelet version and kubeadm annotation."""

from __future__ import annotations

import pytest

from plugin.nodes import dockershim_verdict, kubelet_minor, node_runtime


@pytest.mark.parametrize("runtime, kubelet, socket, verdict", [
    ("docker", "v1.23.17", "", "yes"),
    ("docker", "v1.21.14-eks-1", "", "yes"),
    ("docker", "v1.24.0", "", "cri-dockerd"),
    ("docker", "v1.27.3", "unix:///var/run/cri-dockerd.sock", "cri-dockerd"),
    ("docker", "v1.22.0", "unix:///var/run/cri-dockerd.sock", "cri-dockerd"),
    ("containerd", "v1.29.0", "", "no"),
    ("cri-o", "v1.28.2", "", "no"),
    ("containerd", "v1.22.0", "/var/run/dockershim.sock", "yes"),  # the annotation says what kubelet was told
    ("docker", "weird", "", "unknown"),
    ("", "v1.29.0", "", "unknown"),
])
def test_verdicts(runtime: str, kubelet: str, socket: str, verdict: str) -> None:
    assert dockershim_verdict(runtime, kubelet, socket)[0] == verdict


def test_kubelet_minor() -> None:
    assert kubelet_minor("v1.23.17") == 23 and kubelet_minor("1.30.1+k3s1") == 30
    assert kubelet_minor("v2.0.0") is None and kubelet_minor("") is None


def test_node_runtime_reads_a_node_and_tolerates_odd_ones() -> None:
    node = {"metadata": {"name": "n1", "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket": "/var/run/dockershim.sock"}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "10.0.0.7"}],
                       "nodeInfo": {"containerRuntimeVersion": "docker://20.10.24", "kubeletVersion": "v1.23.17",
                                    "osImage": "Ubuntu 20.04.6 LTS"}}}
    n = node_runtime(node)
    assert (n.name, n.status, n.runtime, n.runtime_version, n.dockershim, n.internal_ip) == (
        "n1", "Ready,SchedulingDisabled", "docker", "20.10.24", "yes", "10.0.0.7")
    odd = node_runtime({"metadata": None, "status": {"nodeInfo": None, "conditions": "x"}})
    assert (odd.name, odd.status, odd.dockershim) == ("<unnamed>", "Unknown", "unknown")
