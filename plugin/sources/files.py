"""The offline source: Kubernetes objects from manifest files, folders, stdin and cluster dumps.

Reads YAML (multi-document, `helm template` output) and JSON, flattens `List` objects (what
`kubectl get ... -o json` prints), and remembers the file, line and document index of each
object. Loading is safe-only (no Python tags). A file that cannot be read or parsed becomes a
`FileProblem` naming the file and position; every other file is still read.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from plugin.models import Origin, SourceObject

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a manifest is never this big; refuse rather than exhaust memory


@dataclass(frozen=True)
class FileProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class FileScan:
    objects: list[SourceObject]
    problems: list[FileProblem]  # the result is incomplete when there is any
    skipped: list[FileProblem]  # documents that are not Kubernetes objects (informational)


def expand_paths(paths: list[str]) -> tuple[list[str], list[FileProblem]]:
    """Files to read, in a stable order: a file as given, a folder walked recursively for
    .yaml/.yml/.json files (links to folders are not followed, so loops cannot happen)."""
    files: list[str] = []
    problems: list[FileProblem] = []
    for path in paths:
        if path == "-":
            files.append(path)
        elif os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    full = os.path.join(root, name)
                    if name.endswith(MANIFEST_SUFFIXES) and os.path.isfile(full):
                        files.append(full)
        elif os.path.isfile(path):
            files.append(path)
        elif os.path.lexists(path):
            problems.append(FileProblem(path, "not a regular file or folder (a broken or looping link?)"))
        else:
            problems.append(FileProblem(path, "no such file or directory"))
    return files, problems


def read_manifests(paths: list[str]) -> FileScan:
    files, problems = expand_paths(paths)
    scan = FileScan([], problems, [])
    for path in files:
        display = "<stdin>" if path == "-" else path
        try:
            text = _read_text(path)
            for obj, line, document in _documents(text, display):
                _add(scan, obj, display, line, document)
        except _ParseError as err:
            scan.problems.append(FileProblem(display, err.message))
    return scan


class _ParseError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read_text(path: str) -> str:
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise _ParseError(err.strerror or str(err)) from None
    if len(data) > MAX_FILE_BYTES:
        raise _ParseError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, not read")
    if b"\0" in data[:8192]:
        raise _ParseError("binary file, not a manifest")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _ParseError(f"not UTF-8 text (byte {err.start})") from None


def _documents(text: str, display: str) -> Iterator[tuple[Any, int | None, int]]:
    """(document, its first line, index) for every document; List items are flattened."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as err:
            raise _ParseError(f"line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}") from None
        yield from _flatten(value, 1, 0, None)
        return
    yield from _yaml_documents(text)


def _flatten(value: Any, line: int | None, document: int, item_lines: list[int] | None
             ) -> Iterator[tuple[Any, int | None, int]]:
    if isinstance(value, dict) and isinstance(value.get("kind"), str) and value["kind"].endswith("List") \
            and isinstance(value.get("items"), list):
        for index, item in enumerate(value["items"]):
            item_line = item_lines[index] if item_lines and index < len(item_lines) else line
            yield item, item_line, index
    else:
        yield value, line, document


def _yaml_documents(text: str) -> Iterator[tuple[Any, int | None, int]]:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        document = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            value = loader.construct_document(node)
            yield from _flatten(value, node.start_mark.line + 1, document, _item_lines(node))
            document += 1
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _ParseError(f"{where}invalid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise _ParseError(f"invalid YAML: {err}") from None
    finally:
        loader.dispose()


def _item_lines(node: Any) -> list[int] | None:
    """Lines of the `items` of a YAML List, so each flattened object keeps its own line."""
    for key, value in getattr(node, "value", []) if node.id == "mapping" else []:
        if getattr(key, "value", None) == "items" and value.id == "sequence":
            return [item.start_mark.line + 1 for item in value.value]
    return None


def _add(scan: FileScan, obj: Any, display: str, line: int | None, document: int) -> None:
    if obj is None:
        return  # an empty document, e.g. a trailing `---`
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str) \
            or not isinstance(obj.get("apiVersion"), str):
        where = f"line {line}" if line else f"document {document}"
        scan.skipped.append(FileProblem(display, f"{where}: not a Kubernetes object (no apiVersion and kind)"))
        return
    scan.objects.append(SourceObject(obj["kind"], obj["apiVersion"], obj,
                                     Origin(file=display, line=line, document=document)))
