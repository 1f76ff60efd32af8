"""`kubectl dockershim mounts`: every hostPath, Docker's or not, through the real kubectl."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Plugin


def test_mounts_lists_every_host_path_with_type_and_read_only(plugin: Plugin) -> None:
    result = plugin.run("mounts", "-n", "monitoring")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines[0] == ["OWNER", "PODS", "CONTAINER", "VOLUME", "HOST-PATH", "TYPE", "MOUNT-PATH", "READ-ONLY"]
    # Docker's and everyone else's: the containerd socket and /var/log/pods are listed too.
    assert ["Pod/log-shipper-1", "1", "shipper", "logs", "/var/log/pods", "<none>", "/var/log/pods", "false"] in lines
    assert ["DaemonSet/datadog", "2", "agent", "runtimesocketdir", "/var/run", "<none>", "/host/var/run",
            "true"] in lines
    # the Deployment's template too, with no pod of its own (the pod above has no owner)
    assert ["Deployment/log-shipper", "0", "shipper", "logs", "/var/log/pods", "<none>", "/var/log/pods",
            "false"] in lines
    assert len(lines) == 7


def test_mounts_offline_keeps_the_host_path_type(plugin: Plugin, tmp_path: Path) -> None:
    manifest = tmp_path / "ds.yaml"
    manifest.write_text("""apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ops}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: a, image: busybox}]
      volumes: [{name: dev, hostPath: {path: /dev, type: Directory}}]
""")
    doc = json.loads(plugin.run("mounts", "-f", str(manifest), "-o", "json").stdout)
    (item,) = doc["items"]
    assert (item["hostPath"], item["hostPathType"], item["container"]) == ("/dev", "Directory", None)
    assert item["reason"] == "hostPath volume declared, but no container mounts it"
