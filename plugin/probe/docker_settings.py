"""Docker's own settings that must be carried over to the runtime that replaces it: each key of
/etc/docker/daemon.json, each dockerd flag of a docker.service drop-in or of /etc/default/docker,
and the proxies of docker.service.d, each with the containerd and CRI-O setting that does the
same. Proxy passwords are masked in the evidence.
"""

from __future__ import annotations

import json
import re

from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot

DAEMON_JSON = "/etc/docker/daemon.json"
DROP_IN_DIRS = ("/etc/systemd/system/docker.service.d", "/run/systemd/system/docker.service.d",
                "/lib/systemd/system/docker.service.d", "/usr/lib/systemd/system/docker.service.d")
OPTION_FILES = ("/etc/default/docker", "/etc/sysconfig/docker")
_PROXY_VARIABLE = re.compile(r"\b(HTTPS?_PROXY|NO_PROXY|ALL_PROXY)=", re.IGNORECASE)
_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
PROXY_ADVICE = ('Give the runtime the same proxy: containerd: Environment="HTTP_PROXY=..." "HTTPS_PROXY=..." '
                '"NO_PROXY=..." in /etc/systemd/system/containerd.service.d/http-proxy.conf; CRI-O: the same in '
                "crio.service.d. Keep the cluster's service and pod CIDRs in NO_PROXY.")

# daemon.json key (and the dockerd flag that sets it) -> (severity, advice).
SETTINGS: dict[str, tuple[str, str]] = {
    "registry-mirrors": ("medium", 'containerd: config_path = "/etc/containerd/certs.d" under [plugins."io.containerd.'
                         'grpc.v1.cri".registry] and /etc/containerd/certs.d/docker.io/hosts.toml with [host."https://'
                         'MIRROR"] capabilities = ["pull", "resolve"]; CRI-O: [[registry]] location = "docker.io" '
                         'with [[registry.mirror]] location = "MIRROR" in /etc/containers/registries.conf.'),
    "insecure-registries": ("medium", 'containerd: /etc/containerd/certs.d/HOST/hosts.toml with server = "http://HOST" '
                            'or skip_verify = true; CRI-O: [[registry]] location = "HOST" insecure = true in '
                            "/etc/containers/registries.conf."),
    "data-root": ("low", 'containerd: root = "PATH" in /etc/containerd/config.toml; CRI-O: root (graphroot) in '
                  "/etc/containers/storage.conf. Images are not shared: they are pulled again."),
    "graph": ("low", 'The old name of data-root: containerd root = "PATH"; CRI-O graphroot in storage.conf.'),
    "log-driver": ("medium", "CRI runtimes have no log drivers: the kubelet writes container logs to /var/log/pods "
                   "(CRI format); ship them with an agent reading those files."),
    "log-opts": ("low", "Log rotation moves to the kubelet: containerLogMaxSize and containerLogMaxFiles in the "
                 "KubeletConfiguration."),
    "proxies": ("medium", PROXY_ADVICE),
    "default-ulimits": ("low", "containerd: LimitNOFILE= (and kin) in containerd.service, which containers inherit, or "
                        'a base_runtime_spec; CRI-O: default_ulimits = ["nofile=..."] in [crio.runtime] of crio.conf.'),
    "exec-opts": ("medium", "native.cgroupdriver=systemd: containerd SystemdCgroup = true in the runc options; CRI-O "
                  "cgroup_manager = \"systemd\"; the kubelet's cgroupDriver must match."),
    "storage-driver": ("low", "containerd: snapshotter = \"overlayfs\" in the CRI plugin's containerd section; CRI-O: "
                       "driver in /etc/containers/storage.conf."),
    "storage-opts": ("low", "containerd: the snapshotter's options; CRI-O: [storage.options] in storage.conf."),
    "max-concurrent-downloads": ("low", "containerd: max_concurrent_downloads in the CRI plugin; CRI-O: none."),
    "default-runtime": ("medium", 'containerd: default_runtime_name and [plugins."io.containerd.grpc.v1.cri".'
                        "containerd.runtimes.NAME]; CRI-O: default_runtime and [crio.runtime.runtimes.NAME]; "
                        "Kubernetes: a RuntimeClass."),
    "runtimes": ("medium", 'containerd: [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.NAME]; CRI-O: '
                 "[crio.runtime.runtimes.NAME]; select them with a RuntimeClass."),
    "live-restore": ("info", "containerd and CRI-O keep containers running across their own restarts: nothing to do."),
    "dns": ("info", "Pods take DNS from the kubelet (clusterDNS): nothing to carry over for pods."),
    "bip": ("info", "Docker's bridge is not used for pods (CNI is): nothing to carry over for pods."),
    "default-address-pools": ("info", "Docker's networks are not used for pods (CNI is): nothing to carry over."),
    "iptables": ("info", "Docker's iptables rules do not apply to pods (CNI and kube-proxy): nothing to carry over."),
}
FLAGS = {"registry-mirror": "registry-mirrors", "insecure-registry": "insecure-registries", "data-root": "data-root",
         "graph": "graph", "log-driver": "log-driver", "log-opt": "log-opts", "default-ulimit": "default-ulimits",
         "exec-opt": "exec-opts", "storage-driver": "storage-driver", "storage-opt": "storage-opts",
         "max-concurrent-downloads": "max-concurrent-downloads", "default-runtime": "default-runtime",
         "add-runtime": "runtimes", "live-restore": "live-restore", "dns": "dns", "bip": "bip",
         "http-proxy": "proxies", "https-proxy": "proxies", "no-proxy": "proxies"}
UNKNOWN = ("info", "No direct replacement known: check whether containerd's or CRI-O's configuration needs it.")


def masked(text: str) -> str:
    return _PASSWORD.sub(r"\1***@", text)


def _setting(path: str, key: str, evidence: str) -> HostFinding:
    severity, advice = SETTINGS.get(key, UNKNOWN)
    return HostFinding(kind="docker-setting", path=path, unit="docker.service", evidence=masked(evidence),
                       severity=severity, advice=advice)


def _short(value: object) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 200 else text[:200] + "..."


def daemon_json_findings(host: HostRoot) -> list[HostFinding]:
    text = host.read_text(DAEMON_JSON)
    if text is None:
        return []
    try:
        settings = json.loads(text)
    except ValueError as err:
        host.log.notes.append(f"{DAEMON_JSON} is not JSON ({err}): its settings were not read")
        return []
    if not isinstance(settings, dict):
        return []
    return [_setting(DAEMON_JSON, key, f"{key}: {_short(value)}") for key, value in settings.items()]


def _dockerd_flags(path: str, line: str) -> list[HostFinding]:
    findings = []
    for word in line.split():
        word = re.sub(r"^[A-Z_]+=", "", word).strip("\"'")
        if not word.startswith("--"):
            continue
        name = word[2:].partition("=")[0]
        findings.append(_setting(path, FLAGS.get(name, name), f"dockerd {word}"))
    return findings


def drop_in_findings(host: HostRoot) -> list[HostFinding]:
    findings: list[HostFinding] = []
    paths = [f"{d}/{n}" for d in DROP_IN_DIRS for n in host.list_dir(d) if n.endswith(".conf")]
    for path in [*paths, *OPTION_FILES]:
        text = host.read_text(path, quiet=path in OPTION_FILES)
        if text is None:
            continue
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if _PROXY_VARIABLE.search(line):
                findings.append(HostFinding(kind="docker-setting", path=path, unit="docker.service",
                                            evidence=masked(line), severity="medium", advice=PROXY_ADVICE))
            elif line.startswith("ExecStart=") and "dockerd" in line or line.startswith(("DOCKER_OPTS=", "OPTIONS=")):
                findings.extend(_dockerd_flags(path, line))
    return findings


def docker_setting_findings(host: HostRoot) -> list[HostFinding]:
    return daemon_json_findings(host) + drop_in_findings(host)
