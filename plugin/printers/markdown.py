"""`-o markdown`: a report to paste into a ticket: counts per severity and per agent, the
findings table, then the migration steps of every agent found. For `mounts`, the list of
hostPath mounts, with no Docker wording and no migration steps.

Every value from a cluster or a file is escaped twice: for the terminal (`terminal_text`), then
for CommonMark and GitHub's tables (`markdown_text`), so that `<unknown>`, a `|` in a path, a
backtick or a `*` in a name render as themselves instead of as HTML, a new cell, code or emphasis.
"""

from __future__ import annotations

import re
from typing import TextIO

from plugin.explain import MigrationStep, workloads_migration
from plugin.models import SEVERITIES, Report, ReportItem
from plugin.printers.escape import terminal_text
from plugin.printers.summary import hidden_text, summary_document
from plugin.printers.table import NONE, UNKNOWN, shown_host_path

# The ASCII punctuation CommonMark and GFM give a meaning inline (HTML, entities, code, emphasis,
# links, images, strikethrough, table cells) or at the start of a line (headings). CommonMark
# lets a backslash escape any ASCII punctuation, so each is written as `\` + itself.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~!#])")


def markdown_text(value: object) -> str:
    """`value` as inline Markdown text that renders exactly as the terminal would show it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", terminal_text(value))


def _cell(value: object) -> str:
    if value is None or value == "":
        return "—"
    return markdown_text(value)


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _where(report: Report) -> str:
    if report.contexts:
        return ", ".join(markdown_text(c) for c in report.contexts)
    return markdown_text(report.context) if report.context else "the input files"


def _hidden(report: Report) -> list[str]:
    text = hidden_text(report.hidden)
    return [f"{text}.", ""] if text else []


def _not_seen(report: Report) -> list[str]:
    if not report.warnings:
        return []
    return ["## Not seen", ""] + [f"- {markdown_text(w)}" for w in report.warnings] + [""]


def _write(lines: list[str], out: TextIO) -> None:
    out.write("\n".join(lines).rstrip() + "\n")


def print_mounts_markdown(report: Report, out: TextIO) -> None:
    """`mounts -o markdown`: every hostPath volume, Docker's or not: an inventory to review."""
    contexts = bool(report.contexts)
    workloads = {(i.context, i.namespace, i.owner.kind, i.owner.name) for i in report.items}
    lines = [f"# hostPath mounts in {_where(report)}", ""]
    if not report.items:
        lines += ["No workload mounts a hostPath volume.", ""]
    else:
        lines += [f"**{len(report.items)} hostPath mounts** in **{len(workloads)} workloads**.", ""]
        headers = (["context"] if contexts else []) + ["namespace", "owner", "pods", "container", "volume",
                                                       "host path", "type", "mount path", "read-only"]
        rows = []
        for i in report.items:
            f = i.finding
            read_only = str(f.read_only).lower() if f.container else None
            row: list[object] = [i.namespace or NONE, i.owner.describe(), len(i.pods), f.container, f.volume,
                                 shown_host_path(f), f.host_path_type, f.mount_path, read_only]
            rows.append(([i.context] if contexts else []) + row)
        lines += _table(headers, rows) + [""]
    _write(lines + _not_seen(report), out)


def _step_lines(title: str, steps: tuple[MigrationStep, ...]) -> list[str]:
    if not steps:
        return []
    lines = [f"**{title}**", ""]
    lines += [f"{n}. {markdown_text(s.text)}" + ("" if s.general else f" ({', '.join(s.findings)})")
              for n, s in enumerate(steps, 1)]
    return lines + [""]


def _migration_sections(report: Report) -> list[str]:
    """Each agent's steps once, for what its workloads were found with; then vendor-neutral steps
    for the workloads of unknown images."""
    by_agent: dict[str | None, list[ReportItem]] = {}
    for item in report.items:
        by_agent.setdefault(item.agent.id if item.agent else None, []).append(item)
    lines: list[str] = []
    for agent_id in sorted(a for a in by_agent if a is not None):
        items = by_agent[agent_id]
        migration = workloads_migration(agent_id, [i.finding for i in items],
                                        [i.agent.image for i in items if i.agent])
        if migration is None or migration.agent is None:
            continue
        name = next(i.agent.name for i in items if i.agent)
        lines += [f"### {markdown_text(name)} (`{agent_id}`)", "", markdown_text(migration.summary), ""]
        if migration.version_note:
            lines += [f"Version: {markdown_text(migration.version_note)}", ""]
        shared = migration.for_runtime("any")
        lines += _step_lines("containerd", migration.for_runtime("containerd") + shared)
        lines += _step_lines("CRI-O", migration.for_runtime("cri-o") + shared)
        if migration.side_effects:
            lines += ["**Side effects**", ""] + [f"- {markdown_text(s.text)}" for s in migration.side_effects] + [""]
        lines += [f"Docs: {migration.docs}", ""]
    unknown = by_agent.get(None)
    if unknown:
        migration = workloads_migration(None, [i.finding for i in unknown], [])
        if migration is not None:
            lines += ["### Workloads of unknown images", "", markdown_text(migration.summary), ""]
            lines += _step_lines("Steps", migration.steps) + [f"Docs: {migration.docs}", ""]
    return lines


def print_markdown(report: Report, out: TextIO, listing: bool = False) -> None:
    if listing:
        print_mounts_markdown(report, out)
        return

    workloads = {(i.context, i.namespace, i.owner.kind, i.owner.name) for i in report.items}
    lines = [f"# Docker dependencies in {_where(report)}", ""]
    if not report.items:
        lines += ["No workload depends on the Docker daemon.", ""] + _hidden(report)
    else:
        doc = summary_document(report)
        severities = {r["name"]: r["findings"] for r in doc["bySeverity"]}
        counts = ", ".join(f"{severities[s]} {s}" for s in SEVERITIES if s in severities)
        lines += [f"**{len(report.items)} findings** in **{len(workloads)} workloads** ({counts}).", ""]
        lines += _hidden(report)
        lines += ["## By agent", ""]
        lines += _table(["agent", "workloads", "pods", "findings"],
                        [[r["id"] or UNKNOWN, r["workloads"], r["pods"], r["findings"]] for r in doc["byAgent"]])
        lines += ["", "## Findings", ""]
        contexts = bool(report.contexts)
        headers = (["context"] if contexts else []) + ["namespace", "owner", "agent", "pods", "container",
                                                       "host path", "mount path", "rule", "severity"]
        rows = []
        for i in report.items:
            f = i.finding
            row: list[object] = [i.namespace or NONE, i.owner.describe(), i.agent.describe() if i.agent else UNKNOWN,
                                 len(i.pods), f.container, shown_host_path(f), f.mount_path,
                                 f"{f.rule_id} {f.rule_name}", f.severity]
            rows.append(([i.context] if contexts else []) + row)
        lines += _table(headers, rows)
        lines += ["", "## Migration steps", ""] + _migration_sections(report)
    _write(lines + _not_seen(report), out)
