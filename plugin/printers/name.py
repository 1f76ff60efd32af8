"""`-o name`: each owning workload once, as kubectl prints names (`daemonset.apps/datadog`)."""

from __future__ import annotations

from typing import TextIO

from plugin.models import ObjectRef, Report
from plugin.printers.escape import terminal_text


def qualified_name(ref: ObjectRef) -> str:
    """kubectl's `-o name` form: lower-case kind, then `.group` when the API group is not core."""
    group = ref.api_version.split("/", 1)[0] if "/" in ref.api_version else ""
    return f"{ref.kind.lower()}.{group}/{ref.name}" if group else f"{ref.kind.lower()}/{ref.name}"


def print_names(report: Report, out: TextIO) -> None:
    seen: set[tuple[str | None, str]] = set()
    for item in report.items:
        name = qualified_name(item.owner)
        if (item.namespace, name) not in seen:
            seen.add((item.namespace, name))
            out.write(terminal_text(name) + "\n")
