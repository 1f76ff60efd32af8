"""Label and field selectors as the API server parses them from `labelSelector` and `fieldSelector`.

A selector compiles once per request into a predicate over an object's labels or selectable
fields; a syntax error or an unknown field becomes `SelectorError`, which the server answers
with 400 BadRequest and the message the real server uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from tests.apiserver.resources import Resource

Predicate = Callable[[Mapping[str, str]], bool]

# A label key: optional DNS-subdomain prefix and a name; values are the name part only.
_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_EQUALITY = re.compile(rf"\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*")
_SET = re.compile(rf"\s*({_KEY})\s+(in|notin)\s*\(([^()]*)\)\s*")
_EXISTS = re.compile(rf"\s*(!?)\s*({_KEY})\s*")
_SET_VALUE = re.compile(_VALUE)


class SelectorError(ValueError):
    """A selector the real server would refuse; the text is the server's message."""


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `in (...)` value sets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _requirement(text: str) -> Predicate:
    if m := _SET.fullmatch(text):
        key, op = m.group(1), m.group(2)
        values = frozenset(v.strip() for v in m.group(3).split(","))
        if not all(_SET_VALUE.fullmatch(v) for v in values):
            raise SelectorError(f"unable to parse requirement: invalid label value in {text.strip()!r}")
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if m := _EQUALITY.fullmatch(text):
        key, op, value = m.group(1), m.group(2), m.group(3)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _EXISTS.fullmatch(text):
        negated, key = m.group(1) == "!", m.group(2)
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {text.strip()!r}")


def parse_label_selector(text: str) -> Predicate | None:
    """None for an empty selector (everything matches), else a predicate over labels."""
    if not text.strip():
        return None
    requirements = [_requirement(part) for part in _split_top_level(text)]
    return lambda labels: all(req(labels) for req in requirements)


def parse_field_selector(text: str, resource: Resource) -> Callable[[Sequence[str]], bool] | None:
    """None for an empty selector, else a predicate over the object's selectable field values,
    given in the order of `resource.fields` (the store keeps them as a tuple to save memory)."""
    if not text.strip():
        return None
    index = {name: i for i, name in enumerate(resource.fields)}
    checks: list[tuple[int, bool, str]] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([^=!\s]+)\s*(==|!=|=)\s*(.*?)\s*", part)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        label, op, value = m.groups()
        if label not in resource.fields:
            raise SelectorError(resource.field_error.format(label=label))
        checks.append((index[label], op == "!=", value))

    def matches(values: Sequence[str]) -> bool:
        return all((values[i] == value) != negated for i, negated, value in checks)

    return matches
