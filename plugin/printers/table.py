"""kubectl's table style (`kubectl get`): upper-case headers, left-aligned columns separated by
three spaces, `<none>` for an empty cell, no trailing spaces. `tabulate` lays out the columns;
this module only decides which columns to show."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from tabulate import DataRow, TableFormat, tabulate

from plugin.models import Finding, Report, ReportItem
from plugin.printers import PrintOptions
from plugin.printers.escape import terminal_text

NONE = "<none>"
UNKNOWN = "<unknown>"  # an image the catalogue does not know: never guessed
# kubectl's printers use a tabwriter with padding 3 and no borders.
_KUBECTL = TableFormat(lineabove=None, linebelowheader=None, linebetweenrows=None, linebelow=None,
                       headerrow=DataRow("", "   ", ""), datarow=DataRow("", "   ", ""),
                       padding=0, with_header_hide=None)


def owner_cell(item: ReportItem, wide: bool = False) -> str:
    return item.owner.describe_marked() if wide else item.owner.describe()


def _cell(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or NONE
    return NONE if value is None or value == "" else str(value)


def shown_host_path(f: Finding) -> str | None:
    """The host path the container sees: the volume's path with the subPath applied."""
    if f.host_path and f.sub_path:
        return f.host_path.rstrip("/") + "/" + f.sub_path
    return f.host_path


def _scope_headers(report: Report, options: PrintOptions) -> list[str]:
    """CONTEXT (several clusters) and NAMESPACE (several namespaces) lead the columns."""
    return (["CONTEXT"] if report.contexts else []) + (["NAMESPACE"] if options.show_namespace else [])


def _scope(report: Report, options: PrintOptions, context: str | None, namespace: str | None) -> list[object]:
    scope: list[object] = []
    if report.contexts:
        scope.append(context)
    if options.show_namespace:
        scope.append(namespace)
    return scope


def _scoped(report: Report, options: PrintOptions, headers: list[str],
            cells: Callable[[ReportItem], list[object]]) -> tuple[list[str], list[list[str]]]:
    """One row per report item, prefixed with its context and namespace columns."""
    table = [[_cell(v) for v in _scope(report, options, item.context, item.namespace) + cells(item)]
             for item in report.items]
    return _scope_headers(report, options) + headers, table


def runtime_counts(runtimes: tuple[str, ...]) -> str:
    """`docker:2,containerd:1`: how many of a finding's nodes run each container runtime."""
    counts: dict[str, int] = {}
    for runtime in runtimes:
        name = runtime.split("://", 1)[0] if runtime else UNKNOWN
        counts[name] = counts.get(name, 0) + 1
    return ",".join(f"{name}:{n}" for name, n in counts.items())


def _sources(item: ReportItem) -> list[str]:
    """Each place the finding was read, once: `dump.json:12,40`, not the file once per object."""
    by_file: dict[str, list[str]] = {}
    for origin in item.origins:
        if origin.file is None:
            continue
        where = str(origin.line) if origin.line is not None else (f"#{origin.document}" if origin.document is not None
                                                                  else "")
        positions = by_file.setdefault(origin.file, [])
        if where and where not in positions:
            positions.append(where)
    return [f"{name}:{','.join(positions)}" if positions else name for name, positions in by_file.items()]


def _templates(item: ReportItem) -> list[str]:
    """The pod templates of a custom resource the finding is in: `spec.templates[1]`."""
    return list(dict.fromkeys(o.path for o in item.origins if o.path is not None))


def workload_rows(report: Report, options: PrintOptions) -> tuple[list[str], list[list[str]]]:
    """The default table: one row per workload, as kubectl prints one row per object."""
    from plugin.report import workloads

    headers = ["OWNER", "AGENT", "PODS", "SEVERITY", "DEPENDS-ON"]
    table = []
    for w in workloads(report):
        agent = w.agent.describe() if w.agent else UNKNOWN
        cells: list[object] = [w.owner.describe(), agent, str(len(w.pods)), w.severity, ", ".join(w.depends_on)]
        table.append([_cell(v) for v in _scope(report, options, w.context, w.namespace) + cells])
    return _scope_headers(report, options) + headers, table


def rows(report: Report, options: PrintOptions, wide: bool) -> tuple[list[str], list[list[str]]]:
    """The table of `scan`: one row per workload, or with `-o wide` one row per finding."""
    if not wide:
        return workload_rows(report, options)
    # TEMPLATE only when a custom resource's pod templates were read: other reports keep their columns.
    with_templates = any(o.path is not None for item in report.items for o in item.origins)
    headers = ["OWNER", "AGENT", "PODS", "CONTAINER", "HOST-PATH", "MOUNT-PATH", "RULE", "SEVERITY", "EVIDENCE",
               "POD-NAMES", "NODES", "RUNTIMES"] + (["TEMPLATE"] if with_templates else []) \
        + (["SOURCE"] if options.show_sources else [])

    def cells(item: ReportItem) -> list[object]:
        f = item.finding
        agent = item.agent.describe() if item.agent else UNKNOWN
        row: list[object] = [owner_cell(item, wide), agent, str(len(item.pods)), f.container, shown_host_path(f),
                             f.mount_path, f.rule_name, f.severity, f.evidence, item.pods, item.nodes,
                             runtime_counts(item.runtimes)]
        if with_templates:
            row.append(_templates(item))
        if options.show_sources:
            row.append(_sources(item))
        return row

    return _scoped(report, options, headers, cells)


def mount_rows(report: Report, options: PrintOptions) -> tuple[list[str], list[list[str]]]:
    """Columns of `mounts`: every hostPath with its type and whether it is read-only."""
    headers = ["OWNER", "PODS", "CONTAINER", "VOLUME", "HOST-PATH", "TYPE", "MOUNT-PATH", "READ-ONLY"]

    def cells(item: ReportItem) -> list[object]:
        f = item.finding
        return [owner_cell(item), str(len(item.pods)), f.container, f.volume, shown_host_path(f),
                f.host_path_type, f.mount_path, str(f.read_only).lower() if f.container else None]

    return _scoped(report, options, headers, cells)


def print_mounts(report: Report, out: TextIO, options: PrintOptions) -> None:
    if report.items:
        headers, table = mount_rows(report, options)
        out.write(format_table(headers, table, options.no_headers) + "\n")


def format_table(headers: list[str], table: list[list[str]], no_headers: bool = False) -> str:
    """Every table the plugin prints (findings, mounts, nodes, summary) is laid out here, so every
    cell is escaped here: a line break or escape sequence in a value cannot add or forge a row."""
    # The header goes in as an ordinary first row: tabulate pads real headers by two more
    # spaces, which kubectl does not.
    lines = table if no_headers else [headers, *table]
    text = tabulate([[terminal_text(cell) for cell in line] for line in lines], tablefmt=_KUBECTL,
                    disable_numparse=True, stralign="left")
    return "\n".join(line.rstrip() for line in text.splitlines())


def print_table(report: Report, out: TextIO, options: PrintOptions, wide: bool) -> None:
    if not report.items:
        return
    headers, table = rows(report, options, wide)
    out.write(format_table(headers, table, options.no_headers) + "\n")
