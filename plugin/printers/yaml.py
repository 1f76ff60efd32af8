"""`-o yaml`: the report document as YAML, keys in document order like kubectl's output."""

from __future__ import annotations

from typing import TextIO

import yaml

from plugin.models import Report
from plugin.printers.document import report_document


def print_yaml(report: Report, out: TextIO) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    out.write(yaml.dump(report_document(report), Dumper=dumper, sort_keys=False,
                        default_flow_style=False, allow_unicode=True))
