"""systemd units that need Docker: units and drop-ins under the four unit folders whose
`Requires=`, `Wants=`, `After=`, `BindsTo=` (and kin) name docker.service or docker.socket, or
whose `Exec*=` lines run the docker CLI, directly or in a script they start. Docker's and the
runtimes' own units are not findings (docker.service.d drop-ins are settings: `docker_settings`),
and a unit that needs containerd.service is not one either.
"""

from __future__ import annotations

from plugin.probe import scripts
from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot

UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
DOCKER_UNITS = frozenset({"docker.service", "docker.socket"})
# The runtimes' own units: that they need Docker is no dependency of anything else.
OWN_UNITS = frozenset({"docker.service", "docker.socket", "containerd.service", "cri-docker.service",
                       "cri-docker.socket", "cri-dockerd.service", "cri-dockerd.socket", "docker-rootless.service"})
DEPENDENCY_KEYS = {"Requires": "high", "BindsTo": "high", "Requisite": "high", "PartOf": "medium",
                   "Wants": "medium", "Upholds": "medium", "After": "low"}
EXEC_KEYS = frozenset({"ExecStart", "ExecStartPre", "ExecStartPost", "ExecStop", "ExecStopPost", "ExecReload",
                       "ExecCondition"})
UNIT_SUFFIXES = (".service", ".socket", ".timer", ".path", ".mount", ".target")
DEPENDENCY_ADVICE = ("This unit starts with, or only with, Docker: remove docker.service/docker.socket from it "
                     "(or name containerd.service / crio.service if it needs the runtime) before Docker is removed.")


def unit_files(host: HostRoot) -> list[tuple[str, str]]:
    """(unit name, host path) of every unit file and drop-in, Docker's own excluded."""
    found: list[tuple[str, str]] = []
    for directory in UNIT_DIRS:
        for name in host.list_dir(directory):
            path = f"{directory}/{name}"
            if name.endswith(".d"):
                unit = name[:-2]
                if unit in OWN_UNITS:
                    continue
                found.extend((unit, f"{path}/{n}") for n in host.list_dir(path) if n.endswith(".conf"))
            elif name.endswith(UNIT_SUFFIXES) and name not in OWN_UNITS:
                found.append((name, path))
    return found


def unit_findings(host: HostRoot, seen_scripts: set[str] | None = None) -> list[HostFinding]:
    seen_scripts = set() if seen_scripts is None else seen_scripts
    seen_files: set[str] = set()
    findings: list[HostFinding] = []
    for unit, path in unit_files(host):
        resolved = host.resolve(path)
        if resolved is None or resolved == "/dev/null" or resolved in seen_files:
            continue  # missing, masked, or an alias of a unit already read
        seen_files.add(resolved)
        text = host.read_text(path)
        if text is None:
            continue
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";")) or "=" not in line:
                continue
            key, _, value = (part.strip() for part in line.partition("="))
            if key in DEPENDENCY_KEYS:
                for word in value.split():
                    if word in DOCKER_UNITS:
                        findings.append(HostFinding(kind="systemd-unit", path=path, unit=unit, evidence=f"{key}={word}",
                                                    severity=DEPENDENCY_KEYS[key], advice=DEPENDENCY_ADVICE))
            elif key in EXEC_KEYS:
                command = value.lstrip("@-:+!|")
                findings.extend(scripts.command_findings(host, command, path, "systemd-unit", unit, seen_scripts))
    return findings
