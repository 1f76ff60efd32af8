"""`-o yaml`: the report document (and every other document: explain, nodes, summary) as YAML,
keys in document order like kubectl's output.

Values are exact: a string holding a control character, DEL, a C1 control, a bidi control or a
line separator is written double-quoted, control characters and separators as YAML escapes
(`"\\e"`, `"\\N"`, `"\\L"`), so it reads back as the same string and cannot end the scalar or
start a new key. PyYAML's pure-Python emitter would otherwise write U+0085 (NEL) raw inside a
single-quoted scalar, where a reader folds it into a space. Other non-ASCII text, bidi controls
included, is written as it is (YAML calls it printable), as kubectl does; json escapes all of it.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

import yaml

from plugin.models import Report
from plugin.printers.document import report_document

_NEEDS_QUOTES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _NEEDS_QUOTES.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


def dumper_class(base: Any) -> Any:
    """A dumper on `base` (libyaml's CSafeDumper when installed, else PyYAML's SafeDumper) that
    double-quotes the strings above."""
    dumper: Any = type("DocumentDumper", (base,), {})
    dumper.add_representer(str, _represent_str)
    return dumper


_DUMPER = dumper_class(getattr(yaml, "CSafeDumper", yaml.SafeDumper))


def dump_yaml(document: Any, out: TextIO, dumper: Any = _DUMPER) -> None:
    out.write(yaml.dump(document, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True))


def print_yaml(report: Report, out: TextIO) -> None:
    dump_yaml(report_document(report), out)
