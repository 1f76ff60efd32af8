"""The offline source: Kubernetes objects from manifest files, folders, pipes, stdin and dumps.

Reads YAML (multi-document, `helm template` output) and JSON, flattens `List` objects (what
`kubectl get ... -o json` prints), and remembers the file, line, document index (and List item
index) of each object. Loading is safe-only (no Python tags). A path given that does not exist
is an error, as in kubectl, before anything is read. A file that cannot be read becomes a
`FileProblem` naming it; a YAML document that cannot be parsed becomes one naming its line, and
reading resumes at the next document boundary (`---`), so one bad document hides nothing else.
Objects are yielded as they are parsed (`stream_manifests`), so a scan holds only what it keeps
of them; `read_manifests` lists them all for the callers that need them together.

Input may be hostile (a repository's manifests, a pasted dump), so memory and time stay bounded
whatever a file holds: more than 64 MiB is not read (from a pipe or a device too); a file may
build at most 8,000,000 nodes, counted as the parser builds them (a cheap upper bound from the
syntax skips the count for all but the biggest files); a YAML document whose aliases would
expand it by more than 1,000,000 nodes (the "billion laughs"), or nest it more than 1,000 levels
deep, or that contains itself, is refused with the rest of its file still read; nesting beyond
what the parsers can handle is a message, not a crash. The alias check walks the parsed node
graph only when a document contains both `&` and `*`, so ordinary manifests keep the C loader's
full speed. Repeated notes about one file are summarized after the first few.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from plugin.errors import PluginError
from plugin.log_config import HELM_VALUES_KIND, is_helm_values
from plugin.models import Origin, SourceObject
from plugin.safe_yaml import children, measure_expansion

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a manifest is never this big; refuse rather than exhaust memory
# Nodes a file may build. A realistic 64 MiB dump holds about 5,500,000; 64 MiB of `[a,a,a,...]`
# holds 32,000,000 and would need some 10 GB to parse.
MAX_NODES = 8_000_000
# Nodes aliases may add to one YAML document once expanded, and how deep they may nest it
# (1,000 is also libyaml's own limit for nesting written out).
MAX_ALIAS_NODES = 1_000_000
MAX_DEPTH = 1_000
# Plain scalars whose YAML type the loader remembers (see `_manifest_loader`), and the longest one.
MAX_REMEMBERED_SCALARS = 50_000
MAX_REMEMBERED_SCALAR = 256
# Notes of one kind about one file shown in full; the others are counted in one more note.
SHOWN_PER_FILE = 3


class PathError(PluginError):
    """A path given with -f that kubectl refuses before reading anything (exit 1)."""


@dataclass(frozen=True)
class FileProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class FileScan:
    objects: list[SourceObject] = field(default_factory=list)  # stays empty when the objects are streamed
    problems: list[FileProblem] = field(default_factory=list)  # the result is incomplete when there is any
    # informational: documents that are not Kubernetes objects, linked folders
    skipped: list[FileProblem] = field(default_factory=list)


def expand_paths(paths: list[str], skipped: list[FileProblem] | None = None
                 ) -> tuple[list[str], list[FileProblem]]:
    """Files to read, in a stable order: a file, a pipe or a device as given (`<(cmd)`,
    `/dev/stdin`), a folder walked recursively for .yaml/.yml/.json files. Links to folders inside
    a folder are not followed, so loops cannot happen; each is noted in `skipped`. A manifest name
    inside a folder that leads nowhere (a broken or looping link) is a problem: the files it was
    meant to hold are missing from the result.

    A path given that does not exist, or cannot be looked at, raises `PathError` with kubectl's
    words, before any file is read."""
    files: list[str] = []
    problems: list[FileProblem] = []
    for path in paths:
        if path == "-":
            files.append(path)
            continue
        mode = _mode(path)
        if stat.S_ISDIR(mode):
            for root, dirs, names in os.walk(path, onerror=lambda err: problems.append(_unreadable_folder(err))):
                dirs.sort()
                for name in dirs:
                    full = os.path.join(root, name)
                    if skipped is not None and os.path.islink(full):
                        skipped.append(FileProblem(full, "a link to a folder (links inside folders are not "
                                                         "followed)"))
                for name in sorted(names):
                    full = os.path.join(root, name)
                    if not name.endswith(MANIFEST_SUFFIXES):
                        continue
                    if os.path.isfile(full):
                        files.append(full)
                    elif os.path.islink(full) and not os.path.exists(full):
                        problems.append(FileProblem(full, "a broken or looping link, not read"))
        elif stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
            files.append(path)
        else:
            problems.append(FileProblem(path, "not a file, folder, pipe or device (a socket?), not read"))
    return files, problems


def _mode(path: str) -> int:
    """The mode of what `path` leads to, or kubectl's error (it stats every -f path first)."""
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        raise PathError(f'error: the path "{path}" does not exist') from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise PathError(f'error: the path "{path}" cannot be accessed: stat {path}: '
                        f"{reason[:1].lower()}{reason[1:]}") from None


def _unreadable_folder(err: OSError) -> FileProblem:
    # os.walk would skip a folder it cannot list without a word; its manifests would be missing.
    return FileProblem(str(err.filename), f"{(err.strerror or str(err)).lower()}, folder not read")


def read_manifests(paths: list[str]) -> FileScan:
    """Every object of the input in one list, for a caller that needs them all at once (explain
    looks up its target, the owners and the pods in the same objects)."""
    scan = FileScan()
    scan.objects.extend(stream_manifests(paths, scan))
    return scan


def stream_manifests(paths: list[str], scan: FileScan) -> Iterator[SourceObject]:
    """The objects of the input, file by file, each yielded as soon as its document is parsed;
    problems and skipped documents are added to `scan` (its `objects` are left alone).

    A scan keeps only the objects with findings: holding every parsed object in a list made the
    garbage collector rescan an ever larger heap, which nearly doubled the reading time."""
    files, problems = expand_paths(paths, scan.skipped)
    scan.problems.extend(problems)
    for path in files:
        display = "<stdin>" if path == "-" else path
        refused = _Notes(display, scan.problems, "documents that could not be read")
        skipped = _Notes(display, scan.skipped, "documents that are not Kubernetes objects")
        try:
            text = _read_text(path)
            for found in _documents(text, display):
                if isinstance(found, _Refused):
                    refused.add(found.message)
                    continue
                source = _source_object(*found, display=display, skipped=skipped, refused=refused)
                if source is not None:
                    yield source
        except _ParseError as err:
            refused.add(err.message)
        except RecursionError:
            # The pure-Python YAML parser and json recurse once per level.
            refused.add("nested too deeply to read (deeper than the parser's recursion limit), not read")
        except MemoryError:
            refused.add("ran out of memory while parsing, not read")
        finally:
            refused.close()
            skipped.close()


class _Notes:
    """The notes of one kind about one file: the first `SHOWN_PER_FILE` in full, then one that
    counts the rest (a file of a million `{}` documents must not print a million lines)."""

    def __init__(self, display: str, into: list[FileProblem], what: str) -> None:
        self.display, self.into, self.what, self.hidden = display, into, what, 0
        self.shown = 0

    def add(self, message: str) -> None:
        if self.shown < SHOWN_PER_FILE:
            self.into.append(FileProblem(self.display, message))
            self.shown += 1
        else:
            self.hidden += 1

    def close(self) -> None:
        if self.hidden:
            what = self.what if self.hidden > 1 else self.what.replace("documents", "document").replace(" are ", " is ")
            self.into.append(FileProblem(self.display, f"… and {self.hidden:,} more {what}"))
            self.hidden = 0


class _ParseError(Exception):
    """The rest of the file cannot be read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Refused:
    """One document left out; the documents after it are still read."""

    message: str
    syntax: bool = False  # the text could not be parsed (not a value that could not be built)


Document = tuple[Any, "int | None", int, "int | None"]  # (value, first line, document index, List item index)


def _read_text(path: str) -> str:
    too_large = _ParseError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, not read")
    try:
        if path == "-":
            data = _read_bounded(sys.stdin.buffer)
        else:
            with open(path, "rb") as handle:
                status = os.fstat(handle.fileno())
                if not stat.S_ISREG(status.st_mode):  # a pipe or a device (`<(cmd)`, /dev/stdin): a stream
                    data = _read_bounded(handle)
                elif status.st_size > MAX_FILE_BYTES:
                    raise too_large  # without reading it
                else:
                    size = status.st_size
                    # read(n) allocates n bytes up front: ask for what the file holds, not the limit.
                    data = handle.read(size + 1) if size else _read_bounded(handle)
                    if len(data) > size:  # it grew while we read
                        data += _read_bounded(handle, MAX_FILE_BYTES + 1 - len(data))
    except OSError as err:
        raise _ParseError(err.strerror or str(err)) from None
    if len(data) > MAX_FILE_BYTES:
        raise too_large
    if b"\0" in data[:8192]:
        raise _ParseError("binary file, not a manifest")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _ParseError(f"not UTF-8 text (byte {err.start})") from None


def _read_bounded(stream: Any, limit: int = MAX_FILE_BYTES + 1) -> bytes:
    """At most `limit` bytes of a stream of unknown length (a pipe), a chunk at a time."""
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        chunk = stream.read(min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _documents(text: str, display: str) -> Iterator[Document | _Refused]:
    """(document, its first line, index, List item index) for every document; List items are
    flattened."""
    is_json = text.lstrip().startswith(("{", "["))
    if is_json:
        _check_json_size(text)
        try:
            value, item_lines = _json_with_item_lines(text)
        except json.JSONDecodeError as err:
            problem = f"line {err.lineno}, column {err.colno}: invalid JSON: {err.msg}"
        except ValueError as err:  # a number of more than 4,300 digits
            raise _ParseError(f"{_long_number_line(text)}invalid JSON: {_first_sentence(err)}") from None
        else:
            yield from _flatten(value, 1, 0, item_lines)
            return
        if display.endswith(".json"):
            raise _ParseError(problem)
        # A .yaml file (or stdin) opening with a flow collection, `{...}` then `---`, as some
        # generators write: YAML is a superset. If its first document is neither, the JSON error is
        # the one to show.
        documents = _yaml_documents(text)
        try:
            first = next(documents, None)
        except _ParseError:
            raise _ParseError(problem) from None
        if isinstance(first, _Refused) and first.syntax:
            first = _Refused(f"{problem}{first.message[first.message.rindex(';'):]}", syntax=True)
        if first is not None:
            yield first
        yield from documents
        return
    yield from _yaml_documents(text)


_JSON_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _json_with_item_lines(text: str) -> tuple[Any, list[int] | None]:
    """The JSON document, with the line of each `items` entry (see `_walk_json_object`); invalid
    JSON is decoded whole again, so its error is the one `json.loads` gives."""
    try:
        return _walk_json_object(text)
    except json.JSONDecodeError:
        return json.loads(text), None


def _walk_json_object(text: str) -> tuple[Any, list[int] | None]:
    """The JSON document, and for an object with an `items` array (a `List` dump) the line where
    each item starts, so a finding in `kubectl get -o json` output names its own line, not line 1.

    The top-level object is walked key by key with the C decoder's `raw_decode`, which decodes
    each value (and each item) where it starts: the same work as `json.loads`, plus the positions.
    Anything else is decoded whole, with no lines."""
    decoder = json.JSONDecoder()
    start = _JSON_WHITESPACE.match(text).end()  # type: ignore[union-attr]
    if not text.startswith("{", start):
        return decoder.decode(text), None
    result: dict[str, Any] = {}
    item_lines: list[int] | None = None
    line, counted = 1, 0

    def line_at(position: int) -> int:
        nonlocal line, counted
        line += text.count("\n", counted, position)
        counted = position
        return line

    def skip(position: int) -> int:
        return _JSON_WHITESPACE.match(text, position).end()  # type: ignore[union-attr]

    def expect(position: int, char: str) -> int:
        if not text.startswith(char, position):
            raise json.JSONDecodeError(f"Expecting '{char}'", text, position)
        return skip(position + 1)

    position = skip(start + 1)
    if text.startswith("}", position):
        return decoder.decode(text), None
    while True:
        key, position = decoder.raw_decode(text, position)
        if not isinstance(key, str):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, position)
        position = expect(skip(position), ":")
        if key == "items" and text.startswith("[", position):
            items: list[Any] = []
            lines: list[int] = []
            position = skip(position + 1)
            while not text.startswith("]", position):
                lines.append(line_at(position))
                item, position = decoder.raw_decode(text, position)
                items.append(item)
                position = skip(position)
                if text.startswith(",", position):
                    position = skip(position + 1)
                    if text.startswith("]", position):
                        raise json.JSONDecodeError("Expecting value", text, position)
                elif not text.startswith("]", position):
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
            result[key], item_lines = items, lines
            position = skip(position + 1)
        else:
            result[key], position = decoder.raw_decode(text, position)
            position = skip(position)
        if text.startswith(",", position):
            position = skip(position + 1)
            continue
        position = expect(position, "}")
        if position != len(text):
            raise json.JSONDecodeError("Extra data", text, position)
        return result, item_lines


# A JSON string, escapes included: it holds no nodes, whatever characters it holds.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_EMPTY = re.compile(r"\[\s*\]|\{\s*\}")


def _check_json_size(text: str) -> None:
    """Refuse JSON that would build more than `MAX_NODES` values before `json.loads` builds them.
    Every value but the first follows `,`, `:`, `[` or `{` outside a string; counting them in the
    whole text (at memory speed) is enough for nearly every file. Only when that count is too
    high are the values counted: the same characters outside strings (a large text full of
    commas holds no value), less the empty `[]` and `{}`, which open nothing."""
    if _node_bound(text, is_json=True) <= MAX_NODES:
        return
    structure = _JSON_STRING.sub('""', text)
    nodes = _node_bound(structure, is_json=True) - len(_JSON_EMPTY.findall(structure))
    if nodes > MAX_NODES:
        raise _ParseError(f"more than {MAX_NODES:,} nodes, too many to parse safely, not read")


def _node_bound(text: str, is_json: bool) -> int:
    """At least the number of nodes `text` can hold: every node but the first follows one of
    these characters, and every explicitly tagged YAML node holds a `!` (str.count runs at memory
    speed, so this costs nothing). Below `MAX_NODES`, the YAML loader need not count."""
    separators = ",:[{" if is_json else ",:[{\n-?!"
    return 1 + sum(text.count(c) for c in separators)


def _long_number_line(text: str) -> str:
    """`line N: ` for the first number too long for Python (json.loads does not say where)."""
    found = re.search(r"[-\d]\d{4300}", text)
    return f"line {text.count(chr(10), 0, found.start()) + 1}: " if found else ""


def _flatten(value: Any, line: int | None, document: int, item_lines: list[int] | None
             ) -> Iterator[Document]:
    if isinstance(value, dict) and isinstance(value.get("kind"), str) and value["kind"].endswith("List") \
            and isinstance(value.get("items"), list):
        for index, item in enumerate(value["items"]):
            item_line = item_lines[index] if item_lines and index < len(item_lines) else line
            yield item, item_line, document, index
    else:
        yield value, line, document, None


@functools.lru_cache(maxsize=1)
def _loader_class() -> Any:
    """The manifest loader over PyYAML's safe loader, the C one when it is built (nothing is
    said when it is not: the pure-Python one gives the same result, slower)."""
    import yaml

    return _manifest_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _manifest_loader(base: Any) -> Any:
    """`base` (a safe loader) minus the implicit timestamp type: the API server's YAML reader
    keeps `2024-01-01` a string, so a namespace or label spelled like a date must stay one here
    too (and `2024-13-45` must not fail as a bad date).

    Even the C loader calls Python for every node, to resolve its tag and to construct it; two
    shortcuts there make it nearly twice as fast on manifests, with the same result to the type."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    str_tag, map_tag, seq_tag = base.DEFAULT_SCALAR_TAG, base.DEFAULT_MAPPING_TAG, base.DEFAULT_SEQUENCE_TAG
    # The other types a plain scalar can resolve to; a merge key `<<`, a value key `=` and every
    # explicit tag are left to PyYAML.
    scalar_constructors = {tag: base.yaml_constructors[tag] for tag in (
        "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")}

    class ManifestLoader(base):  # type: ignore[misc, valid-type]
        # Shared by every loader of the class: a tag depends only on its implicit resolvers.
        _plain_scalar_tags: dict[str, str] = {}

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            """The base method tries the implicit types' regular expressions on every plain
            scalar, while manifests repeat the same few thousand (`name`, `TCP`, `true`): its
            answer is remembered. Without path resolvers (none is ever added) that answer
            depends on the text alone, and is the default tag for anything else."""
            if self.yaml_path_resolvers:
                return super().resolve(kind, value, implicit)
            if kind is ScalarNode:
                if not implicit[0]:  # not plain (quoted, or tagged `!`): never an implicit type
                    return str_tag
                tags = self._plain_scalar_tags
                tag = tags.get(value)
                if tag is None:
                    tag = super().resolve(kind, value, implicit)
                    # Bounded, so a file of distinct (or very long) scalars cannot grow it.
                    if len(value) <= MAX_REMEMBERED_SCALAR:
                        if len(tags) >= MAX_REMEMBERED_SCALARS:
                            tags.clear()
                        tags[value] = tag
                return tag
            if kind is MappingNode:
                return map_tag
            if kind is SequenceNode:
                return seq_tag
            return super().resolve(kind, value, implicit)

        def construct_document(self, node: Any) -> Any:
            """PyYAML constructs every node through generic machinery made for aliases (several
            calls per scalar, a generator per mapping). A document that is a plain tree, as
            nearly every manifest is, is built directly; any other (an alias, a merge key, an
            explicit tag, a scalar that fails to construct) is built by PyYAML from the start,
            so its value, or its error, is PyYAML's own."""
            try:
                return self._plain_tree(node)
            except Exception:
                return super().construct_document(node)

        def _plain_tree(self, root: Any) -> Any:
            """The document's value when it holds only mappings, sequences and the scalars of the
            implicit types; raises otherwise. Iterative, for documents nested 1,000 deep."""
            if root.__class__ is ScalarNode:
                return self._plain_scalar(root)
            seen: set[int] = set()  # a collection met twice is an alias
            stack: list[tuple[Any, Any]] = []

            def enter(node: Any) -> dict | list:
                if id(node) in seen:
                    raise _NotPlain
                seen.add(id(node))
                collection = self._plain_collection(node)
                stack.append((collection, node))
                return collection

            value = enter(root)
            while stack:
                collection, node = stack.pop()
                if collection.__class__ is dict:
                    for key_node, value_node in node.value:
                        key = self._plain_scalar(key_node)  # a scalar: always hashable
                        collection[key] = (self._plain_scalar(value_node) if value_node.__class__ is ScalarNode
                                           else enter(value_node))
                else:
                    for item_node in node.value:
                        collection.append(self._plain_scalar(item_node) if item_node.__class__ is ScalarNode
                                          else enter(item_node))
            return value

        def _plain_scalar(self, node: Any) -> Any:
            if node.__class__ is not ScalarNode:
                raise _NotPlain
            if node.tag == str_tag:
                return node.value
            construct = scalar_constructors.get(node.tag)
            if construct is None:
                raise _NotPlain
            return construct(self, node)

        def _plain_collection(self, node: Any) -> dict | list:
            if node.__class__ is MappingNode and node.tag == map_tag:
                return {}
            if node.__class__ is SequenceNode and node.tag == seq_tag:
                return []
            raise _NotPlain

    ManifestLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return ManifestLoader


class _NotPlain(Exception):
    """A YAML node the direct construction leaves to PyYAML."""


# A document boundary: `---` at the start of a line, alone or followed by a space. YAML allows
# it nowhere else (not even inside a quoted or block scalar), so parsing may resume there.
_BOUNDARY = re.compile(r"^---(?=[ \t\r\n]|\Z)", re.MULTILINE)


class _TextFrom:
    """`text[start:stop]` as a stream: a parser resumes after a bad document without a copy of
    the rest of the text."""

    def __init__(self, text: str, start: int, stop: int) -> None:
        self.text, self.position, self.stop = text, start, stop

    def read(self, size: int = -1) -> str:
        end = self.stop if size < 0 else min(self.position + size, self.stop)
        chunk = self.text[self.position:end]
        self.position += len(chunk)
        return chunk


def _yaml_documents(text: str) -> Iterator[Document | _Refused]:
    """Every document of `text`. A document that cannot be parsed is refused with its line and
    parsing resumes at the next document boundary; one that cannot be constructed (a mapping key
    that is itself a mapping, a number Python cannot hold) is refused alone."""
    loader_class = _loader_class()
    _check_yaml_size(text, loader_class)
    yield from _segment(text, loader_class, 0, len(text), 0, 0)


def _segment(text: str, loader_class: Any, start: int, stop: int, first_line: int, document: int
             ) -> Generator[Document | _Refused, None, int]:
    """The documents of `text[start:stop]`, whose first line is `first_line` (0-based) and first
    document `document`; returns the index of the document after them."""
    import yaml

    resume: int | None = start
    opened = False  # whether the document that could not be parsed is one after the last parsed
    while resume is not None:
        if resume != start:
            first_line += text.count("\n", start, resume)
            document += opened
            start = resume
        whole = start == 0 and stop == len(text)
        loader = None
        previous_end, resume = start, None  # where the last document parsed ended
        try:
            loader = loader_class(text if whole else _TextFrom(text, start, stop))  # the Python reader checks here
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                end = start + node.end_mark.index
                line = first_line + node.start_mark.line + 1
                yield from _document(loader, node, text, previous_end, end, line, document)
                previous_end = end
                document += 1
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            where = ""
            if mark is not None:
                where = f"line {first_line + mark.line + 1}, column {mark.column + 1}: "
                resume = _next_boundary(text, previous_end, start + mark.index, stop)
                opened = _opened(text, previous_end, start + mark.index, stop)
            yield _Refused(f"{where}invalid YAML: {err.problem or err.context}; " + _after(resume), syntax=True)
        except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. a control character
            # libyaml counts the position in UTF-8 bytes, the Python reader in characters.
            before = (text[start:stop].encode("utf-8")[:err.position].decode("utf-8", "ignore")
                      if issubclass(loader_class, getattr(yaml, "CParser", ())) else text[start:start + err.position])
            bad = start + len(before)
            # Either reader checks text ahead of the documents it parses: those before the bad
            # one may not have been parsed yet.
            own = _last_boundary(text, previous_end, bad)
            if own is not None and own > previous_end:
                document = yield from _segment(text, loader_class, previous_end, own,
                                               first_line + text.count("\n", start, previous_end), document)
            line, column = first_line + before.count("\n") + 1, len(before) - before.rfind("\n")
            resume = _next_boundary(text, own if own is not None else previous_end, bad, stop)
            opened = True
            character = err.character if isinstance(err.character, int) else ord(err.character)
            yield _Refused(f"line {line}, column {column}: invalid YAML: {err.reason} (#x{character:04x}); "
                           + _after(resume), syntax=True)
        except yaml.YAMLError as err:
            raise _ParseError(f"invalid YAML: {_first_sentence(err)}") from None
        finally:
            if loader is not None:
                loader.dispose()
    return document


def _after(resume: int | None) -> str:
    return "the document is not read" if resume is not None else "the rest of the file is not read"


def _check_yaml_size(text: str, loader_class: Any) -> None:
    """Refuse a file that would build more than `MAX_NODES` nodes, before any is built.

    The syntax's upper bound settles nearly every file at memory speed. Above it (a big dump, a
    ConfigMap holding a large text), the nodes are counted from the parser's events, which are
    dropped as they come: a scalar, a sequence or a mapping is one node, an alias none. The count
    stops as soon as what is left of the text cannot hold enough nodes to pass the limit."""
    if _node_bound(text, is_json=False) <= MAX_NODES:
        return
    import yaml
    from yaml.events import CollectionStartEvent, DocumentEndEvent, ScalarEvent

    # Upper bounds of the nodes each chunk of the text can hold, then of it and all the chunks after it.
    chunk = 1 << 20
    after = [_node_bound(text[i:i + chunk], is_json=False) for i in range(0, len(text), chunk)] + [0]
    for i in range(len(after) - 2, -1, -1):
        after[i] += after[i + 1]
    nodes = 0
    start: int | None = 0
    while start is not None:
        parser = None
        previous_end, resume, checked = start, None, -1
        try:
            parser = loader_class(text if start == 0 else _TextFrom(text, start, len(text)))
            while parser.check_event():
                event = parser.get_event()
                end: Any = event.end_mark  # always set by the parsers
                if isinstance(event, (ScalarEvent, CollectionStartEvent)):
                    nodes += 1
                    if nodes > MAX_NODES:
                        raise _ParseError(f"more than {MAX_NODES:,} nodes, too many to parse safely, not read")
                    current = (start + end.index) // chunk
                    if current != checked:
                        checked = current
                        if nodes + after[current] <= MAX_NODES:
                            return
                elif isinstance(event, DocumentEndEvent):
                    previous_end = start + end.index
        except yaml.MarkedYAMLError as err:  # parsing resumes after it, and so does the count
            mark = err.problem_mark or err.context_mark
            if mark is not None:
                resume = _next_boundary(text, previous_end, start + mark.index, len(text))
        except yaml.reader.ReaderError as err:
            # The text before a bad character is parsed, but the reader may have stopped the count
            # ahead of it: count it at its upper bound.
            before = (text[start:].encode("utf-8")[:err.position].decode("utf-8", "ignore")
                      if issubclass(loader_class, getattr(yaml, "CParser", ())) else text[start:start + err.position])
            nodes += _node_bound(text[previous_end:start + len(before)], is_json=False)
            if nodes > MAX_NODES:
                raise _ParseError(f"more than {MAX_NODES:,} nodes, too many to parse safely, not read") from None
            resume = _next_boundary(text, previous_end, start + len(before), len(text))
        except yaml.YAMLError:
            resume = None
        finally:
            if parser is not None:
                parser.dispose()
        start = resume


def _document(loader: Any, node: Any, text: str, start: int, end: int, line: int, document: int
              ) -> Iterator[Document | _Refused]:
    """The composed document `node` (text[start:end]) constructed and flattened, or refused."""
    import yaml

    # Anchors live within one document; without an anchor (&) and an alias (*) in its
    # text no node can be shared, so nothing can expand and the walk is skipped.
    may_alias = text.find("&", start, end) >= 0 and text.find("*", start, end) >= 0
    refusal = _expansion_problem(node) if may_alias else None
    if refusal:
        yield _Refused(f"line {line}: {refusal}; the document is not read")
        return
    try:
        value = _construct(loader, node)
    except yaml.MarkedYAMLError as err:  # a mapping key that is a mapping or a list, an unknown tag
        mark = err.problem_mark or err.context_mark
        at = line + mark.line - node.start_mark.line if mark else line
        yield _Refused(f"line {at}: invalid YAML: {err.problem or err.context}; the document is not read")
        return
    except (ValueError, TypeError, OverflowError) as err:
        # A scalar Python cannot hold: an integer of more than 4,300 digits, a
        # `!!timestamp 2024-13-45`.
        at = _failing_scalar_line(loader, node, err, line)
        yield _Refused(f"line {at}: invalid YAML: {_first_sentence(err)}; the document is not read")
        return
    except (KeyError, IndexError) as err:
        # PyYAML's own slips on explicitly tagged values: `!!bool maybe`, `!!int ""`.
        at = _failing_scalar_line(loader, node, err, line)
        yield _Refused(f"line {at}: invalid YAML: a value its explicit tag cannot hold "
                       f"({_first_sentence(err)}); the document is not read")
        return
    yield from _flatten(value, line, document, _item_lines(node))


def _construct(loader: Any, node: Any) -> Any:
    try:
        return loader.construct_document(node)
    except Exception:
        # PyYAML forgets what it built of a document only once it is built: a failed one's nodes
        # must not be taken for the next one's, whose nodes may reuse their ids.
        loader.constructed_objects, loader.recursive_objects, loader.state_generators = {}, {}, []
        raise


def _next_boundary(text: str, previous_end: int, error: int, stop: int) -> int | None:
    """Where parsing may resume after an error at `error`: the first boundary before `stop`, on
    the error's line or after it, that does not open the failing document itself (which began
    after `previous_end`), or None."""
    own = _own_marker(text, previous_end, stop)
    # Never one before the end of the last document parsed: parsing would go round in circles.
    for found in _BOUNDARY.finditer(text, max(text.rfind("\n", 0, error) + 1, previous_end), stop):
        if found.start() != own:
            return found.start()
    return None


def _own_marker(text: str, previous_end: int, stop: int) -> int | None:
    """The boundary that opens the document after `previous_end`, or None if it has none."""
    own = _BOUNDARY.search(text, previous_end, stop)
    if own is None or not _blank(text[previous_end:own.start()]):
        return None  # something came before it: the document began without a marker
    return own.start()


def _opened(text: str, previous_end: int, error: int, stop: int) -> bool:
    """Whether a document began after `previous_end` and before an error at `error` (or the
    error is a slip at the end of the last one parsed, such as a stray `}`)."""
    own = _own_marker(text, previous_end, stop)
    return (own is not None and own < error) or not _blank(text[previous_end:error])


def _last_boundary(text: str, previous_end: int, position: int) -> int | None:
    """The start of the last boundary after `previous_end` and before `position`, or None."""
    last = None
    for found in _BOUNDARY.finditer(text, previous_end, position):
        last = found.start()
    return last


def _blank(text: str) -> bool:
    """Nothing but blank lines, comments, directives and document ends."""
    return all(not line.strip() or line.lstrip().startswith(("#", "%")) or line.strip() == "..."
               for line in text.splitlines())


def _failing_scalar_line(loader: Any, root: Any, err: BaseException, line: int) -> int:
    """The line of the scalar whose construction raised `err` (PyYAML's error does not say):
    the first scalar of the document that fails the same way on its own, else the document's."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.id != "scalar":
            stack.extend(reversed(children(node)))
            continue
        construct = loader.yaml_constructors.get(node.tag)
        if construct is None:
            continue
        try:
            construct(loader, node)
        except Exception as own:
            if type(own) is type(err) and str(own) == str(err):
                return line + node.start_mark.line - root.start_mark.line
    return line


def _first_sentence(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text.split("; ")[0][:200]


def _expansion_problem(root: Any) -> str | None:
    """Why a composed YAML document must not be constructed, or None.

    An alias makes the node graph share the anchored node, so a few lines can stand for a
    billion nodes: `safe_yaml.measure_expansion` sizes it as if every alias were expanded."""
    measured = measure_expansion(root, scalar_depth=1)
    if measured is None:
        return None
    if measured.recursive:
        return "refused: an alias refers to a node that contains it (a recursive document)"
    if measured.added > MAX_ALIAS_NODES:
        return (f"refused: its aliases expand it by {measured.added:,} nodes, more than the {MAX_ALIAS_NODES:,} "
                "allowed (a YAML bomb?)")
    if measured.depth > MAX_DEPTH:
        return f"refused: its aliases nest it {measured.depth:,} levels deep, more than the {MAX_DEPTH:,} allowed"
    return None


def _item_lines(node: Any) -> list[int] | None:
    """Lines of the `items` of a YAML List, so each flattened object keeps its own line."""
    for key, value in getattr(node, "value", []) if node.id == "mapping" else []:
        if getattr(key, "value", None) == "items" and value.id == "sequence":
            return [item.start_mark.line + 1 for item in value.value]
    return None


def _source_object(obj: Any, line: int | None, document: int, item: int | None, *, display: str,
                   skipped: _Notes, refused: _Notes) -> SourceObject | None:
    """The document as a Kubernetes object, or None (noted in `skipped` unless it is empty)."""
    if obj is None:
        return None  # an empty document, e.g. a trailing `---`
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str) \
            or not isinstance(obj.get("apiVersion"), str):
        if is_helm_values(obj):  # a log shipper chart's values: its configuration is scanned (rule DS009)
            return SourceObject(HELM_VALUES_KIND, "", obj,
                                Origin(file=display, line=line, document=document, item=item))
        where = f"line {line}" if line else f"document {document}"
        skipped.add(f"{where}: not a Kubernetes object (no apiVersion and kind)")
        return None
    metadata = obj.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    if namespace is not None and not isinstance(namespace, str):
        # kubectl refuses it too; read as `default`, it would put the object in the wrong namespace.
        where = f"line {line}" if line else f"document {document}"
        refused.add(f"{where}: metadata.namespace must be a string, not {type(namespace).__name__} "
                    f"{namespace!r}: the document is not read")
        return None
    return SourceObject(obj["kind"], obj["apiVersion"], obj,
                        Origin(file=display, line=line, document=document, item=item))
