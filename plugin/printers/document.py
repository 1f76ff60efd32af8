"""The report as a plain document, the stable contract of `-o json` and `-o yaml`.

Shape (documented in the README): `{"apiVersion", "kind", "metadata", "items": [...],
"warnings": [...]}`; each item has `namespace`, `owner` (`kind`, `name`, `apiVersion`),
`ownerChain`, `agent` (`id`, `name`, `evidence`, `strong`, `migrated`; null when unknown),
`context` (with several contexts), `pods`, `nodes`, `nodeRuntimes`, `container`, `volume`,
`hostPath`, `hostPathType`, `subPath`, `mountPath`,
`readOnly`, `rule`, `ruleName`, `severity`, `reason`, `evidence` and `sources`. `metadata` has
`context`, `contexts`, `namespace`, `complete`, `scanned` and, when `--severity` left findings
out, `hidden` (counts per severity).
"""

from __future__ import annotations

from typing import Any

from plugin.models import SEVERITIES, AgentRef, ObjectRef, Origin, Report, ReportItem

API_VERSION = "dockershim.kubectl.dev/v1alpha1"
KIND = "DockerDependencyReport"


def ref_document(ref: ObjectRef) -> dict[str, Any]:
    """An owner as the json items name it: `kind`, `name`, `apiVersion` when known, `notFound`."""
    out: dict[str, Any] = {"kind": ref.kind, "name": ref.name}
    if ref.api_version:
        out["apiVersion"] = ref.api_version
    if not ref.found:
        out["notFound"] = True  # referenced, but deleted (or not in the input files)
    return out


def agent_document(agent: AgentRef | None) -> dict[str, Any] | None:
    """The agent as the json items carry it; None for an image the catalogue does not know."""
    if agent is None:
        return None
    return {"id": agent.id, "name": agent.name, "evidence": agent.evidence, "strong": agent.strong,
            "migrated": list(agent.migrated)}


def _origin(origin: Origin) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if origin.context is not None:
        out["context"] = origin.context
    if origin.file is not None:
        out["file"] = origin.file
        if origin.line is not None:
            out["line"] = origin.line
        if origin.document is not None:
            out["document"] = origin.document
        if origin.item is not None:
            out["item"] = origin.item
    return out


def item_document(item: ReportItem) -> dict[str, Any]:
    f = item.finding
    return {
        "context": item.context,
        "namespace": item.namespace,
        "owner": ref_document(item.owner),
        "ownerChain": [ref_document(r) for r in item.owner_chain],
        "agent": agent_document(item.agent),
        "pods": list(item.pods),
        "nodes": list(item.nodes),
        "nodeRuntimes": {n: r for n, r in zip(item.nodes, item.runtimes, strict=False) if r},
        "container": f.container,
        "volume": f.volume,
        "hostPath": f.host_path,
        "hostPathType": f.host_path_type,
        "subPath": f.sub_path,
        "mountPath": f.mount_path,
        "readOnly": f.read_only,
        "rule": f.rule_id,
        "ruleName": f.rule_name,
        "severity": f.severity,
        "reason": f.reason,
        "evidence": f.evidence,
        "sources": [d for d in (_origin(o) for o in item.origins) if d],
    }


def report_metadata(report: Report) -> dict[str, Any]:
    """`metadata` of the report and of its summary. `hidden` (findings left out by `--severity`,
    per severity) is there only when something was hidden."""
    metadata: dict[str, Any] = {
        "context": report.context,
        "contexts": list(report.contexts) or None,
        "namespace": report.namespace,
        "complete": report.complete,
        "scanned": dict(sorted(report.scanned.items())),
    }
    hidden = {severity: n for severity, n in report.hidden.items() if n}
    if hidden:
        metadata["hidden"] = {s: hidden[s] for s in (*SEVERITIES, *sorted(hidden)) if s in hidden}
    return metadata


def report_document(report: Report) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": report_metadata(report),
        "items": [item_document(item) for item in report.items],
        "warnings": list(report.warnings),
    }
