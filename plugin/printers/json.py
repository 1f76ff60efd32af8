"""`-o json`: the report document (and every other document: explain, nodes, summary), indented
like kubectl's JSON output. Non-ASCII and control characters are `\\uXXXX` escapes: exact values
that no terminal interprets."""

from __future__ import annotations

import json
from typing import Any, TextIO

from plugin.models import Report
from plugin.printers.document import report_document


def dump_json(document: Any, out: TextIO) -> None:
    out.write(json.dumps(document, indent=4) + "\n")


def print_json(report: Report, out: TextIO) -> None:
    dump_json(report_document(report), out)
