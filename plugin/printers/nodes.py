"""Output of `nodes`: kubectl's table (wide adds addresses, kernel, CRI socket and the reason),
or a document for json/yaml, or `node/NAME` lines."""

from __future__ import annotations

from typing import Any, TextIO

from plugin.nodes import NodeRuntime
from plugin.printers.document import API_VERSION
from plugin.printers.escape import terminal_text
from plugin.printers.table import NONE, format_table


def nodes_document(context: str | None, nodes: list[NodeRuntime]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION, "kind": "NodeRuntimeReport", "metadata": {"context": context},
        "items": [{"name": n.name, "status": n.status, "runtime": n.runtime, "runtimeVersion": n.runtime_version,
                   "kubeletVersion": n.kubelet, "osImage": n.os_image, "kernelVersion": n.kernel,
                   "internalIP": n.internal_ip, "criSocket": n.cri_socket or None, "dockershim": n.dockershim,
                   "reason": n.reason} for n in nodes],
    }


def print_nodes(nodes: list[NodeRuntime], out: TextIO, output: str, no_headers: bool) -> None:
    if output == "name":
        out.write("".join(f"node/{terminal_text(n.name)}\n" for n in nodes))
        return
    headers = ["NAME", "STATUS", "RUNTIME", "RUNTIME-VERSION", "KUBELET", "OS-IMAGE", "DOCKERSHIM"]
    if output == "wide":
        headers += ["INTERNAL-IP", "KERNEL-VERSION", "CRI-SOCKET", "REASON"]
    rows = []
    for n in nodes:
        row = [n.name, n.status, n.runtime, n.runtime_version, n.kubelet, n.os_image, n.dockershim]
        if output == "wide":
            row += [n.internal_ip, n.kernel, n.cri_socket, n.reason]
        rows.append([v or NONE for v in row])
    if rows:
        out.write(format_table(headers, rows, no_headers) + "\n")
