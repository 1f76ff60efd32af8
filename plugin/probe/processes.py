"""Processes that talk to Docker right now, from `/proc` and the kernel's socket table: the daemon's
listening sockets (docker.sock, dockershim.sock, cri-dockerd.sock under /run or /var/run, and any
`--socket`), every process holding a connected peer of them (`/proc/PID/fd` socket inodes matched
against sock_diag's peers, as `ss -xp` does), and every process running a program named `docker`.
Each is reported with its pid, command line and the systemd unit or container its cgroup names;
the kubelet, dockerd, containerd and cri-dockerd are expected clients (info), anything else is the
finding. Links under /proc are only read with readlink, never followed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot
from plugin.probe.sockdiag import UnixSocket

DOCKER_SOCKETS = ("/run/docker.sock", "/run/dockershim.sock", "/run/cri-dockerd.sock")
# Programs whose use of Docker's socket is the runtime's own business, not a dependency to migrate.
EXPECTED_CLIENTS = frozenset({"kubelet", "dockerd", "containerd", "cri-dockerd", "docker-proxy", "docker-init",
                              "runc", "systemd", "init"})
DOCKER_CLI = frozenset({"docker", "docker-compose"})
MAX_PROCESSES = 100_000
MAX_FDS = 100_000  # per process
CMDLINE_BYTES = 64 * 1024
COMMAND_CHARS = 512  # of a command line in a finding
_CONTAINER_ID = re.compile(r"(?:docker-|cri-containerd-|crio-|libpod-|containerd-)?([0-9a-f]{64})(?:\.scope)?$")
_POD_UID = re.compile(r"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})")
_SOCKET_FD = re.compile(r"socket:\[(\d+)\]")

SOCKET_ADVICE = ("This process uses the Docker API on the node, which goes away with Docker: move it to the CRI "
                 "(crictl, or the agent's containerd/CRI-O integration at /run/containerd/containerd.sock or "
                 "/var/run/crio/crio.sock), or keep Docker on this node through cri-dockerd.")
CLI_ADVICE = ("The docker CLI needs a Docker daemon: use crictl (inspection), nerdctl (containerd) or podman "
              "(CRI-O hosts) instead, or run the job where Docker stays.")
DAEMON_ADVICE = ("The Docker daemon (or dockershim) serves this socket. Stop and disable it only after every "
                 "client reported here has moved; kubelet must first point at containerd or CRI-O.")


@dataclass(frozen=True)
class Process:
    pid: int
    argv: tuple[str, ...]
    comm: str
    exe: str  # the program's path (readlink of /proc/PID/exe), "" when unreadable
    unit: str  # the systemd unit or container, from /proc/PID/cgroup

    @property
    def name(self) -> str:
        """The program's name: the executable's, else argv[0]'s, else comm."""
        for candidate in (self.exe.removesuffix(" (deleted)"), self.argv[0] if self.argv else "", self.comm):
            base = candidate.rsplit("/", 1)[-1]
            if base:
                return base
        return ""

    @property
    def command(self) -> str:
        text = " ".join(self.argv) if self.argv else f"[{self.comm}]"
        return text if len(text) <= COMMAND_CHARS else text[:COMMAND_CHARS] + "..."


def unit_of(cgroup: str) -> str:
    """`docker.service`, `session-3.scope`, or `pod UID container ID` from /proc/PID/cgroup's text."""
    lines = [line.split(":", 2) for line in cgroup.splitlines() if line.count(":") >= 2]
    chosen = next((p for h, c, p in lines if h == "0" and c == ""), None)
    if chosen is None:
        chosen = next((p for h, c, p in lines if "name=systemd" in c), lines[0][2] if lines else "")
    parts = [p for p in chosen.split("/") if p]
    container = next((m.group(1) for p in reversed(parts) if (m := _CONTAINER_ID.search(p))), None)
    if container:
        pod = next((m.group(1).replace("_", "-") for p in parts if (m := _POD_UID.search(p))), None)
        return (f"pod {pod} " if pod else "") + f"container {container[:12]}"
    return next((p for p in reversed(parts) if p.endswith((".service", ".scope"))), "")


def read_processes(host: HostRoot) -> list[Process] | None:
    """Every process under the root's /proc, or None when there is no readable /proc there."""
    names = host.list_dir("/proc", limit=MAX_PROCESSES + 1000)
    pids = sorted(int(n) for n in names if n.isdigit())[:MAX_PROCESSES]
    if not pids:
        return None
    found = []
    for pid in pids:
        raw = host.read_bytes(f"/proc/{pid}/cmdline", CMDLINE_BYTES, truncate=True, quiet=True)
        if raw is None:
            continue  # exited meanwhile, or not readable
        argv = tuple(a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0")) if raw.strip(b"\0") else ()
        comm = (host.read_bytes(f"/proc/{pid}/comm", 64, truncate=True, quiet=True) or b"").decode(
            "utf-8", "replace").strip()
        try:
            exe = os.readlink(host.real(f"/proc/{pid}/exe"))
        except OSError:
            exe = ""
        cgroup = (host.read_bytes(f"/proc/{pid}/cgroup", 16384, truncate=True, quiet=True) or b"").decode(
            "utf-8", "replace")
        found.append(Process(pid, argv, comm, exe, unit_of(cgroup)))
    return found


def socket_inodes(host: HostRoot, pid: int) -> Iterator[int]:
    """The socket inodes a process holds open (readlink of each /proc/PID/fd entry)."""
    directory = host.real(f"/proc/{pid}/fd")
    try:
        with os.scandir(directory) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_FDS:
                    host.log.skip(f"more than {MAX_FDS} open files, the rest not read", f"/proc/{pid}/fd")
                    return
                try:
                    match = _SOCKET_FD.fullmatch(os.readlink(entry.path))
                except OSError:
                    continue
                if match:
                    yield int(match.group(1))
    except OSError:
        return


def _canonical(path: str) -> str:
    return "/run/" + path[len("/var/run/"):] if path.startswith("/var/run/") else path


@dataclass(frozen=True)
class DockerSockets:
    """What sock_diag says about Docker's sockets: listeners by path, and the inodes of each side."""

    listeners: dict[int, str]  # listening inode -> path
    server_side: dict[int, str]  # the daemon's end of each connection -> path
    client_side: dict[int, str]  # the other end -> path


def docker_sockets(table: Iterable[UnixSocket], extra_paths: Iterable[str] = ()) -> DockerSockets:
    wanted = {_canonical(p) for p in (*DOCKER_SOCKETS, *extra_paths)}
    table = list(table)
    listeners = {s.inode: s.path for s in table if s.listening and _canonical(s.path) in wanted}
    server = {s.inode: s.path for s in table if not s.listening and _canonical(s.path) in wanted}
    clients = {s.peer: path for s in table if (path := server.get(s.inode)) and s.peer}
    for s in table:
        if s.inode in listeners:  # connections not accepted yet: sock_diag names their clients' inodes
            clients.update((i, s.path) for i in s.pending if i)
    clients.update((s.inode, server[s.peer]) for s in table if s.peer in server and s.inode not in server)
    return DockerSockets(listeners, server, clients)


def process_findings(host: HostRoot, processes: list[Process], sockets: DockerSockets | None) -> list[HostFinding]:
    findings: list[HostFinding] = []
    targets = {} if sockets is None else {**sockets.client_side, **sockets.listeners}
    for process in processes:
        name = process.name
        if name in DOCKER_CLI:
            findings.append(HostFinding(
                kind="docker-cli", path=process.exe.removesuffix(" (deleted)") or None, pid=process.pid,
                command=process.command, unit=process.unit or None, severity="high", advice=CLI_ADVICE,
                evidence=f"runs {name} ({process.exe or (process.argv[0] if process.argv else name)})"))
        if not targets:
            continue
        held = {inode for inode in socket_inodes(host, process.pid) if inode in targets}
        listening = sorted({targets[i] for i in held if sockets is not None and i in sockets.listeners})
        connected = sorted({targets[i] for i in held if sockets is not None and i in sockets.client_side})
        for path in listening:
            findings.append(HostFinding(
                kind="docker-daemon", path=path, pid=process.pid, command=process.command, unit=process.unit or None,
                severity="info", advice=DAEMON_ADVICE, evidence=f"{name} listens on {path}"))
        for path in connected:
            expected = name in EXPECTED_CLIENTS or name.startswith("containerd-shim")
            findings.append(HostFinding(
                kind="process", path=path, pid=process.pid, command=process.command, unit=process.unit or None,
                severity="info" if expected else "high",
                advice=("Expected: the container runtime's own use of its socket." if expected else SOCKET_ADVICE),
                evidence=(f"{name} is connected to {path}" + (f" ({name} is part of the runtime)" if expected
                                                              else ""))))
    return findings
