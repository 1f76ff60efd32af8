"""Lines of shell that run the docker CLI or name Docker's socket, in a command (a cron entry, a
unit's `ExecStart=`) and in the scripts it calls, one level deep: the findings of `cron` and
`units` both come from here."""

from __future__ import annotations

from plugin.probe import shell
from plugin.probe.findings import HostFinding
from plugin.probe.hostfs import HostRoot

MAX_LINES = 20_000  # of one script
MAX_FINDINGS_PER_FILE = 10
CLI_ADVICE = ("Runs the docker CLI, which needs the Docker daemon: use crictl (inspection), nerdctl "
              "(containerd) or podman, or a Kubernetes Job/CronJob, before Docker is removed.")
SOCKET_ADVICE = ("Talks to Docker's API socket: point it at the CRI (crictl, or containerd's "
                 "/run/containerd/containerd.sock, CRI-O's /var/run/crio/crio.sock) before Docker is removed.")


def line_finding(line: str) -> tuple[str, str, str] | None:
    """(evidence, severity, advice) for one line that uses Docker, or None."""
    invocation = shell.docker_invocation(line)
    if invocation:
        return f"runs `{invocation}`", "high", CLI_ADVICE
    socket = shell.docker_socket(line)
    if socket:
        return f"names {socket}", "high", SOCKET_ADVICE
    return None


def script_findings(host: HostRoot, path: str, kind: str, unit: str | None = None, via: str = "") -> list[HostFinding]:
    """Findings for each line of a text file that uses Docker; a binary, a missing file or a huge one
    gives none (the last two with a warning from `host`)."""
    text = host.read_text(path)
    if text is None:
        return []
    findings = []
    for number, line in enumerate(text.splitlines()[:MAX_LINES], 1):
        found = line_finding(line)
        if found is None:
            continue
        evidence, severity, advice = found
        findings.append(HostFinding(kind=kind, path=path, unit=unit, severity=severity, advice=advice,
                                    evidence=f"line {number}: {evidence}" + (f" (called from {via})" if via else "")))
        if len(findings) >= MAX_FINDINGS_PER_FILE:
            break
    return findings


def command_findings(host: HostRoot, command: str, where: str, kind: str, unit: str | None,
                     seen: set[str]) -> list[HostFinding]:
    """Findings for a command line at `where` (a crontab, a unit file), then for the scripts it calls
    that were not read yet (`seen` holds the scripts already read)."""
    findings = []
    found = line_finding(command)
    if found is not None:
        evidence, severity, advice = found
        findings.append(HostFinding(kind=kind, path=where, unit=unit, severity=severity, advice=advice,
                                    evidence=evidence))
    for candidate in shell.called_scripts(command):
        resolved = host.resolve(candidate)
        if resolved is None or resolved in seen or host.is_dir(resolved):
            continue
        seen.add(resolved)
        head = host.read_bytes(resolved, quiet=True)
        if head is None or not head.startswith(b"#!"):
            continue  # a program or data file, not a script
        findings.extend(script_findings(host, resolved, "script", unit, via=where))
    return findings
