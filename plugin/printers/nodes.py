"""Output of `nodes`: kubectl's table (wide adds addresses, kernel, CRI socket and the reason),
or a document for json/yaml, or `node/NAME` lines. With `--probes` the table gains a HOST-FINDINGS
column and is followed by a table of the hosts' own findings (wide: info findings and advice too),
and each node of the document gains its `probe`."""

from __future__ import annotations

from typing import Any, TextIO

from plugin.nodes import NodeRuntime
from plugin.printers.document import API_VERSION
from plugin.printers.escape import terminal_text
from plugin.printers.table import NONE, format_table
from plugin.probe.findings import finding_document


def _probe_document(node: NodeRuntime) -> dict[str, Any]:
    probe = node.probe
    assert probe is not None
    report = probe.report
    return {"pod": probe.pod or None, "status": probe.status,
            "processesInspected": report.processes_inspected if report else None,
            "dockerSockets": list(report.sockets) if report else [],
            "warnings": list(report.warnings) if report else [],
            "findings": [finding_document(f) for f in report.findings] if report else []}


def nodes_document(context: str | None, nodes: list[NodeRuntime]) -> dict[str, Any]:
    items = []
    for n in nodes:
        item: dict[str, Any] = {
            "name": n.name, "status": n.status, "runtime": n.runtime, "runtimeVersion": n.runtime_version,
            "kubeletVersion": n.kubelet, "osImage": n.os_image, "kernelVersion": n.kernel,
            "internalIP": n.internal_ip, "criSocket": n.cri_socket or None, "dockershim": n.dockershim,
            "reason": n.reason}
        if n.probe is not None:
            item["probe"] = _probe_document(n)
        items.append(item)
    return {"apiVersion": API_VERSION, "kind": "NodeRuntimeReport", "metadata": {"context": context}, "items": items}


def host_findings_cell(node: NodeRuntime) -> str:
    """The count of a node's host findings that are dependencies (not info), or why there is none."""
    probe = node.probe
    if probe is None:
        return NONE
    if probe.report is None:  # one word, as kubectl's <none> and <unknown>: the status is in -o json
        return "<no-probe>" if not probe.pod else "<no-report>" if probe.status.startswith("no report") \
            else "<log-unread>"
    return str(sum(1 for f in probe.report.findings if f.severity != "info"))


def print_nodes(nodes: list[NodeRuntime], out: TextIO, output: str, no_headers: bool) -> None:
    if output == "name":
        out.write("".join(f"node/{terminal_text(n.name)}\n" for n in nodes))
        return
    headers = ["NAME", "STATUS", "RUNTIME", "RUNTIME-VERSION", "KUBELET", "OS-IMAGE", "DOCKERSHIM"]
    if output == "wide":
        headers += ["INTERNAL-IP", "KERNEL-VERSION", "CRI-SOCKET", "REASON"]
    probed = any(n.probe is not None for n in nodes)
    if probed:
        headers.append("HOST-FINDINGS")
    rows = []
    for n in nodes:
        row = [n.name, n.status, n.runtime, n.runtime_version, n.kubelet, n.os_image, n.dockershim]
        if output == "wide":
            row += [n.internal_ip, n.kernel, n.cri_socket, n.reason]
        if probed:  # last, as its header
            row.append(host_findings_cell(n))
        rows.append([v or NONE for v in row])
    if rows:
        out.write(format_table(headers, rows, no_headers) + "\n")
    if probed:
        _print_host_findings(nodes, out, output == "wide", no_headers)


def _print_host_findings(nodes: list[NodeRuntime], out: TextIO, wide: bool, no_headers: bool) -> None:
    from plugin.printers.probe import finding_rows

    rows: list[list[str]] = []
    for n in nodes:
        if n.probe is not None and n.probe.report is not None:
            shown = tuple(f for f in n.probe.report.findings if wide or f.severity != "info")
            rows += finding_rows(shown, wide, node=n.name)
    if rows:
        headers = ["NODE", "SEVERITY", "KIND", "PROCESS/PATH", "UNIT", "EVIDENCE"] + (["ADVICE"] if wide else [])
        out.write("\n" + format_table(headers, rows, no_headers) + "\n")
