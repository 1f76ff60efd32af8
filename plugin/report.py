"""From scanned objects and their owner chains to the report: one item per (owning workload,
finding), the pods of a workload aggregated, sorted for stable output."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import replace

from plugin.models import (
    SEVERITIES,
    Finding,
    ObjectRef,
    Origin,
    Report,
    ReportItem,
    ScannedObject,
    WorkloadSummary,
)
from plugin.owners import missing_owners_warning


def build_report(scanned: Sequence[ScannedObject], chains: Sequence[tuple[ObjectRef, ...]], *,
                 warnings: Sequence[str] = (), complete: bool = True, context: str | None = None,
                 namespace: str | None = None, counts: dict[str, int] | None = None,
                 node_runtimes: dict[str, str] | None = None) -> Report:
    runtimes = node_runtimes or {}
    missing = missing_owners_warning(chains)
    warnings = [*warnings, missing] if missing else warnings
    groups: dict[tuple, dict] = {}
    for obj, chain in zip(scanned, chains, strict=True):
        owner = chain[-1]
        owner_key = (owner.kind, owner.namespace, owner.name)
        for finding in obj.findings:
            key = (obj.ref.namespace, owner_key, finding.key())
            group = groups.get(key)
            if group is None:
                group = groups[key] = {"finding": finding, "owner": owner, "chain": chain, "agent": obj.agent,
                                       "pods": set(), "nodes": set(), "origins": set(), "placements": {}}
            else:
                if len(chain) > len(group["chain"]):
                    group["chain"] = chain
                if group["agent"] is None or (obj.agent and obj.agent.strong and not group["agent"].strong):
                    group["agent"] = obj.agent
            if obj.is_pod:
                group["pods"].add(obj.ref.name)
                if obj.node:
                    group["nodes"].add(obj.node)
            group["origins"].add(obj.origin)
            if obj.placement is not None:
                group["placements"][obj.placement] = None  # a dict: each once, in scan order
    items = [
        ReportItem(
            namespace=key[0], owner=g["owner"], owner_chain=g["chain"],
            pods=tuple(sorted(g["pods"])), nodes=tuple(sorted(g["nodes"])), finding=g["finding"],
            origins=tuple(sorted(g["origins"], key=_origin_order)), agent=g["agent"],
            runtimes=tuple(runtimes.get(n, "") for n in sorted(g["nodes"])),
            placements=tuple(g["placements"]),
        )
        for key, g in groups.items()
    ]
    items.sort(key=_item_order)
    return Report(items=tuple(items), warnings=tuple(warnings), complete=complete, context=context,
                  namespace=namespace, scanned=dict(counts or {}))


def merge_reports(reports: Sequence[Report]) -> Report:
    """One report for several contexts: each item keeps its context, and the result is complete
    only if every context's was."""
    items = [replace(item, context=report.context) for report in reports for item in report.items]
    items.sort(key=lambda i: (i.context or "", *_item_order(i)))
    counts: dict[str, int] = {}
    for report in reports:
        for kind, n in report.scanned.items():
            counts[kind] = counts.get(kind, 0) + n
    return Report(items=tuple(items), warnings=tuple(w for r in reports for w in r.warnings),
                  complete=all(r.complete for r in reports), namespace=reports[0].namespace if reports else None,
                  scanned=counts, contexts=tuple(r.context or "" for r in reports))


def _origin_order(origin: Origin) -> tuple:
    return (origin.context or "", origin.file or "", origin.line or 0, origin.document or 0)


def _item_order(item: ReportItem) -> tuple:
    f: Finding = item.finding
    return (item.namespace or "", item.owner.kind, item.owner.name, SEVERITIES.index(f.severity),
            f.container or "", f.host_path or "", f.mount_path or "", f.rule_id, f.evidence or "")


# What `scan` shows unless `--severity` says otherwise: `info` findings are those the plugin itself
# rates as no Docker dependency (node-exporter's read-only `/`), false alarms to an operator.
DEFAULT_SEVERITIES = ("high", "medium", "low")


def parse_severities(value: str | None) -> tuple[str, ...]:
    """`--severity`: a comma list of the severities to show (`high,medium`), or `all`. Raises
    ValueError naming the allowed values."""
    if value is None:
        return DEFAULT_SEVERITIES
    wanted = [v.strip().lower() for v in value.split(",") if v.strip()]
    if wanted == ["all"]:
        return SEVERITIES
    unknown = [v for v in wanted if v not in SEVERITIES]
    if unknown or not wanted:
        raise ValueError(f'invalid --severity "{value}": use a comma list of {", ".join(SEVERITIES)}, or all')
    return tuple(s for s in SEVERITIES if s in wanted)


def filter_severities(report: Report, shown: Collection[str]) -> Report:
    """The report with only the findings of the `shown` severities; `hidden` counts the others."""
    kept = tuple(i for i in report.items if i.finding.severity in shown)
    if len(kept) == len(report.items):
        return report
    hidden = Counter(i.finding.severity for i in report.items if i.finding.severity not in shown)
    return replace(report, items=kept, hidden={s: hidden[s] for s in SEVERITIES if hidden[s]})


def dependency_label(finding: Finding) -> str:
    """What a finding says the workload uses of Docker, in a word or a path: `docker.sock`,
    `/var/run`, `/var/lib/docker/containers`, `DOCKER_HOST`, `docker CLI`."""
    from plugin import paths
    from plugin.rules import MANAGES_DOCKER_SERVICE

    if finding.rule_id == "DS005" and finding.evidence:
        return finding.evidence.split("=", 1)[0]
    if finding.rule_id == "DS006":
        return "docker CLI"
    if finding.rule_id == "DS008":
        return "docker.service" if MANAGES_DOCKER_SERVICE in finding.reason else "node's docker CLI"
    if finding.host_path:
        written = paths.normalize(paths.join(finding.host_path, finding.sub_path))
        if finding.rule_id == "DS001":
            return paths.base_name(written)
        return written
    return finding.rule_name


def workloads(report: Report) -> list[WorkloadSummary]:
    """One summary per (context, namespace, owner), in the order their items come."""
    groups: dict[tuple, list[ReportItem]] = {}
    for item in report.items:
        key = (item.context, item.namespace, item.owner.kind, item.owner.name)
        groups.setdefault(key, []).append(item)
    summaries = []
    for items in groups.values():
        first = items[0]
        worst = min((i.finding for i in items), key=lambda f: SEVERITIES.index(f.severity))
        by_severity = sorted(items, key=lambda i: SEVERITIES.index(i.finding.severity))
        agent = next((i.agent for i in items if i.agent and i.agent.strong), next((i.agent for i in items if i.agent),
                                                                                   None))
        summaries.append(WorkloadSummary(
            context=first.context, namespace=first.namespace, owner=first.owner, agent=agent,
            pods=tuple(sorted({p for i in items for p in i.pods})), severity=worst.severity,
            depends_on=tuple(dict.fromkeys(dependency_label(i.finding) for i in by_severity)),
            rules=tuple(sorted({i.finding.rule_id for i in items})),
        ))
    return summaries


# `--sort-by` names for the columns people sort by, and the JSONPath each stands for.
SORT_FIELDS = {"namespace": ".namespace", "owner": ".owner.name", "kind": ".owner.kind", "severity": ".severity",
               "pods": ".pods", "agent": ".agent.id", "rule": ".rule", "context": ".context"}


def sort_items(report: Report, expression: str) -> Report:
    """`--sort-by`, as kubectl's: a JSONPath into each item of the json document (`.owner.name`,
    `{.namespace}`) or one of SORT_FIELDS' names; severities sort worst first, lists by length,
    and items without the field last. The sort is stable, so ties keep the report's order."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    from plugin.printers.document import item_document

    path = SORT_FIELDS.get(expression.strip().lower(), expression.strip())
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if not path.startswith("."):
        raise ValueError(f'invalid --sort-by "{expression}": use a JSONPath such as .owner.name, or one of '
                         f"{', '.join(SORT_FIELDS)}")
    try:
        compiled = jmespath.compile(path[1:])
    except JMESPathError:
        raise ValueError(f'invalid --sort-by "{expression}": not a JSONPath field expression') from None

    def key(item: ReportItem) -> tuple:
        value = compiled.search(item_document(item))
        if value is None:
            return (1, 0, "")
        if path == ".severity" and value in SEVERITIES:
            return (0, SEVERITIES.index(value), "")
        if isinstance(value, (list, dict)):
            return (0, len(value), "")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (0, value, "")
        return (0, 0, str(value))

    return replace(report, items=tuple(sorted(report.items, key=key)))
