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
_KEY = re.compile(r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")

# The tokens of apimachinery's labels lexer (pkg/labels/selector.go): its parser is ported below so
# that a selector is accepted, refused and worded exactly as by the real server.
_SPECIAL = frozenset("=!(),><")
_SYMBOLS = {")": ")", ",": ",", "!": "!", "==": "==", "=": "=", ">": ">", "<": "<", "!=": "!=", "(": "("}
_KEYWORDS = {"in": "in", "notin": "notin"}
_IDENTIFIER, _END = "identifier", "end"
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"


class SelectorError(ValueError):
    """A selector the real server would refuse; the text is the server's message."""


def _lex(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            tokens.append((_END, ""))
            return tokens
        if text[i] in _SPECIAL:
            # the longest run of special symbols that is still a token ("==" before "=")
            last: tuple[str, str] | None = None
            j = i
            while j < n and text[j] in _SPECIAL:
                if text[i:j + 1] in _SYMBOLS:
                    last = (_SYMBOLS[text[i:j + 1]], text[i:j + 1])
                elif last is not None:
                    break
                j += 1
            if last is None:
                raise SelectorError(f"unable to parse requirement: error expected: keyword found '{text[i:j]}'")
            tokens.append(last)
            i += len(last[1])
            continue
        j = i
        while j < n and text[j] not in _SPECIAL and text[j] not in " \t\r\n":
            j += 1
        word = text[i:j]
        tokens.append((_KEYWORDS.get(word, _IDENTIFIER), word))
        i = j


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.position = 0

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        token, literal = self.tokens[self.position]
        if values and token in ("in", "notin"):
            token = _IDENTIFIER  # "in" and "notin" are values too
        return token, literal

    def consume(self, values: bool = True) -> tuple[str, str]:
        found = self.lookahead(values)
        self.position += 1
        return found

    def parse(self) -> list[Predicate]:
        requirements: list[Predicate] = []
        while True:
            token, literal = self.lookahead()
            if token in (_IDENTIFIER, "!"):
                try:
                    requirements.append(self.requirement())
                except SelectorError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                token, literal = self.consume()
                if token == _END:
                    return requirements
                if token == ",":
                    after, after_literal = self.lookahead()
                    if after not in (_IDENTIFIER, "!"):
                        raise SelectorError(f"found '{after_literal}', expected: identifier after ','")
                    continue
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            if token == _END:
                return requirements
            raise SelectorError(f"found '{literal}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Predicate:
        token, key = self.consume()
        negated = token == "!"
        if negated:
            token, key = self.consume()
        if token != _IDENTIFIER:
            raise SelectorError(f"found '{key}', expected: identifier")
        if not _KEY.fullmatch(key) or len(key.rpartition("/")[2]) > 63:
            raise SelectorError(f'<nil>: Invalid value: "{key}": invalid label key')
        if negated or self.lookahead()[0] in (_END, ","):
            return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
        token, literal = self.consume(values=False)
        if token in ("in", "notin"):
            values = self.values()
            if token == "in":
                return lambda labels: labels.get(key) in values
            return lambda labels: labels.get(key) not in values
        if token not in ("=", "==", "!=", ">", "<"):
            raise SelectorError(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        value = self.exact_value()
        if token == "!=":
            return lambda labels: labels.get(key) != value
        if token in (">", "<"):
            if not re.fullmatch(r"-?\d+", value):
                raise SelectorError(f'values[0]: Invalid value: "{value}": for \'Gt\', \'Lt\' operators, '
                                    "the value must be an integer")
            bound = int(value)

            def compare(labels: Mapping[str, str]) -> bool:
                found = labels.get(key)
                if found is None or not re.fullmatch(r"-?\d+", found):
                    return False
                return int(found) > bound if token == ">" else int(found) < bound

            return compare
        return lambda labels: labels.get(key) == value

    def exact_value(self) -> str:
        token, literal = self.lookahead()
        if token in (_END, ","):
            return ""
        token, literal = self.consume()
        if token != _IDENTIFIER:
            raise SelectorError(f"found '{literal}', expected: identifier")
        self.check_value(literal)
        return literal

    def values(self) -> frozenset[str]:
        token, literal = self.consume()
        if token != "(":
            raise SelectorError(f"found '{literal}' expected: '('")
        token, literal = self.lookahead()
        if token == ")":
            self.consume()
            return frozenset({""})
        if token not in (_IDENTIFIER, ","):
            raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        found: set[str] = set()
        while True:
            token, literal = self.consume()
            if token == _IDENTIFIER:
                self.check_value(literal)
                found.add(literal)
                after, after_literal = self.lookahead()
                if after == ",":
                    continue
                if after == ")":
                    break
                raise SelectorError(f"found '{after_literal}', expected: ',' or ')'")
            if token == ",":
                if not found:
                    found.add("")
                after, _ = self.lookahead()
                if after == ")":
                    found.add("")
                    break
                if after == ",":
                    self.consume()
                    found.add("")
                continue
            raise SelectorError(f"found '{literal}', expected: ',', or identifier")
        token, literal = self.consume()
        if token != ")":
            raise SelectorError(f"found '{literal}', expected: ')'")
        return frozenset(found)

    @staticmethod
    def check_value(value: str) -> None:
        if len(value) > 63 or not _VALUE.fullmatch(value):
            raise SelectorError(f'values[0]: Invalid value: "{value}": invalid label value')


def parse_label_selector(text: str) -> Predicate | None:
    """None for an empty selector (everything matches), else a predicate over labels."""
    if not text.strip():
        return None
    requirements = _Parser(text).parse()
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
