"""Agents installed on the host whose configuration names Docker's socket or Docker's container log
folder: first the agents of `agents.json` (Datadog, Fluentd, Fluent Bit, Filebeat, Telegraf, the
OpenTelemetry Collector, ...), each with its own advice, then a bounded search of the rest of
/etc and /opt (`/opt/*/etc` included) for the same names. Docker's own files, the unit and cron
folders (read by `units`, `cron` and `docker_settings`) and binaries are left out.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from importlib import resources

from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot

PATTERN = re.compile(r"(?:/var)?/run/(?:docker|dockershim|cri-dockerd)\.sock|\bdocker\.sock\b"
                     r"|/var/lib/docker/containers")
SEARCH_ROOTS = ("/etc", "/opt")
# Read by other modules, or Docker's and the runtimes' own.
NOT_SEARCHED = frozenset({"/etc/docker", "/etc/systemd", "/etc/cron.d", "/etc/cron.hourly", "/etc/cron.daily",
                          "/etc/cron.weekly", "/etc/cron.monthly", "/etc/default", "/etc/sysconfig",
                          "/etc/containerd", "/etc/crio", "/etc/containers", "/etc/alternatives", "/etc/ssl",
                          "/etc/pki", "/etc/ca-certificates"})
SEARCH_FILE_BYTES = 256 * 1024  # a configuration file; larger ones are skipped with a warning
MAX_FINDINGS_PER_FILE = 5
GENERIC_ADVICE = ("A configuration names Docker's socket or its log folder: point it at the CRI runtime "
                  "(/run/containerd/containerd.sock, /var/run/crio/crio.sock) and read container logs from "
                  "/var/log/pods (CRI format) before Docker is removed.")


@dataclass(frozen=True)
class HostAgent:
    name: str
    paths: tuple[str, ...]
    advice: str


def host_agents() -> tuple[HostAgent, ...]:
    data = json.loads(resources.files("plugin.probe").joinpath("agents.json").read_text(encoding="utf-8"))
    return tuple(HostAgent(a["name"], tuple(a["paths"]), a["advice"]) for a in data["agents"])


def _expand(host: HostRoot, pattern: str) -> list[str]:
    parent, _, last = pattern.rpartition("/")
    if "*" not in last:
        return [pattern]
    return [f"{parent}/{n}" for n in host.list_dir(parent or "/") if fnmatch.fnmatch(n, last)]


def file_findings(host: HostRoot, path: str, kind: str, advice: str, agent: str | None) -> list[HostFinding]:
    text = host.read_text(path, SEARCH_FILE_BYTES)
    if text is None or "docker" not in text or not PATTERN.search(text):  # every pattern holds "docker"
        return []
    findings = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith(("#", "//", ";")):
            continue
        match = PATTERN.search(line)
        if match:
            who = f"{agent}: " if agent else ""
            findings.append(HostFinding(kind=kind, path=path, severity="high", advice=advice,
                                        evidence=f"{who}line {number} names {match.group(0)}"))
            if len(findings) >= MAX_FINDINGS_PER_FILE:
                break
    return findings


def agent_findings(host: HostRoot) -> list[HostFinding]:
    findings: list[HostFinding] = []
    read: set[str] = set()
    for agent in host_agents():
        for pattern in agent.paths:
            for path in _expand(host, pattern):
                files = host.walk(path) if host.is_dir(path) else iter([path] if host.exists(path) else [])
                for file in files:
                    resolved = host.resolve(file)
                    if resolved is None or resolved in read:
                        continue
                    read.add(resolved)
                    findings.extend(file_findings(host, file, "agent-config", agent.advice, agent.name))
    skip = NOT_SEARCHED | {host.resolve(p) or p for p in read}
    for top in SEARCH_ROOTS:
        for file in host.walk(top, skip_dirs=frozenset(skip)):
            if file in read or file.startswith("/etc/cron") or file.startswith("/etc/crontab"):
                continue
            resolved = host.resolve(file)
            if resolved is None or resolved in read:
                continue
            read.add(resolved)
            findings.extend(file_findings(host, file, "config", GENERIC_ADVICE, None))
    return findings
