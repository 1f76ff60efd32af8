"""What the node probe reports: `HostFinding` (one fact about the host, with its evidence and the
advice that migrates it) and `ProbeReport` (a probe's findings and warnings). Plain frozen data,
turned into the `NodeProbeReport` document and read back from it (`nodes --probes` reads the
documents the DaemonSet writes to its log)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPORT_KIND = "NodeProbeReport"
SEVERITIES = ("high", "medium", "low", "info")


@dataclass(frozen=True, kw_only=True)
class HostFinding:
    kind: str  # process, docker-daemon, docker-cli, systemd-unit, cron, script, kubelet, credentials, ...
    path: str | None = None  # the host file that shows it, as a path on the host
    pid: int | None = None
    command: str | None = None  # the process's command line
    unit: str | None = None  # the systemd unit (or container) it belongs to
    evidence: str
    severity: str  # high, medium, low or info (info: expected, not a dependency)
    advice: str


@dataclass(frozen=True)
class ProbeReport:
    node: str
    root: str
    findings: tuple[HostFinding, ...]
    warnings: tuple[str, ...]
    processes_inspected: bool
    sockets: tuple[str, ...]  # the Docker sockets found listening


FIELDS = ("kind", "path", "pid", "command", "unit", "evidence", "severity", "advice")


def finding_document(finding: HostFinding) -> dict[str, Any]:
    return {name: getattr(finding, name) for name in FIELDS}


def finding_from_document(item: object) -> HostFinding | None:
    """A finding from a report's item, or None when the item is not one (a report from another version)."""
    if not isinstance(item, dict):
        return None
    text = {name: item.get(name) for name in ("kind", "evidence", "severity", "advice")}
    if not all(isinstance(v, str) for v in text.values()):
        return None
    optional = {name: item.get(name) if isinstance(item.get(name), str) else None
                for name in ("path", "command", "unit")}
    pid = item.get("pid")
    return HostFinding(pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                       **optional, **text)  # type: ignore[arg-type]


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def sort_key(finding: HostFinding) -> tuple:
    return (severity_rank(finding.severity), finding.kind, finding.path or "", finding.pid or 0, finding.evidence)
