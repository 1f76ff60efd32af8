"""`-o markdown`: a report to paste into a ticket: counts per severity and per agent, the
findings table, then the migration steps of every agent found."""

from __future__ import annotations

from typing import TextIO

from plugin.models import SEVERITIES, Report
from plugin.printers.summary import summary_document
from plugin.printers.table import shown_host_path


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ") or "—"


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def print_markdown(report: Report, out: TextIO) -> None:
    from plugin import catalogue

    where = (", ".join(report.contexts) if report.contexts else report.context) or "the input files"
    workloads = {(i.context, i.namespace, i.owner.kind, i.owner.name) for i in report.items}
    lines = [f"# Docker dependencies in {where}", ""]
    if not report.items:
        lines += ["No workload depends on the Docker daemon."]
    else:
        doc = summary_document(report)
        severities = {r["name"]: r["findings"] for r in doc["bySeverity"]}
        counts = ", ".join(f"{severities[s]} {s}" for s in SEVERITIES if s in severities)
        lines += [f"**{len(report.items)} findings** in **{len(workloads)} workloads** ({counts}).", ""]
        lines += ["## By agent", ""]
        lines += _table(["agent", "workloads", "pods", "findings"],
                        [[r["name"], r["workloads"], r["pods"], r["findings"]] for r in doc["byAgent"]])
        lines += ["", "## Findings", ""]
        contexts = bool(report.contexts)
        headers = (["context"] if contexts else []) + ["namespace", "owner", "agent", "pods", "container",
                                                       "host path", "mount path", "rule", "severity"]
        rows = []
        for i in report.items:
            f = i.finding
            row: list[object] = [i.namespace, f"`{i.owner.describe()}`", i.agent.id if i.agent else "unknown",
                                 len(i.pods), f.container, shown_host_path(f), f.mount_path,
                                 f"{f.rule_id} {f.rule_name}", f.severity]
            rows.append(([i.context] if contexts else []) + row)
        lines += _table(headers, rows)
        lines += ["", "## Migration steps", ""]
        agent_ids = sorted({i.agent.id for i in report.items if i.agent})
        for agent_id in agent_ids:
            agent = catalogue.agent_by_id(agent_id)
            if agent is None:
                continue
            lines += [f"### {agent.name} (`{agent.id}`)", "", agent.migration_summary, ""]
            for title, steps in (("containerd", agent.containerd_steps), ("CRI-O", agent.crio_steps)):
                if steps:
                    lines += [f"**{title}**", ""] + [f"{n}. {s}" for n, s in enumerate(steps, 1)] + [""]
            lines += [f"Docs: {agent.docs}", ""]
        if any(i.agent is None for i in report.items):
            lines += ["### Workloads of unknown images", "",
                      "Point their Docker client at the CRI instead (crictl, the CRI API), read logs from "
                      "`/var/log/pods` in the CRI format, and remove the Docker hostPath mounts. For image "
                      "builds, run Docker-in-Docker as a sidecar or use kaniko or buildah.", ""]
    if report.warnings:
        lines += ["## Not seen", ""] + [f"- {w}" for w in report.warnings] + [""]
    out.write("\n".join(lines).rstrip() + "\n")
