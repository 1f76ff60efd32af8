"""One probe of a host: every module of the node side run over one `HostRoot`, their findings
sorted (most severe first) and their warnings gathered, as a `ProbeReport`. The socket table comes
from sock_diag unless a caller hands one in (tests and benchmarks of generated hosts)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plugin.probe import agents, cron, docker_settings, kubelet, processes, units
from plugin.probe.findings import HostFinding, ProbeReport, sort_key
from plugin.probe.hostfs import DEFAULT_LIMITS, HostRoot, Limits
from plugin.probe.sockdiag import SockDiagError, UnixSocket, unix_sockets


@dataclass(frozen=True)
class ProbeOptions:
    root: str = "/"
    extra_sockets: tuple[str, ...] = ()  # more paths of a Docker socket (--socket)
    node: str = ""  # the node's name; default: $NODE_NAME, else the root's /etc/hostname
    limits: Limits = DEFAULT_LIMITS


def node_name(host: HostRoot, given: str) -> str:
    if given:
        return given
    if os.environ.get("NODE_NAME"):
        return os.environ["NODE_NAME"]
    text = host.read_text("/etc/hostname", 256, quiet=True)
    if text and text.strip():
        return text.strip().splitlines()[0]
    if host.root == "/":
        import socket

        return socket.gethostname()
    return ""


def collect(options: ProbeOptions, socket_table: Callable[[], Iterable[UnixSocket]] = unix_sockets) -> ProbeReport:
    host = HostRoot(options.root, options.limits)
    findings: list[HostFinding] = []
    notes: list[str] = []
    procs = processes.read_processes(host)
    sockets: processes.DockerSockets | None = None
    if procs is None:
        notes.append(f"processes were not inspected: no readable proc under {options.root}")
    else:
        try:
            sockets = processes.docker_sockets(socket_table(), options.extra_sockets)
        except SockDiagError as err:
            notes.append(f"connections to Docker's socket were not inspected: {err}")
        findings += processes.process_findings(host, procs, sockets)
    seen_scripts: set[str] = set()
    findings += units.unit_findings(host, seen_scripts)
    findings += cron.cron_findings(host, seen_scripts)
    findings += kubelet.kubelet_findings(host, procs)
    findings += docker_settings.docker_setting_findings(host)
    findings += agents.agent_findings(host)
    # The generic search of /etc and /opt also finds files a specific module explained better.
    explained = {f.path for f in findings if f.kind != "config"}
    unique = [f for f in dict.fromkeys(findings) if f.kind != "config" or f.path not in explained]
    return ProbeReport(
        node=node_name(host, options.node), root=options.root, findings=tuple(sorted(unique, key=sort_key)),
        warnings=tuple(notes + host.log.warnings()), processes_inspected=procs is not None,
        sockets=tuple(sorted(set(sockets.listeners.values()))) if sockets else (),
    )
