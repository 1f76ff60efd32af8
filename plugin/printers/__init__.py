"""Printers turn a finished `Report` into text; they decide nothing. One module per format, all
with the same signature, chosen by `-o` from `PRINTERS`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from plugin.models import Report


@dataclass(frozen=True)
class PrintOptions:
    no_headers: bool = False
    show_namespace: bool = True  # kubectl shows NAMESPACE when more than one namespace was read
    show_sources: bool = False  # file:line column in wide output (offline scans)


Printer = Callable[[Report, TextIO, PrintOptions], None]


def _table(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import table

    table.print_table(report, out, options, wide=False)


def _wide(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import table

    table.print_table(report, out, options, wide=True)


def _json(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import json

    json.print_json(report, out)


def _yaml(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import yaml

    yaml.print_yaml(report, out)


def _name(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import name

    name.print_names(report, out)


# Imports are deferred so that a run pays only for the format it prints.
PRINTERS: dict[str, Printer] = {
    "": _table, "wide": _wide, "json": _json, "yaml": _yaml, "name": _name,
}
TABLE_FORMATS = ("", "wide", "name")  # formats after which "No resources found" goes to stderr


def allowed_formats() -> list[str]:
    return sorted(f for f in PRINTERS if f)
