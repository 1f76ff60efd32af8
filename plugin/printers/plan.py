"""Output of `plan`: kubectl's table of the pools (`-o wide` adds the pool's label and its nodes),
followed by a table of their blockers (wide: the nodes their pods run on and the first migration
step); the `MigrationPlan` document for json and yaml; and a Markdown change ticket. Pool, node,
owner and agent names come from the cluster or the files, so the human formats escape them
(`format_table` and `markdown_text` do); the document keeps exact values."""

from __future__ import annotations

from typing import Any, TextIO

from plugin.plan import STATUSES, Blocker, MigrationPlan, Pool
from plugin.printers.document import API_VERSION, agent_document, ref_document
from plugin.printers.markdown import markdown_text
from plugin.printers.summary import hidden_text
from plugin.printers.table import NONE, UNKNOWN, format_table, runtime_counts

KIND = "MigrationPlan"


def _runtime_key(runtime: str) -> str:
    return runtime or "unknown"  # a node that does not say


def _blocker_document(blocker: Blocker) -> dict[str, Any]:
    return {"namespace": blocker.namespace, "owner": ref_document(blocker.owner), "rules": list(blocker.rules),
            "agent": agent_document(blocker.agent), "severity": blocker.severity, "reason": blocker.reason,
            "step": blocker.step, "nodes": list(blocker.nodes)}


def _pool_document(pool: Pool) -> dict[str, Any]:
    return {"name": pool.name, "label": pool.label, "status": pool.status, "nodes": [n.name for n in pool.nodes],
            "runtimes": {_runtime_key(r): n for r, n in pool.runtimes.items()},
            "blockers": [_blocker_document(b) for b in pool.blockers]}


def plan_document(plan: MigrationPlan) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "context": plan.context, "namespaces": list(plan.namespaces) if plan.namespaces is not None else None,
        "selector": plan.selector, "poolLabel": plan.pool_label, "targetRuntime": plan.runtime,
        "severities": list(plan.severities), "probes": plan.probes, "complete": plan.complete,
        "scanned": dict(sorted(plan.scanned.items())),
    }
    if plan.hidden:
        metadata["hidden"] = dict(plan.hidden)
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata,
            "pools": [_pool_document(p) for p in plan.pools], "warnings": list(plan.warnings)}


def _runtimes_cell(pool: Pool) -> str:
    return runtime_counts(tuple(n.runtime for n in pool.nodes))


def _agent_cell(blocker: Blocker) -> str:
    if blocker.agent is not None:
        return blocker.agent.describe()
    return NONE if blocker.reason == "on the host" else UNKNOWN


def print_plan(plan: MigrationPlan, out: TextIO, wide: bool, no_headers: bool) -> None:
    if not plan.pools:
        return
    headers = ["POOL", "STATUS", "NODES", "RUNTIMES", "BLOCKERS"] + (["LABEL", "NODE-NAMES"] if wide else [])
    rows = []
    for pool in plan.pools:
        row = [pool.display or NONE, pool.status, str(len(pool.nodes)), _runtimes_cell(pool), str(len(pool.blockers))]
        if wide:
            row += [pool.label or NONE, ",".join(n.name for n in pool.nodes) or NONE]
        rows.append(row)
    out.write(format_table(headers, rows, no_headers) + "\n")
    blocker_rows = []
    for pool in plan.pools:
        for b in pool.blockers:
            row = [pool.display or NONE, b.namespace or NONE, b.owner.describe_marked() if wide else b.owner.describe(),
                   _agent_cell(b), b.severity, ",".join(b.rules), b.reason]
            if wide:
                row += [",".join(b.nodes) or NONE, b.step or NONE]
            blocker_rows.append(row)
    if blocker_rows:
        headers = ["POOL", "NAMESPACE", "OWNER", "AGENT", "SEVERITY", "RULES", "REASON"] + (
            ["NODES", "STEP"] if wide else [])
        out.write("\n" + format_table(headers, blocker_rows, no_headers) + "\n")


def _counts(plan: MigrationPlan) -> str:
    counts = {s: sum(1 for p in plan.pools if p.status == s) for s in STATUSES}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def _cell(value: object) -> str:
    return "—" if value is None or value == "" else markdown_text(value)


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    return (["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            + ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows])


def print_plan_markdown(plan: MigrationPlan, out: TextIO) -> None:
    """A change ticket: the pools and their statuses, then each pool's nodes and blockers with the
    first step to take for each."""
    where = markdown_text(plan.context) if plan.context else "the input files"
    lines = [f"# Switching node pools to {plan.runtime}: {where}", ""]
    if not plan.pools:
        lines += ["No nodes.", ""]
    else:
        lines += [f"**{len(plan.pools)} node pools**: {_counts(plan)}.", ""]
        hidden = hidden_text(plan.hidden)
        lines += [f"{hidden}: they block nothing.", ""] if hidden else []
        lines += _table(["pool", "status", "nodes", "runtimes", "blockers"],
                        [[p.display or NONE, p.status, len(p.nodes), _runtimes_cell(p), len(p.blockers)]
                         for p in plan.pools]) + [""]
        for pool in plan.pools:
            lines += [f"## {markdown_text(pool.display or NONE)}: {pool.status}", ""]
            label = f" (`{markdown_text(pool.label)}`)" if pool.label else " (no pool label)"
            lines += [f"Nodes{label}: " + ", ".join(markdown_text(n.name) for n in pool.nodes) + ".", ""]
            if pool.blockers:
                lines += _table(["namespace", "owner", "agent", "severity", "rules", "reason", "first step"],
                                [[b.namespace or NONE, b.owner.describe_marked(), _agent_cell(b), b.severity,
                                  ", ".join(b.rules), b.reason, b.step] for b in pool.blockers]) + [""]
            else:
                lines += ["Nothing scheduled there depends on Docker.", ""]
    if plan.warnings:
        lines += ["## Not seen", ""] + [f"- {markdown_text(w)}" for w in plan.warnings] + [""]
    out.write("\n".join(lines).rstrip() + "\n")
