"""`-o json`: the report document, indented like kubectl's JSON output."""

from __future__ import annotations

import json
from typing import TextIO

from plugin.models import Report
from plugin.printers.document import report_document


def print_json(report: Report, out: TextIO) -> None:
    out.write(json.dumps(report_document(report), indent=4) + "\n")
