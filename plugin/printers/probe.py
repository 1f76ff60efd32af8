"""Output of `probe`: a table of the host's findings (most severe first; wide adds the advice), or
the `NodeProbeReport` document for json and yaml, and the reading of such a document back into a
`ProbeReport` (what `nodes --probes` does with the DaemonSet's logs)."""

from __future__ import annotations

from typing import Any, TextIO

from plugin.printers.document import API_VERSION
from plugin.printers.table import NONE, format_table
from plugin.probe.findings import REPORT_KIND, HostFinding, ProbeReport, finding_document, finding_from_document


def probe_document(report: ProbeReport) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION, "kind": REPORT_KIND,
        "metadata": {"node": report.node or None, "root": report.root,
                     "processesInspected": report.processes_inspected, "dockerSockets": list(report.sockets),
                     "warnings": list(report.warnings)},
        "items": [finding_document(f) for f in report.findings],
    }


def report_from_document(document: object) -> ProbeReport | None:
    """The report a `NodeProbeReport` document holds, or None when it is not one."""
    if not isinstance(document, dict) or document.get("kind") != REPORT_KIND:
        return None
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    items = document.get("items") if isinstance(document.get("items"), list) else []
    assert isinstance(items, list)
    findings = tuple(f for f in (finding_from_document(i) for i in items) if f is not None)
    warnings = metadata.get("warnings") if isinstance(metadata.get("warnings"), list) else []
    sockets = metadata.get("dockerSockets") if isinstance(metadata.get("dockerSockets"), list) else []
    assert isinstance(warnings, list) and isinstance(sockets, list)
    node, root = metadata.get("node"), metadata.get("root")
    return ProbeReport(
        node=node if isinstance(node, str) else "", root=root if isinstance(root, str) else "",
        findings=findings, warnings=tuple(w for w in warnings if isinstance(w, str)),
        processes_inspected=metadata.get("processesInspected") is True,
        sockets=tuple(s for s in sockets if isinstance(s, str)))


def where(finding: HostFinding) -> str:
    """The PID/PATH cell: `pid 4242 (python3 client.py)` or the file."""
    if finding.pid is not None:
        return f"pid {finding.pid} ({finding.command or '?'})"
    return finding.path or NONE


def finding_rows(findings: tuple[HostFinding, ...], wide: bool, node: str | None = None) -> list[list[str]]:
    rows = []
    for f in findings:
        row = ([node] if node is not None else []) + [f.severity, f.kind, where(f), f.unit or NONE, f.evidence]
        if wide:
            row.append(f.advice)
        rows.append(row)
    return rows


def print_probe(report: ProbeReport, out: TextIO, wide: bool, no_headers: bool) -> None:
    if not report.findings:
        return
    headers = ["SEVERITY", "KIND", "PROCESS/PATH", "UNIT", "EVIDENCE"] + (["ADVICE"] if wide else [])
    out.write(format_table(headers, finding_rows(report.findings, wide), no_headers) + "\n")
