"""`--summary`: counts only, per rule, per agent and per namespace, as tables or a document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from plugin.models import Report, ReportItem
from plugin.printers.table import UNKNOWN, format_table


def _counts(report: Report, key: Callable[[ReportItem], str]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for item in report.items:
        row = rows.setdefault(key(item), {"findings": 0, "workloads": set(), "pods": set()})
        row["findings"] += 1
        row["workloads"].add((item.context, item.namespace, item.owner.kind, item.owner.name))
        row["pods"].update((item.context, item.namespace, p) for p in item.pods)
    return [{"name": name, "findings": r["findings"], "workloads": len(r["workloads"]), "pods": len(r["pods"])}
            for name, r in sorted(rows.items())]


def summary_document(report: Report) -> dict[str, Any]:
    return {
        "byRule": _counts(report, lambda i: f"{i.finding.rule_id} {i.finding.rule_name}"),
        "byAgent": _counts(report, lambda i: i.agent.id if i.agent else UNKNOWN),
        "byNamespace": _counts(report, lambda i: i.namespace or "<none>"),
        "bySeverity": _counts(report, lambda i: i.finding.severity),
    }


def print_summary(report: Report, out: TextIO, no_headers: bool) -> None:
    doc = summary_document(report)
    sections = []
    for title, key in (("RULE", "byRule"), ("AGENT", "byAgent"), ("NAMESPACE", "byNamespace")):
        rows = [[r["name"], str(r["workloads"]), str(r["pods"]), str(r["findings"])] for r in doc[key]]
        if rows:
            sections.append(format_table([title, "WORKLOADS", "PODS", "FINDINGS"], rows, no_headers))
    if sections:
        out.write("\n\n".join(sections) + "\n")
