"""Printers turn a finished `Report` into text; they decide nothing. One module per format, all
with the same signature, chosen by `-o` from `PRINTERS`. Human formats pass every value through
`escape.terminal_text`; json, yaml and sarif keep exact values."""

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
    # The report of `mounts`: every hostPath, not Docker dependencies. Tables show the mount
    # columns, markdown and sarif say "hostPath mounts" and give no migration steps.
    listing: bool = False


Printer = Callable[[Report, TextIO, PrintOptions], None]


def _table(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import table

    if options.listing:
        table.print_mounts(report, out, options)
    else:
        table.print_table(report, out, options, wide=False)


def _wide(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import table

    if options.listing:  # the mount columns are all there is: wide is the same table
        table.print_mounts(report, out, options)
    else:
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


def _sarif(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import sarif

    sarif.print_sarif(report, out, listing=options.listing)


def _markdown(report: Report, out: TextIO, options: PrintOptions) -> None:
    from plugin.printers import markdown

    markdown.print_markdown(report, out, listing=options.listing)


# Imports are deferred so that a run pays only for the format it prints. `table` is the default
# (kubectl has no `-o table`, but our --help names the default so, and scripts may say it).
PRINTERS: dict[str, Printer] = {
    "": _table, "table": _table, "wide": _wide, "json": _json, "yaml": _yaml, "name": _name, "sarif": _sarif,
    "markdown": _markdown,
}
JMESPATH_PREFIX = "jmespath="


def jmespath_printer(expression: str) -> Printer:
    """`-o jmespath=EXPR`: the expression applied to the json document (the engine the plugin
    reads pods with). Strings print as they are, anything else as JSON. A bad expression is a
    usage error before anything is read."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    from plugin.errors import UsageError

    try:
        compiled = jmespath.compile(expression)
    except JMESPathError as err:
        raise UsageError(f'invalid jmespath expression "{expression}": {str(err).splitlines()[0]}') from None

    def print_jmespath(report: Report, out: TextIO, options: PrintOptions) -> None:
        import json

        from plugin.printers.document import report_document

        value = compiled.search(report_document(report))
        out.write((value if isinstance(value, str) else json.dumps(value, indent=4)) + "\n")

    return print_jmespath
TABLE_FORMATS = ("", "table", "wide", "name")  # formats after which "No resources found" goes to stderr


def allowed_formats() -> list[str]:
    return sorted(f for f in PRINTERS if f) + [JMESPATH_PREFIX + "EXPR"]


def printer_for(output: str) -> Printer:
    """The printer of an `-o` value, or a usage error listing the allowed formats."""
    if output.startswith(JMESPATH_PREFIX):
        return jmespath_printer(output[len(JMESPATH_PREFIX):])
    if output in PRINTERS:
        return PRINTERS[output]
    from plugin.errors import UsageError

    raise UsageError(f'unable to match a printer suitable for the output format "{output}", '
                     f"allowed formats are: {','.join(allowed_formats())}")
