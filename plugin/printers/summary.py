"""`--summary`: counts only, per rule, per agent, per namespace and per severity, as tables or as a
document (`kind: DockerDependencySummary`, with the report's `apiVersion` and metadata), and the
findings that `--severity` hid."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from plugin.models import SEVERITIES, Report, ReportItem
from plugin.printers.document import API_VERSION, report_metadata
from plugin.printers.table import NONE, UNKNOWN, format_table

KIND = "DockerDependencySummary"
Key = Callable[[ReportItem], tuple[Any, ...]]


def _by_value(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in key)


def _counts(report: Report, key: Key, fields: tuple[str, ...],
            order: Callable[[tuple[Any, ...]], Any] = _by_value) -> list[dict[str, Any]]:
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for item in report.items:
        row = rows.setdefault(key(item), {"findings": 0, "workloads": set(), "pods": set()})
        row["findings"] += 1
        row["workloads"].add((item.context, item.namespace, item.owner.type_key, item.owner.name))
        row["pods"].update((item.context, item.namespace, p) for p in item.pods)
    return [{**dict(zip(fields, k, strict=True)), "findings": r["findings"], "workloads": len(r["workloads"]),
             "pods": len(r["pods"])} for k, r in sorted(rows.items(), key=lambda kv: order(kv[0]))]


def _severity_order(key: tuple[Any, ...]) -> tuple[int, str]:
    severity = key[0]
    return (SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES), severity)


def hidden_text(hidden: dict[str, int]) -> str | None:
    """`2 info findings hidden (--severity)`, most severe first; None when nothing was hidden."""
    shown = sorted((s for s, n in hidden.items() if n), key=lambda s: _severity_order((s,)))
    if not shown:
        return None
    parts = [f"{hidden[s]} {s} finding{'' if hidden[s] == 1 else 's'}" for s in shown]
    return ", ".join(parts) + " hidden (--severity)"


def summary_document(report: Report) -> dict[str, Any]:
    """Rules and agents have separate `id` and `name`; an unknown agent has both null."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": report_metadata(report),
        "byRule": _counts(report, lambda i: (i.finding.rule_id, i.finding.rule_name), ("id", "name")),
        "byAgent": _counts(report, lambda i: (i.agent.id, i.agent.name) if i.agent else (None, None),
                           ("id", "name")),
        "byNamespace": _counts(report, lambda i: (i.namespace,), ("name",)),
        "bySeverity": _counts(report, lambda i: (i.finding.severity,), ("name",), _severity_order),
        "warnings": list(report.warnings),
    }


def print_summary(report: Report, out: TextIO, no_headers: bool) -> None:
    """The tables; then, unless --no-headers asks for bare rows, how many findings were hidden."""
    doc = summary_document(report)
    tables = (
        ("RULE", [f"{r['id']} {r['name']}" for r in doc["byRule"]], doc["byRule"]),
        ("AGENT", [r["id"] or UNKNOWN for r in doc["byAgent"]], doc["byAgent"]),
        ("NAMESPACE", [r["name"] or NONE for r in doc["byNamespace"]], doc["byNamespace"]),
    )
    sections = []
    for title, names, counts in tables:
        rows = [[name, str(r["workloads"]), str(r["pods"]), str(r["findings"])] for name, r in zip(names, counts,
                                                                                                    strict=True)]
        if rows:
            sections.append(format_table([title, "WORKLOADS", "PODS", "FINDINGS"], rows, no_headers))
    hidden = hidden_text(report.hidden)
    if hidden and not no_headers:
        sections.append(hidden)
    if sections:
        out.write("\n\n".join(sections) + "\n")
