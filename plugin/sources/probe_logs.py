"""The node-probe reports of a cluster: the pods of the node-probe DaemonSet (deploy/node-probe.yaml)
and the `NodeProbeReport` each wrote to its log, read with GET on pods/log (the one permission
`nodes --probes` adds), one per node. A node without a probe pod, a log without a report yet, or a
log the server will not give is a status of that node, not a failure of the command."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from plugin.errors import ApiError
from plugin.probe.findings import ProbeReport
from plugin.resources import PODS

PROBE_NAMESPACE = "dockershim-scan"
PROBE_SELECTOR = "app.kubernetes.io/name=dockershim-node-probe"
LOG_BYTES = 8 * 1024 * 1024  # a report of thousands of findings fits many times over
LOG_READERS = 8  # logs read at once


@dataclass(frozen=True)
class NodeProbe:
    pod: str  # the probe pod that reported, "" when there is none
    status: str  # "reported", "no probe pod", "no report in the log", or why the log was not read
    report: ProbeReport | None = None


NO_PROBE = NodeProbe("", "no probe pod")


def report_in_log(log: str) -> ProbeReport | None:
    """The last NodeProbeReport document in a log (the probe's start may print lines before it)."""
    from plugin.printers.probe import report_from_document

    decoder = json.JSONDecoder()
    found: ProbeReport | None = None
    index = 0
    while True:
        start = log.find("{", index)
        if start < 0:
            return found
        if start > 0 and log[start - 1] != "\n":
            index = start + 1
            continue
        try:
            document, end = decoder.raw_decode(log, start)
        except ValueError:
            index = start + 1
            continue
        report = report_from_document(document)
        if report is not None:
            found = report
        index = end


def _probe_pods(pods: list[dict]) -> dict[str, dict]:
    """The probe pod of each node: a running one before others, then the newest."""
    chosen: dict[str, dict] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not isinstance(node, str) or not node:
            continue
        rank = ((pod.get("status") or {}).get("phase") == "Running",
                str((pod.get("metadata") or {}).get("creationTimestamp") or ""))
        current = chosen.get(node)
        if current is None or rank > current["rank"]:
            chosen[node] = {"rank": rank, "pod": pod}
    return {node: entry["pod"] for node, entry in chosen.items()}


def node_probes(api, namespace: str = PROBE_NAMESPACE) -> dict[str, NodeProbe]:
    """Each node's probe, by node name (nodes without a probe pod are absent)."""
    pods = [p for page in api.list_pages(PODS, namespace, label_selector=PROBE_SELECTOR) for p in page
            if isinstance(p, dict)]

    def read(item: tuple[str, dict]) -> tuple[str, NodeProbe]:
        node, pod = item
        name = str((pod.get("metadata") or {}).get("name") or "")
        try:
            log = api.get_log(namespace, name, limit_bytes=LOG_BYTES)
        except ApiError as err:
            return node, NodeProbe(name, f"log not read: {err.message.removeprefix('error: ')}")
        report = report_in_log(log or "")
        return node, NodeProbe(name, "reported" if report else "no report in the log", report)

    with ThreadPoolExecutor(max_workers=LOG_READERS) as pool:
        return dict(pool.map(read, sorted(_probe_pods(pods).items())))
