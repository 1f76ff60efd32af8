"""Checks for the namespaces and names that become segments of a request's URL, worded as kubectl
words them, so that `-n ..` or `explain pod ..` is refused instead of reaching another URL
(`-n ..` would list every namespace's pods, `explain pod ..` would fetch the namespace).

Names follow client-go's path-segment rules (not `.` or `..`, no `/` or `%`, as kubectl checks
them before sending); namespaces also follow the API server's rule for them, a DNS-1123 label,
since no other namespace can exist.
"""

from __future__ import annotations

import json
import re

from plugin.errors import PluginError

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_LABEL_MAX = 63
# apimachinery's message for the regex (the double space is theirs).
_DNS1123_LABEL_MESSAGE = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                          "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
                          "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")


def path_segment_problems(value: str) -> list[str]:
    """Why `value` cannot be one segment of a URL path (apimachinery's IsValidPathSegmentName)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def namespace_problems(value: str) -> list[str]:
    """Why `value` cannot be a namespace: not a path segment, else not a DNS-1123 label."""
    problems = path_segment_problems(value)
    if problems:
        return problems
    if len(value) > _DNS1123_LABEL_MAX:
        problems.append(f"must be no more than {_DNS1123_LABEL_MAX} characters")
    if not _DNS1123_LABEL.fullmatch(value):
        problems.append(_DNS1123_LABEL_MESSAGE)
    return problems


def check_namespace(value: str) -> str:
    """`value`, or a PluginError worded as kubectl's (`invalid namespace "..": [may not be '..']`)."""
    problems = namespace_problems(value)
    if problems:
        raise PluginError(f"invalid namespace {_quoted(value)}: [{' '.join(problems)}]")
    return value


def check_name(value: str) -> str:
    """`value`, or a PluginError worded as kubectl's (`error: invalid resource name "..": [...]`)."""
    problems = path_segment_problems(value)
    if problems:
        raise PluginError(f"error: invalid resource name {_quoted(value)}: [{' '.join(problems)}]")
    return value


def _quoted(value: str) -> str:
    # Like Go's %q: quoted, and one line with every control character escaped, whatever it holds.
    return json.dumps(value)
