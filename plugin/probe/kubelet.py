"""The kubelet's use of Docker: its flags, from the running kubelet's command line and from the
files they are set in (kubeadm-flags.env, /etc/default/kubelet, /etc/sysconfig/kubelet, the
kubelet unit and its drop-ins, an EKS node's user data), and its config file's
`containerRuntimeEndpoint`: `--container-runtime=docker`, `--docker-endpoint` and the other
dockershim-only flags, a runtime endpoint at dockershim or cri-dockerd. And the image credentials
that relied on Docker's `config.json`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot
from plugin.probe.processes import Process

FLAG_FILES = ("/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet")
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
USER_DATA = ("/var/lib/cloud/instance/user-data.txt",)
DEFAULT_CONFIG = "/var/lib/kubelet/config.yaml"
# Flags that only dockershim had: kubelet 1.24 and later refuse to start with them.
DOCKERSHIM_FLAGS = frozenset({"network-plugin", "cni-bin-dir", "cni-conf-dir", "cni-cache-dir", "network-plugin-mtu",
                              "image-pull-progress-deadline", "experimental-dockershim-root-directory",
                              "docker-endpoint", "docker-root", "docker-disable-shared-pid"})
ENDPOINT_FLAGS = ("container-runtime-endpoint", "image-service-endpoint")
_CONFIG_ENDPOINT = re.compile(r"^\s*(containerRuntimeEndpoint|imageServiceEndpoint)\s*:\s*[\"']?([^\"'\s#]+)",
                              re.MULTILINE)
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
RUNTIME_ADVICE = ("The kubelet runs its containers through dockershim, removed in Kubernetes 1.24: install "
                  "containerd (or CRI-O), drain the node, set --container-runtime-endpoint="
                  "unix:///run/containerd/containerd.sock (CRI-O: unix:///var/run/crio/crio.sock) and remove "
                  "--container-runtime=docker, then uncordon.")
FLAG_ADVICE = ("A dockershim-only kubelet flag: kubelet 1.24 and later refuse to start with it. Remove it when the "
               "node moves to containerd or CRI-O (networking is then the runtime's CNI configuration).")
CRI_DOCKERD_ADVICE = ("The kubelet reaches Docker through cri-dockerd: not affected by the dockershim removal, but "
                      "the node still runs Docker. To leave Docker, point the endpoint at containerd or CRI-O.")
EKS_ADVICE = ("EKS bootstrap.sh's Docker options (--container-runtime dockerd, --docker-config-json, "
              "--enable-docker-bridge) are gone from 1.24 AMIs: drop them, and give containerd's settings "
              "(/etc/containerd/config.toml) what the daemon.json carried.")


@dataclass(frozen=True)
class FlagSource:
    path: str  # where the flags are set
    words: tuple[str, ...]
    pid: int | None = None
    command: str | None = None


def flags_in(words: tuple[str, ...]) -> Iterator[tuple[str, str | None, str]]:
    """(name, value, as written) of each `--flag[=value]` / `--flag value` in the words."""
    for index, word in enumerate(words):
        if not word.startswith("--") or len(word) < 3:
            continue
        name, eq, value = word[2:].partition("=")
        if eq:
            yield name, value, word
        elif index + 1 < len(words) and not words[index + 1].startswith("-"):
            yield name, words[index + 1], f"{word} {words[index + 1]}"
        else:
            yield name, None, word


def _shell_words(text: str) -> tuple[str, ...]:
    words: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            parts = shlex.split(line)
        except ValueError:
            parts = line.split()
        for part in parts:
            # KUBELET_ARGS="--a=b --c d" or Environment="KUBELET_EXTRA_ARGS=--x": the value's words
            key, eq, value = part.partition("=")
            if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and not part.startswith("-"):
                # Environment="KUBELET_CONFIG_ARGS=--config x": the variable's own name goes too
                value = _ASSIGNMENT.sub("", value)
                words.extend(value.split())
            else:
                words.extend(part.split())
    return tuple(words)


def flag_sources(host: HostRoot, processes: list[Process] | None) -> list[FlagSource]:
    sources = [FlagSource(f"/proc/{p.pid}/cmdline", p.argv, p.pid, p.command)
               for p in processes or () if p.name == "kubelet"]
    paths = list(FLAG_FILES)
    for directory in UNIT_DIRS:
        paths.append(f"{directory}/kubelet.service")
        paths.extend(f"{directory}/kubelet.service.d/{n}" for n in host.list_dir(f"{directory}/kubelet.service.d")
                     if n.endswith(".conf"))
    for path in paths:
        text = host.read_text(path)
        if text is not None:
            sources.append(FlagSource(path, _shell_words(text)))
    return sources


def _finding(source: FlagSource, evidence: str, severity: str, advice: str) -> HostFinding:
    return HostFinding(kind="kubelet", path=source.path, pid=source.pid, command=source.command,
                       unit="kubelet.service" if source.pid is None and "systemd" in source.path else None,
                       evidence=evidence, severity=severity, advice=advice)


def _endpoint_finding(source: FlagSource, setting: str, value: str) -> HostFinding | None:
    if "dockershim.sock" in value or value.rstrip("/").endswith("docker.sock"):
        return _finding(source, f"{setting} {value}: dockershim", "high", RUNTIME_ADVICE)
    if "cri-dockerd.sock" in value:
        return _finding(source, f"{setting} {value}: Docker through cri-dockerd", "low", CRI_DOCKERD_ADVICE)
    return None


def kubelet_findings(host: HostRoot, processes: list[Process] | None) -> list[HostFinding]:
    findings: list[HostFinding] = []
    configs: set[str] = set()
    for source in flag_sources(host, processes):
        for name, value, written in flags_in(source.words):
            if name == "container-runtime" and value in ("docker", "dockerd"):
                eks = value == "dockerd"
                findings.append(_finding(source, written, "high", EKS_ADVICE if eks else RUNTIME_ADVICE))
            elif name in DOCKERSHIM_FLAGS:
                findings.append(_finding(source, f"{written}: a dockershim-only flag", "medium", FLAG_ADVICE))
            elif name in ENDPOINT_FLAGS and value:
                found = _endpoint_finding(source, f"--{name}", value)
                if found:
                    findings.append(found)
            elif name in ("docker-config-json", "enable-docker-bridge"):
                findings.append(_finding(source, f"--{name}: an EKS bootstrap Docker option", "medium", EKS_ADVICE))
            elif name == "config" and value:
                configs.add(value)
    for path in USER_DATA:
        text = host.read_text(path, quiet=True)
        if text is None:
            continue
        for line in text.splitlines():
            if "bootstrap.sh" not in line:
                continue
            words = tuple(line.split())
            for name, value, written in flags_in(words):
                if (name == "container-runtime" and value == "dockerd") or name in ("docker-config-json",
                                                                                     "enable-docker-bridge"):
                    findings.append(HostFinding(kind="kubelet", path=path, severity="medium", advice=EKS_ADVICE,
                                                evidence=f"bootstrap.sh {written.split()[0]}"))
    for path in sorted(configs or {DEFAULT_CONFIG}):
        text = host.read_text(path, quiet=not configs)
        if text is None:
            continue
        for match in _CONFIG_ENDPOINT.finditer(text):
            found = _endpoint_finding(FlagSource(path, ()), match.group(1), match.group(2))
            if found:
                findings.append(found)
    findings.extend(credential_findings(host))
    return findings


def credential_findings(host: HostRoot) -> list[HostFinding]:
    findings = []
    if host.exists("/var/lib/kubelet/config.json"):
        findings.append(HostFinding(
            kind="credentials", path="/var/lib/kubelet/config.json", severity="info",
            evidence="image pull credentials in Docker's config.json format, read by the kubelet",
            advice=("The kubelet reads this file itself and hands the credentials to any CRI runtime: it keeps "
                    "working with containerd and CRI-O.")))
    for path in ("/root/.docker/config.json", "/root/.dockercfg"):
        if host.exists(path):
            findings.append(HostFinding(
                kind="credentials", path=path, severity="medium",
                evidence="docker login credentials: used by the Docker daemon's pulls, not by containerd or CRI-O",
                advice=("Images the node pulled through Docker with these credentials will not be pulled by "
                        "containerd: copy them to /var/lib/kubelet/config.json (the kubelet passes them to the "
                        "runtime), to imagePullSecrets, or to containerd's registry auth (hosts.toml / "
                        "config.toml) or CRI-O's /etc/containers/auth.json.")))
    return findings
